#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# app=nethostile: every malformed TX request of issue 11 section 1 put on
# the ring by a guest is answered as netback's rules say (non-fatal ones:
# every slot XEN_NETIF_RSP_ERROR; fatal ones: the vif is disabled, the
# reason in the backend's error node, and the guest recovers by
# reconnecting), a good frame after each is answered OKAY, netback stays
# up, and a second guest on the same bridge is pinged from the host the
# whole time without losing one echo.
. "$(dirname "$0")/net_lib.bash"
need_net

B_IP=10.99.0.3
start_guest other "app=netecho" "vif = [ $(vif_item $B_IP) ]"
wait_line other "^netecho: ready ip=$B_IP" 600 || { fail other_guest_ready "$(show other)"; finish; }
nb=$(netback_pid)

host_drv ping $B_IP 100000000 until-lost > "$WORK/ping.out" &
PING=$!
wait_for 100 grep -qE 'tx_packets [1-9]' "$TANDEM_RUNDIR"/netback/*.0

start_guest hostile "app=nethostile mode=all peer=$HOST_IP" "vif = [ $(vif_item 10.99.0.2) ]"
HOSTILE=$LAST_PID
wait_rc "$HOSTILE" $((1200 * $(emulation_factor)))
grep "^nethostile: case=" "$WORK/hostile.out" | sed 's/^/# /'
if [ $RC = 0 ] && grep -q "^nethostile: ok nonfatal=5 fatal=8 good=14" "$WORK/hostile.out"; then
    pass every_case_answered_as_the_rules_say
else
    fail every_case_answered_as_the_rules_say "status $RC: $(show hostile)"
fi
n_ok=$(grep -c "^nethostile: case=.* ok$" "$WORK/hostile.out")
[ "$n_ok" = 13 ] && pass thirteen_cases_ok || fail thirteen_cases_ok "$n_ok of 13 case lines end in ok"

if kill -0 "$PING" 2>/dev/null; then
    pass other_guest_pinged_without_loss
    kill -TERM "$PING"
else
    fail other_guest_pinged_without_loss "the pinger stopped: $(cat "$WORK/ping.out")"
fi
wait "$PING" 2>/dev/null
[ -n "$nb" ] && [ "$(netback_pid)" = "$nb" ] && kill -0 "$nb" 2>/dev/null &&
    pass netback_stays_up || fail netback_stays_up "pid $nb gone ($(netback_pid))"
if out=$(host_drv udp $B_IP 1000); then pass "other_guest_echo_after ($out)"; else fail other_guest_echo_after "$out"; fi
finish

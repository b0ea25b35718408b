#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# A guest on the network: app=netecho behind netfront + tandem-netback on a
# bridge, reached from a host namespace (net_lib.bash: namespaces, bridge
# and veth made by the test). 1,000 pings without loss; UDP echo of 10,000
# datagrams of sizes 1..1472, every byte checked (net_driver.py); then
# netback SIGKILLed under traffic and restarted: the guest reconnects and
# ping and echo pass again. Under emulation the counts are the same; only
# the waits are longer.
. "$(dirname "$0")/net_lib.bash"
need_net

GIP=10.99.0.2
start_guest echo "app=netecho" "vif = [ $(vif_item $GIP) ]"
GUEST=$LAST_PID
if wait_line echo "^netecho: ready ip=$GIP" 600; then
    pass guest_connects
else
    fail guest_connects "$(show echo)"
    finish
fi

# The frontend's keys as netback needs them (split event channels: netback offers them).
dom=$(xs ls /local/domain/0/backend/vif 2>/dev/null | awk '{print $1; exit}')
FE=/local/domain/$dom/device/vif/0
keys="$(xs read "$FE/request-rx-copy" "$FE/feature-rx-notify" "$FE/feature-sg" 2>&1 | tr '\n' ' ')"
if [ "$keys" = "1 1 0 " ] && xs read "$FE/event-channel-tx" "$FE/event-channel-rx" > /dev/null 2>&1 &&
    [ "$(xs read "$FE/state")" = 4 ]; then
    pass frontend_keys
else
    fail frontend_keys "domain '$dom': '$keys' $(xs ls "$FE" 2>&1 | tr '\n' ' ')"
fi

if out=$(host_drv ping $GIP 1000); then pass "ping_1000 ($out)"; else fail ping_1000 "$out"; fi
if out=$(host_drv udp $GIP 10000); then pass "udp_echo_10000 ($out)"; else fail udp_echo_10000 "$out"; fi

# SIGKILL under traffic (pings until the first one lost), then a new netback.
host_drv ping $GIP 1000000 until-lost > /dev/null &
PING=$!
old=$(netback_pid)
rx() { awk '$1=="rx_packets"{print $2}' "$TANDEM_RUNDIR"/netback/*.0 2>/dev/null; }
before=$(rx)
wait_for 100 eval 'test "$(rx)" -gt "$((before + 20))"'   # eval: rx again each try
kill -KILL "$old"
wait_gone "$old" 50 && pass netback_killed_by_pid || fail netback_killed_by_pid "pid $old still alive"
wait_gone "$PING" $((100 * $(emulation_factor))) || kill -TERM "$PING" 2>/dev/null
wait "$PING" 2>/dev/null
restart_netback
if wait_line echo "netfront 0: reconnected" 600 &&
    wait_for $((200 * $(emulation_factor))) host_drv ping $GIP 1; then
    pass guest_reconnects
else
    fail guest_reconnects "$(show echo)"
fi
if out=$(host_drv ping $GIP 200); then pass "ping_after_restart ($out)"; else fail ping_after_restart "$out"; fi
if out=$(host_drv udp $GIP 1000); then pass "udp_echo_after_restart ($out)"; else fail udp_echo_after_restart "$out"; fi
grep -q "reconnecting" "$WORK/echo.out" && pass frontend_saw_the_backend_go ||
    fail frontend_saw_the_backend_go "$(show echo)"
finish

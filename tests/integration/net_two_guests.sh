#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Two guests on one bridge: app=netbench udp-stream in one sends 100,000
# UDP datagrams to app=netecho in the other, which echoes each back;
# every echo is checked byte for byte (a corrupted one fails), and the
# number lost is reported (UDP may lose some; more than 1 % fails). Then
# 1,000 ping-pongs guest to guest, none lost. The counts are the same
# under emulation; only the waits are longer.
. "$(dirname "$0")/net_lib.bash"
need_net

B_IP=10.99.0.3
start_guest echo "app=netecho" "vif = [ $(vif_item $B_IP) ]"
wait_line echo "^netecho: ready ip=$B_IP" 600 || { fail echo_guest_ready "$(show echo)"; finish; }

result() { grep "^netbench:" "$WORK/$1.out"; }
start_guest stream "app=netbench mode=udp-stream peer=$B_IP size=512 count=100000" \
    "vif = [ $(vif_item 10.99.0.2) ]"
wait_rc "$LAST_PID" $((3000 * $(emulation_factor)))
line=$(result stream)
echo "# $line"
if [ $RC = 0 ] && [[ $line =~ sent=100000\ received=([0-9]+)\ lost=([0-9]+)\ corrupted=0 ]] &&
    [ "${BASH_REMATCH[2]}" -le 1000 ]; then
    pass "stream_100000 (lost ${BASH_REMATCH[2]})"
else
    fail stream_100000 "status $RC: $(show stream)"
fi

start_guest pp "app=netbench mode=udp-pingpong peer=$B_IP size=64 count=1000" \
    "vif = [ $(vif_item 10.99.0.4) ]"
wait_rc "$LAST_PID" $((1200 * $(emulation_factor)))
line=$(result pp)
echo "# $line"
if [ $RC = 0 ] && [[ $line =~ sent=1000\ received=1000\ lost=0\ corrupted=0 ]]; then
    pass pingpong_1000
else
    fail pingpong_1000 "status $RC: $(show pp)"
fi
finish

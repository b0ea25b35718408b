#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Debian's kernel on Tandem's network backend: xen-netfront <-> tandem-netback
# on a bridge in a namespace the test makes (net_lib.bash), reached from a
# host namespace. Two Linux guests and Tandem's own guest (app=netecho) on
# the one bridge. The first Linux guest pings the host, receives 200 UDP
# datagrams and 256 MiB over TCP with a checksum at both ends, and pings the
# other two; the host
# pings all three and echoes UDP through Tandem's guest; `tandem shutdown`
# ends both Linux guests.
. "$(dirname "$0")/linux_lib.bash"
# One vCPU each: three guests and 256 MiB share the test machine's one core.
LINUX_VCPUS=1
need_linux
need_file "$TANDEM_BIN/tandem-netback"
linux_net

L1=10.99.0.2 L2=10.99.0.3 TG=10.99.0.4
linux_start l2 "lt.run=wait lt.ip=$L2/24" "vif = [ $(vif_item $L2) ]" 'on_poweroff = "destroy"'
P2=$LAST_PID
start_guest tg "app=netecho" "vif = [ $(vif_item $TG) ]"
wait_for $((900 * $(emulation_factor))) has_lt l2 ready && pass second_linux_guest_up ||
    fail second_linux_guest_up "$(lshow l2)"
wait_line tg "^netecho: ready ip=$TG" 600 && pass tandem_guest_up || fail tandem_guest_up "$(show tg)"

linux_start l1 "lt.run=net lt.ip=$L1/24 lt.host=$HOST_IP lt.peers=$L2,$TG" \
    "vif = [ $(vif_item $L1) ]" 'on_poweroff = "destroy"'
P1=$LAST_PID
if wait_for $((900 * $(emulation_factor))) has_lt l1 listening; then
    [ "$(lt l1 ping)" = 20 ] && pass linux_pings_host_20_of_20 || fail linux_pings_host_20_of_20 "received '$(lt l1 ping)'"
    mac=$(lt l1 "net up")
    [ -n "$mac" ] && pass "netfront_has_its_mac ($mac)" || fail netfront_has_its_mac "$(lshow l1)"
    # 200 numbered UDP datagrams, 2 ms apart, to the guest's nc -u -l.
    inhost python3 - "$L1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1, 201):
    s.sendto(b"udp-%d\n" % i, (sys.argv[1], 7001))
    time.sleep(0.002)
PY
    # 256 MiB from the host namespace, its sum computed as it is sent.
    sent=$(inhost python3 - "$L1" <<'PY'
import hashlib, os, socket, sys, time
n, h = 256 << 20, hashlib.sha256()
for attempt in range(100):
    try:
        s = socket.create_connection((sys.argv[1], 7000), timeout=30)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("cannot connect")
left = n
while left:
    b = os.urandom(min(left, 1 << 16))
    h.update(b)
    s.sendall(b)
    left -= len(b)
s.shutdown(socket.SHUT_WR)
s.close()
print(n, h.hexdigest())
PY
)
    if wait_for $((1200 * $(emulation_factor))) has_lt l1 tcp_bytes; then
        got=$(lt l1 tcp_bytes)
        [ "$got" = "${sent% *} sum ${sent#* }" ] && pass tcp_256mib_checksums_match ||
            fail tcp_256mib_checksums_match "sent '$sent', guest got '$got'"
    else
        fail tcp_256mib_checksums_match "the guest never finished: sent '$sent': $(lshow l1)"
    fi
else
    fail linux_guest_listens "$(lshow l1)"
fi
if wait_for $((900 * $(emulation_factor))) has_lt l1 done; then
    [ "$(lt l1 udp)" = 200 ] && pass linux_receives_200_udp_datagrams || fail linux_receives_200_udp_datagrams "got '$(lt l1 udp)' of 200"
    [ "$(lt l1 "peer $L2")" = 10 ] && pass linux_pings_linux || fail linux_pings_linux "'$(lt l1 "peer $L2")'"
    [ "$(lt l1 "peer $TG")" = 10 ] && pass linux_pings_tandem_guest || fail linux_pings_tandem_guest "'$(lt l1 "peer $TG")'"
else
    fail linux_guest_finishes "$(lshow l1)"
fi
for ip in $L1 $L2 $TG; do
    if out=$(host_drv ping $ip 100); then pass "host_pings_$ip ($out)"; else fail "host_pings_$ip" "$out"; fi
done
if out=$(host_drv udp $TG 1000); then pass "udp_echo_beside_linux ($out)"; else fail udp_echo_beside_linux "$out"; fi

for g in l1 l2; do "$TANDEM" shutdown "$g" > "$WORK/$g.shut" 2>&1; done
wait_rc "$P1" $((600 * $(emulation_factor)))
r1=$RC
wait_rc "$P2" $((600 * $(emulation_factor)))
[ "$r1" = 0 ] && [ "$RC" = 0 ] && pass linux_guests_shut_down || fail linux_guests_shut_down "status $r1 and $RC"
finish

#!/bin/bash
# tandem-test: guest kvm-xen (boots Linux: KVM with Xen support; in the test machine where the host has none)
# tandem-test-vm-seconds: 420 (in the test machine; tests/run.sh shares files out by it)
# tandem-test-timeout: 1000 (298-603 s seen in the test machine, 256 MiB over TCP under emulation)
# Debian's kernel on Tandem's network backend: xen-netfront <-> tandem-netback
# on a bridge in a namespace the test makes (net_lib.bash), reached from a
# host namespace. Two Linux guests and Tandem's own guest (app=netecho) on
# the one bridge. The first Linux guest pings the host, receives 256 MiB
# over TCP with a checksum at both ends, fetches 256 KiB over UDP (TFTP from
# the host namespace), and pings the other two; the host
# pings all three and echoes UDP through Tandem's guest; `tandem shutdown`
# ends both Linux guests.
. "$(dirname "$0")/linux_lib.bash"
# One vCPU each: three guests and 256 MiB share the test machine's one core.
LINUX_VCPUS=1
need_linux
need_file "$TANDEM_BIN/tandem-netback"
linux_net

L1=10.99.0.2 L2=10.99.0.3 TG=10.99.0.4
# 256 MiB over TCP, in the test machine too (docs/testing.md); LINUX_NET_MIB
# to change it.
MIB=${LINUX_NET_MIB:-256}
linux_start l2 "lt.run=wait lt.ip=$L2/24" "vif = [ $(vif_item $L2) ]" 'on_poweroff = "destroy"'
P2=$LAST_PID
start_guest tg "app=netecho" "vif = [ $(vif_item $TG) ]"
wait_for $((900 * $(emulation_factor))) has_lt l2 ready && pass second_linux_guest_up ||
    fail second_linux_guest_up "$(lshow l2)"
wait_line tg "^netecho: ready ip=$TG" 600 && pass tandem_guest_up || fail tandem_guest_up "$(show tg)"

# UDP: a TFTP server in the host namespace (RFC 1350, read requests only)
# serving 256 KiB of random bytes, which the guest fetches with busybox tftp.
head -c $((256 << 10)) /dev/urandom > "$WORK/lt-udp"
udp_sum=$(sha256sum < "$WORK/lt-udp" | cut -d' ' -f1)
cat > "$WORK/tftpd.py" <<'PY'
import socket, struct, sys
addr, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind((addr, 69))
while True:
    req, peer = srv.recvfrom(1024)
    if struct.unpack("!H", req[:2])[0] != 1:   # RRQ only
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.settimeout(2)
    block = 1
    while True:
        chunk = data[(block - 1) * 512:block * 512]
        pkt = struct.pack("!HH", 3, block & 0xffff) + chunk
        for tries in range(20):
            s.sendto(pkt, peer)
            try:
                ack, _ = s.recvfrom(64)
            except socket.timeout:
                continue
            if ack[:2] == b"\x00\x04" and struct.unpack("!H", ack[2:4])[0] == block & 0xffff:
                break
        else:
            break
        if len(chunk) < 512:
            break
        block += 1
    s.close()
PY
inhost python3 "$WORK/tftpd.py" "$HOST_IP" "$WORK/lt-udp" > "$WORK/tftpd.log" 2>&1 &
BG_PIDS+=($!)

linux_start l1 "lt.run=net lt.ip=$L1/24 lt.host=$HOST_IP lt.peers=$L2,$TG" \
    "vif = [ $(vif_item $L1) ]" 'on_poweroff = "destroy"'
P1=$LAST_PID
if wait_for $((900 * $(emulation_factor))) has_lt l1 listening; then
    [ "$(lt l1 ping)" = 20 ] && pass linux_pings_host_20_of_20 || fail linux_pings_host_20_of_20 "received '$(lt l1 ping)'"
    mac=$(lt l1 "net up")
    [ -n "$mac" ] && pass "netfront_has_its_mac ($mac)" || fail netfront_has_its_mac "$(lshow l1)"
    # 256 MiB from the host namespace, its sum computed as it is sent.
    # A send that makes no progress for 30 s (x the emulation factor) ends
    # the transfer; the FAIL line then shows both ends' state.
    sent=$(inhost python3 - "$L1" "$MIB" $((30 * $(emulation_factor))) 2> "$WORK/sender.err" <<'PY'
import hashlib, os, socket, sys, time
n, h = int(sys.argv[2]) << 20, hashlib.sha256()
for attempt in range(100):
    try:
        s = socket.create_connection((sys.argv[1], 7000), timeout=int(sys.argv[3]))
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("cannot connect")
left = n
try:
    while left:
        b = os.urandom(min(left, 1 << 16))
        h.update(b)
        s.sendall(b)
        left -= len(b)
except OSError:
    print("sent", n - left, file=sys.stderr)
    raise
s.shutdown(socket.SHUT_WR)
s.close()
print(n, h.hexdigest())
PY
)
    if [ -z "$sent" ]; then
        fail tcp_${MIB}mib_checksums_match "the host's sender stopped: $(tail -n 1 "$WORK/sender.err") after $(sed -n 's/^sent //p' "$WORK/sender.err" | tail -n 1) bytes; netback: $(nb_state); $(lshow l1)"
    elif wait_for $((1200 * $(emulation_factor))) has_lt l1 tcp_bytes; then
        got=$(lt l1 tcp_bytes)
        [ "$got" = "${sent% *} sum ${sent#* }" ] && pass tcp_${MIB}mib_checksums_match ||
            fail tcp_${MIB}mib_checksums_match "sent '$sent', guest got '$got'"
    else
        fail tcp_${MIB}mib_checksums_match "the guest never finished: sent '$sent'; netback: $(nb_state); $(lshow l1)"
    fi
else
    fail linux_guest_listens "$(lshow l1)"
fi
if wait_for $((900 * $(emulation_factor))) has_lt l1 done; then
    [ "$(lt l1 tftp)" = "$((256 << 10)) $udp_sum" ] && pass linux_fetches_256kib_over_udp_tftp ||
        fail linux_fetches_256kib_over_udp_tftp "guest got '$(lt l1 tftp)', host served $udp_sum"
    [ "$(lt l1 "peer $L2")" = 10 ] && pass linux_pings_linux || fail linux_pings_linux "'$(lt l1 "peer $L2")'"
    [ "$(lt l1 "peer $TG")" = 10 ] && pass linux_pings_tandem_guest || fail linux_pings_tandem_guest "'$(lt l1 "peer $TG")'"
else
    fail linux_guest_finishes "netback: $(nb_state); $(lshow l1)"
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

#!/bin/bash
# tandem-test: guest kvm-xen (boots Linux: KVM with Xen support; in the test machine where the host has none)
# tandem-test-vm-seconds: 150 (in the test machine; tests/run.sh shares files out by it)
# A Linux guest killed mid-I/O leaves dom0 serving the others (issue 13 §4):
# Debian's kernel writes and reads /dev/xvda in a loop (xen-blkfront ->
# tandem-blkback) and streams TCP to the host namespace (xen-netfront ->
# tandem-netback) beside Tandem's own guest (app=netecho on the same
# netback); its tandem-vmm is then killed with SIGKILL, the hardest way a
# domain can go. The same blkback and netback processes stay up, drop the
# dead domain's devices (xenstore, the tap), keep echoing UDP through the
# other guest without a loss, and serve a new guest's disk (app=blkverify).
. "$(dirname "$0")/linux_lib.bash"
LINUX_VCPUS=1
need_linux
need_file "$TANDEM_BIN/tandem-blkback"
need_file "$TANDEM_BIN/tandem-netback"
linux_net

L=10.99.0.2 TG=10.99.0.4
A=$WORK/victim.img B=$WORK/other.img
truncate -s 64M "$A" "$B"

# The host's end of the guest's TCP stream: counts what arrives.
cat > "$WORK/sink.py" <<'PY'
import os, socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 7001))
srv.listen(4)
total = 0
while True:
    c, _ = srv.accept()
    while True:
        try:
            b = c.recv(1 << 16)
        except OSError:
            break
        if not b:
            break
        total += len(b)
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(str(total))
        os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    c.close()
PY
inhost python3 "$WORK/sink.py" "$HOST_IP" "$WORK/sink.count" > "$WORK/sink.log" 2>&1 &
BG_PIDS+=($!)

start_guest tg "app=netecho" "vif = [ $(vif_item $TG) ]"
linux_start victim "lt.run=busy lt.ip=$L/24 lt.host=$HOST_IP" "vif = [ $(vif_item $L) ]" \
    "disk = [ '$A,raw,xvda,rw' ]" 'on_poweroff = "destroy"'
PV=$LAST_PID
wait_line tg "^netecho: ready ip=$TG" 600 && pass tandem_guest_up || fail tandem_guest_up "$(show tg)"

sink_bytes() { cat "$WORK/sink.count" 2>/dev/null || echo 0; }
disk_passes() { grep -c "^LT: disk_pass" "$WORK/victim.out" 2>/dev/null; }
busy() { [ "$(disk_passes)" -ge 2 ] && [ "$(sink_bytes)" -ge $((1 << 20)) ]; }
if wait_for $((900 * $(emulation_factor))) has_lt victim busy && wait_for $((600 * $(emulation_factor))) busy; then
    pass "linux_guest_busy_on_disk_and_net ($(disk_passes) disk passes, $(sink_bytes) bytes sent)"
else
    fail linux_guest_busy_on_disk_and_net "disk passes $(disk_passes), bytes $(sink_bytes): $(lshow victim)"
fi

bb=$(cat "$BLKBACK_PIDF" 2>/dev/null) nb=$(netback_pid)
domid=$("$TANDEM" domid victim 2>/dev/null)
vpid=$("$TANDEM" list -l victim 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["vmm_pid"])' 2>/dev/null)
if [ -n "$vpid" ] && [ -n "$domid" ] && [ -n "$bb" ] && [ -n "$nb" ]; then
    before=$(sink_bytes)
    kill -KILL "$vpid"
    wait_rc "$PV" $((300 * $(emulation_factor)))
    [ "$RC" != 0 ] && [ "$RC" != 124 ] && pass "tandem_run_reports_the_killed_domain (status $RC)" ||
        fail tandem_run_reports_the_killed_domain "status $RC: $(tail -n 3 "$WORK/victim.err" | tr '\n' '|')"
    [ "$(sink_bytes)" -gt 0 ] && [ "$before" -gt 0 ] && pass "killed_mid_stream ($before bytes before the kill)" ||
        fail killed_mid_stream "nothing streamed"
    kill -0 "$bb" 2>/dev/null && [ "$(cat "$BLKBACK_PIDF" 2>/dev/null)" = "$bb" ] && pass blkback_survives ||
        fail blkback_survives "blkback $bb: $(tail -n 3 "$TANDEM_RUNDIR/blkback/log" 2>/dev/null | tr '\n' '|')"
    kill -0 "$nb" 2>/dev/null && [ "$(netback_pid)" = "$nb" ] && pass netback_survives ||
        fail netback_survives "netback $nb: $(tail -n 3 "$NB_LOG" 2>/dev/null | tr '\n' '|')"
    gone() {
        ! xs exists "/local/domain/0/backend/vbd/$domid" && ! xs exists "/local/domain/0/backend/vif/$domid" &&
            ! insw ip link show "vif$domid.0" > /dev/null 2>&1
    }
    wait_for $((300 * $(emulation_factor))) gone && pass dead_domains_devices_removed ||
        fail dead_domains_devices_removed "$(xs ls /local/domain/0/backend 2>&1 | tr '\n' ' ')"
else
    fail linux_guest_found "vmm pid '$vpid', domid '$domid', blkback '$bb', netback '$nb'"
fi

if out=$(host_drv udp $TG 1000); then pass "udp_echo_through_the_other_guest ($out)"; else fail udp_echo_through_the_other_guest "$out"; fi
if out=$(host_drv ping $TG 50); then pass "host_pings_the_other_guest ($out)"; else fail host_pings_the_other_guest "$out"; fi
start_guest after "app=blkverify dev=xvda blocks=512" "disk = [ '$B,raw,xvda,rw' ]"
wait_rc "$LAST_PID" $((300 * $(emulation_factor)))
[ $RC = 0 ] && grep -q "^blkverify: ok" "$WORK/after.out" && pass blkback_serves_a_new_guest ||
    fail blkback_serves_a_new_guest "status $RC: $(show after)"
[ "$(cat "$BLKBACK_PIDF" 2>/dev/null)" = "$bb" ] && kill -0 "$bb" 2>/dev/null && [ "$(netback_pid)" = "$nb" ] &&
    kill -0 "$nb" 2>/dev/null && pass backends_still_the_same_processes ||
    fail backends_still_the_same_processes "blkback $bb -> $(cat "$BLKBACK_PIDF" 2>/dev/null), netback $nb -> $(netback_pid)"
finish

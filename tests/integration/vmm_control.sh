#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# The control socket (docs/control-socket.md): mode 0600, info, memory and
# xenstore-ring fds, errors, pause/unpause, destroy (exit 8); SIGTERM
# (exit 8), a forced shutdown (exit 3) and a second VMM with the same id.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm vmm_control
GUEST=$GUESTDIR/tandem-guest.elf
need_file vmm_control "$GUEST" || exit 0
RUN=$TMP/run
MEM=64

start_idle() { # name domid -> PID, console in $TMP/name.con
    "$VMM" --kernel "$GUEST" --cmdline app=idle --memory $MEM --domid "$2" --name ctltest \
        --uuid 12345678-1234-1234-1234-123456789abc --run-dir "$RUN" \
        --console "file:$TMP/$1.con" > "$TMP/$1.out" 2> "$TMP/$1.err" < /dev/null &
    PID=$!
    PIDS+=("$PID")
    wait_for "$TMP/$1.con" '^idle:' 20
}

wait_exit() { # pid timeout -> RC (124 if still running)
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if kill -0 "$1" 2>/dev/null; then RC=124; return; fi
    wait "$1"
    RC=$?
}

if start_idle ctl 7; then
    # A second VMM for the same domain id must refuse to start.
    "$VMM" --kernel "$GUEST" --memory $MEM --domid 7 --run-dir "$RUN" > /dev/null 2> "$TMP/dup.err" < /dev/null
    rc=$?
    if [ $rc = 1 ] && grep -q 'already running' "$TMP/dup.err"; then pass vmm_ctl_duplicate
    else fail vmm_ctl_duplicate "exit $rc: $(cat "$TMP/dup.err")"; fi
    python3 "$ROOT/hypervisor/tests/ctl_client.py" "$RUN/dom7.ctl" $((MEM << 20))
    wait_exit "$PID" 20
    [ "$RC" = 8 ] && pass vmm_ctl_destroy_status || fail vmm_ctl_destroy_status "exit $RC, expected 8"
    [ ! -e "$RUN/dom7.ctl" ] && pass vmm_ctl_socket_removed || fail vmm_ctl_socket_removed "socket left behind"
else
    fail vmm_ctl_start "guest did not reach app=idle: $(tail -n 3 "$TMP/ctl.err")"
fi

if start_idle term 8; then
    kill -TERM "$PID"
    wait_exit "$PID" 20
    [ "$RC" = 8 ] && pass vmm_ctl_sigterm || fail vmm_ctl_sigterm "exit $RC, expected 8"
else
    fail vmm_ctl_sigterm "guest did not start"
fi

if start_idle reboot 9; then
    reply=$(python3 - "$RUN/dom9.ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b"shutdown reason=reboot\n"); print(s.recv(100).decode().strip())
PY
)
    wait_exit "$PID" 20
    [ "$reply" = OK ] && [ "$RC" = 3 ] && pass vmm_ctl_shutdown_reboot ||
        fail vmm_ctl_shutdown_reboot "reply '$reply', exit $RC (expected OK, 3)"
else
    fail vmm_ctl_shutdown_reboot "guest did not start"
fi
# A dom0 service's port end to end: the guest allocates a port for dom0,
# the service binds it, raises it through its irqfd, and gets the guest's
# doorbell back on its kick eventfd.
SCHED=$GUESTDIR/vmm-ctest-sched.elf
if need_file vmm_evtchn_e2e "$SCHED"; then
    "$VMM" --kernel "$SCHED" --cmdline e2e --domid 10 --run-dir "$RUN" \
        --console "file:$TMP/e2e.con" > "$TMP/e2e.out" 2> "$TMP/e2e.err" < /dev/null &
    PID=$!
    PIDS+=("$PID")
    if wait_for "$TMP/e2e.con" '^e2e: port [0-9]+' 20; then
        port=$(sed -n 's/^e2e: port \([0-9]*\).*/\1/p' "$TMP/e2e.con" | head -n 1)
        python3 "$ROOT/hypervisor/tests/evtchn_e2e.py" "$RUN/dom10.ctl" "$port"
        wait_exit "$PID" 20
        [ "$RC" = 0 ] && pass vmm_evtchn_e2e_guest ||
            fail vmm_evtchn_e2e_guest "exit $RC: $(tail -n 2 "$TMP/e2e.con")"
    else
        fail vmm_evtchn_e2e "guest printed no port: $(tail -n 2 "$TMP/e2e.err")"
    fi
fi
# stdin -> the guest's console input ring (seen through the memfd).
mkfifo "$TMP/stdin"
"$VMM" --kernel "$GUEST" --cmdline app=idle --domid 11 --run-dir "$RUN" \
    < "$TMP/stdin" > "$TMP/in.out" 2> "$TMP/in.err" &
PID=$!
PIDS+=("$PID")
exec 3> "$TMP/stdin"
echo "typed-by-the-test" >&3
if wait_sock "$RUN/dom11.ctl" 20; then
    python3 "$ROOT/hypervisor/tests/console_ring.py" "$RUN/dom11.ctl" typed-by-the-test
else
    fail vmm_console_stdin "no control socket"
fi
exec 3>&-
kill -TERM "$PID"
wait_exit "$PID" 20
exit 0

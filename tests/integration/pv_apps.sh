#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# The guest kernel's apps booted through `tandem run` on the real
# tandem-vmm: hello (line + status 0), crash (status 5 + register dump),
# timer (passes), idle + `tandem shutdown` (0) / `tandem reboot` (3), and no
# trace left in xenstore, the run directory or the process table.
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
need_file "$TANDEM_BIN/tandem-vmm"
need_file "$TANDEM_BIN/xenstored"
need_file "$KERNEL"

UUID=6a1d5c3e-7f00-4d2b-9c1a-00000000000
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
has_domid() { [ -n "$(domid_of "$1")" ]; }

# boot NAME CMDLINE [config lines]: runs to the end; output in $WORK/NAME.*
boot() {
    local name=$1 cmdline=$2
    shift 2
    write_cfg "$WORK/$name.cfg" "$name" "$cmdline" "$@"
    timeout 60 "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null
    RC=$?
}

show() { tail -n 15 "$WORK/$1.out" "$WORK/$1.err" | tr '\n' '|'; }

boot hello "app=hello" "uuid = \"${UUID}1\""
if [ $RC = 0 ] && grep -q "hello from tandem guest" "$WORK/hello.out"; then
    pass hello
else
    fail hello "status $RC: $(show hello)"
fi
why=$(nothing_left 1 "${UUID}1") && pass hello_nothing_left || fail hello_nothing_left "$why"

boot crash "app=crash" "uuid = \"${UUID}2\""
if [ $RC = 5 ] && grep -qiE "rip|RIP" "$WORK/crash.out" "$WORK/crash.err"; then
    pass crash_status_5_with_registers
else
    fail crash_status_5_with_registers "status $RC: $(show crash)"
fi
why=$(nothing_left 1 "${UUID}2") && pass crash_nothing_left || fail crash_nothing_left "$why"

boot timer "$(timer_app_args)"
if [ $RC = 0 ] && grep -q "timer: ok" "$WORK/timer.out"; then
    pass timer
else
    fail timer "status $RC: $(show timer)"
fi

# idle: shutdown → 0, reboot (on_reboot=destroy) → 3
idle_end() { # name verb expected-status
    local name=$1 verb=$2 want=$3 id
    write_cfg "$WORK/$name.cfg" "$name" "app=idle" 'on_reboot = "destroy"' "uuid = \"${UUID}$4\""
    start_bg "$name" "$WORK/$name.cfg"
    local p=$LAST_PID
    if ! wait_for 150 has_domid "$name"; then
        fail "$name" "never appeared in xenstore: $(show "$name")"
        return
    fi
    id=$(domid_of "$name")
    # The guest acts on control/shutdown only once its xenstore client
    # watches it; if its xenstore connection failed, say so at once.
    wait_for 150 file_has "$WORK/$name.out" "idle: (waiting for|.*sleeping until destroyed)"
    if ! file_has "$WORK/$name.out" "idle: waiting for"; then
        fail "$name" "the guest could not use xenstore: $(grep -E 'xenstore|idle:' "$WORK/$name.out" | tr '\n' '|')"
        kill -TERM "$p"; wait_rc "$p" 100
        return
    fi
    "$TANDEM" "$verb" "$name"
    wait_rc "$p" 300
    if [ "$RC" != "$want" ]; then
        fail "$name" "status $RC, expected $want: $(show "$name")"
    elif why=$(nothing_left "$id" "${UUID}$4"); then
        pass "$name"
    else
        fail "$name" "$why"
    fi
}
idle_end idle_shutdown_0 shutdown 0 3
idle_end idle_reboot_3 reboot 3 4

# on_reboot = "restart" (the default): a reboot boots the guest again, same
# domid; a shutdown then ends the run with status 0.
boots() { grep -c "idle: waiting for" "$WORK/phoenix.out"; }
two_boots() { [ "$(boots)" -ge 2 ]; }
write_cfg "$WORK/phoenix.cfg" phoenix "app=idle"
start_bg phoenix "$WORK/phoenix.cfg"; p=$LAST_PID
if wait_for 150 file_has "$WORK/phoenix.out" "idle: waiting for"; then
    id=$(domid_of phoenix)
    "$TANDEM" reboot phoenix
    if wait_for 150 two_boots && [ "$(domid_of phoenix)" = "$id" ]; then
        "$TANDEM" shutdown phoenix
        wait_rc "$p" 300
        [ "$RC" = 0 ] && pass reboot_restarts_then_shutdown ||
            fail reboot_restarts_then_shutdown "status $RC after the restart: $(show phoenix)"
    else
        fail reboot_restarts_then_shutdown "no second boot: $(show phoenix)"
        kill -TERM "$p"; wait_rc "$p" 100
    fi
else
    fail reboot_restarts_then_shutdown "first boot did not reach idle: $(show phoenix)"
    kill -TERM "$p"; wait_rc "$p" 100
fi

# Ctrl-C destroys the domain: status 8, nothing left.
write_cfg "$WORK/int.cfg" intr "app=idle" "uuid = \"${UUID}5\""
start_bg intr "$WORK/int.cfg"; p=$LAST_PID
if wait_for 150 has_domid intr; then
    id=$(domid_of intr)
    kill -INT "$p"
    wait_rc "$p" 100
    if [ "$RC" = 8 ] && why=$(nothing_left "$id" "${UUID}5"); then pass sigint_destroys
    else fail sigint_destroys "status $RC $why: $(show intr)"; fi
else
    fail sigint_destroys "never appeared: $(show intr)"
fi
finish

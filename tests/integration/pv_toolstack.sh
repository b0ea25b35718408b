#!/bin/bash
# tandem-test: guest
# The toolstack verbs with the real guest kernel and tandem-vmm (the
# fake-VMM versions are cli_verbs.sh and consoled.sh): create in the
# background, the console through tandem-consoled (input, Ctrl-], the last
# output when the guest powers off), list/vcpu-list/uptime/dmesg of a real
# VMM, create -p, rename across a reboot, on_crash = "preserve", and no
# trace left. Needs /dev/kvm (or the nested test machine, tests/vm/run).
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
need_file "$TANDEM_BIN/tandem-vmm"
need_file "$TANDEM_BIN/xenstored"
need_file "$TANDEM_BIN/tandem-consoled"
need_file "$KERNEL"
DRIVER="python3 $(dirname "$0")/console_driver.py 30"
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }

# ---- create + console: input, detach, the guest's last line ----
write_cfg "$WORK/echo.cfg" echo "app=echo timeout=120"
"$TANDEM" create "$WORK/echo.cfg" 2> "$WORK/err" && pass create || fail create "$(cat "$WORK/err")"
id=$(domid_of echo)
if $DRIVER expect:"echo: ready" send:'ping 1\r' expect:"echo: ping 1" send:'\x1d' exit:0 \
        -- "$TANDEM" console echo > "$WORK/out" 2> "$WORK/err"; then
    pass console_input_detach
else
    fail console_input_detach "$(cat "$WORK/err")"
fi
"$TANDEM" list echo | grep -qE "^echo +$id +32 +1 +r----- " && pass list_running ||
    fail list_running "$("$TANDEM" list)"
"$TANDEM" vcpu-list echo | grep -qE "^echo +$id +0 +[0-9]+ " && pass vcpu_list_real_thread ||
    fail vcpu_list_real_thread "$("$TANDEM" vcpu-list echo)"
"$TANDEM" uptime echo | grep -qE "^echo +$id [0-9]+:[0-9]{2}:[0-9]{2}$" && pass uptime ||
    fail uptime "$("$TANDEM" uptime echo)"
"$TANDEM" dmesg echo > /dev/null && pass dmesg || fail dmesg "no VMM log"
if $DRIVER send:'quit\r' expect:"echo: bye" exit:0 -- "$TANDEM" console echo > "$WORK/out" 2> "$WORK/err" &&
   grep -q "console closed" "$WORK/err"; then
    pass console_last_output_on_poweroff
else
    fail console_last_output_on_poweroff "$(cat "$WORK/err")"
fi
wait_for 100 bash -c "! '$TANDEM' domid echo" && grep -q "echo: ping 1" "$TANDEM_RUNDIR/consoled/guest-echo.log" &&
    pass console_logged || fail console_logged "$(cat "$TANDEM_RUNDIR/consoled/guest-echo.log" 2>&1)"
why=$(nothing_left "$id" "") && pass echo_nothing_left || fail echo_nothing_left "$why"

# ---- create -p, rename, reboot in place ----
write_cfg "$WORK/idle.cfg" idler "app=idle"
"$TANDEM" create -p "$WORK/idle.cfg" 2> "$WORK/err" || fail create_paused "$(cat "$WORK/err")"
id=$(domid_of idler)
"$TANDEM" list idler | grep -qE -- "--p---" && pass create_p_paused || fail create_p_paused "$("$TANDEM" list)"
"$TANDEM" unpause idler
wait_for 300 xs exists "/local/domain/$id/control/feature-reboot" && pass guest_up || fail guest_up "no feature-reboot"
"$TANDEM" rename idler idle2 && "$TANDEM" reboot -w idle2
if wait_for 300 xs exists "/local/domain/$id/control/feature-reboot" && [ "$(domid_of idle2)" = "$id" ]; then
    pass reboot_in_place_keeps_rename
else
    fail reboot_in_place_keeps_rename "$("$TANDEM" list)"
fi
"$TANDEM" shutdown -w idle2 && ! domid_of idle2 > /dev/null && pass shutdown_w || fail shutdown_w "still there"

# ---- on_crash = preserve ----
write_cfg "$WORK/crash.cfg" crashy "app=crash" 'on_crash = "preserve"'
"$TANDEM" create "$WORK/crash.cfg" 2> "$WORK/err"
id=$(domid_of crashy)
wait_for 300 bash -c "'$TANDEM' list crashy | grep -q -- '----c-'" && pass crash_preserved ||
    fail crash_preserved "$("$TANDEM" list; "$TANDEM" dmesg crashy | tail -5)"
"$TANDEM" destroy crashy
why=$(nothing_left "$id" "") && pass preserved_destroyed || fail preserved_destroyed "$why"
finish

#!/bin/bash
# tandem-consoled against the fake VMM (cli_fake_vmm.py, whose "guest"
# writes a real console ring in a memfd and serves `memory` and
# `evtchn-bind port=2`), through `tandem create`, `tandem console` and
# `tandem run`: one pty per domain in xenstore, a log per domain, output
# kept while nobody is attached, input to the guest, Ctrl-] detaching, the
# last output of a domain that ends, a hostile ring. Needs no KVM.
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-consoled"
use_fake_vmm
DRIVER="python3 $(dirname "$0")/console_driver.py 10"
LOGS=$TANDEM_RUNDIR/consoled

domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }

# ---- create: in the background, the console served by consoled ----
write_cfg "$WORK/chatty.cfg" chatty "app=chatty n=300 bind_eagain=3"
if "$TANDEM" create "$WORK/chatty.cfg" > "$WORK/out" 2> "$WORK/err"; then
    pass create_returns
else
    fail create_returns "rc=$? $(cat "$WORK/err")"
fi
id=$(domid_of chatty)
# consoled publishes the pty a moment after the domain appears (`tandem
# console` waits for it, docs/cli.md); under load that moment is longer
wait_for 100 xs exists "/local/domain/$id/console/tty"
tty=$(xs read "/local/domain/$id/console/tty" 2>/dev/null)
[[ "$tty" == /dev/pts/* ]] && pass tty_in_xenstore || fail tty_in_xenstore "console/tty='$tty'"
CONSOLED_PID=$(cat "$TANDEM_RUNDIR/consoled/pid" 2>/dev/null)
[ -n "$CONSOLED_PID" ] && kill -0 "$CONSOLED_PID" 2>/dev/null &&
    pass consoled_started || fail consoled_started "no live pid in consoled/pid"
if wait_for 300 grep -q "chatty line 299" "$LOGS/guest-chatty.log" &&
   [ "$(grep -c '^chatty line' "$LOGS/guest-chatty.log")" = 300 ]; then
    pass log_has_everything
else
    fail log_has_everything "$(tail -n 3 "$LOGS/guest-chatty.log" 2>&1)"
fi
# Nobody was attached: attaching now still shows the output (the pty kept
# it), and Ctrl-] detaches with status 0, leaving the domain running.
if $DRIVER expect:"chatty line 0\n" expect:"chatty line 299" send:'\x1d' exit:0 \
        -- "$TANDEM" console chatty > "$WORK/out" 2> "$WORK/err"; then
    pass output_kept_while_detached
else
    fail output_kept_while_detached "$(cat "$WORK/err")"
fi
[ "$(domid_of chatty)" = "$id" ] && pass detach_leaves_domain || fail detach_leaves_domain "gone"
# a PV domain has no emulated serial port (type = "hvm" has: pc_toolstack.sh)
"$TANDEM" console -t serial chatty > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "has no serial console" "$WORK/err" && pass console_type_serial_none ||
    fail console_type_serial_none "rc=$rc $(cat "$WORK/err")"
"$TANDEM" console -t vga chatty > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass console_type_unknown_refused || fail console_type_unknown_refused "rc=$rc"
"$TANDEM" console nosuch > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "nosuch" "$WORK/err" && pass console_unknown_domain ||
    fail console_unknown_domain "rc=$rc $(cat "$WORK/err")"
"$TANDEM" destroy chatty

# ---- input: typed lines reach the guest, its answers come back ----
write_cfg "$WORK/echo.cfg" echoer "app=echo"
"$TANDEM" create "$WORK/echo.cfg" 2> "$WORK/err" || fail create_echo "$(cat "$WORK/err")"
if $DRIVER expect:"echo: ready" send:'hello there\r' expect:"echo: hello there" \
        send:'quit\r' expect:"echo: bye" exit:0 -- "$TANDEM" console echoer > "$WORK/out" 2> "$WORK/err"; then
    pass console_input_and_last_output
else
    fail console_input_and_last_output "$(cat "$WORK/err")"
fi
grep -q "console closed" "$WORK/err" && pass console_says_domain_ended ||
    fail console_says_domain_ended "$(cat "$WORK/err")"
wait_for 50 bash -c "! '$TANDEM' domid echoer" && pass echo_domain_gone || fail echo_domain_gone "still listed"

# ---- create -c attaches at once ----
write_cfg "$WORK/echo2.cfg" echo2 "app=echo"
if $DRIVER expect:"echo: ready" send:'x\r' expect:"echo: x" send:'quit\r' expect:"echo: bye" exit:0 \
        -- "$TANDEM" create -c "$WORK/echo2.cfg" > "$WORK/out" 2> "$WORK/err"; then
    pass create_c_attaches
else
    fail create_c_attaches "$(cat "$WORK/err")"
fi

# ---- run: the console on stdout, stdin to the guest, the last line too ----
if printf 'via run\rquit\r' | "$TANDEM" run "$WORK/echo.cfg" > "$WORK/out" 2> "$WORK/err" &&
   grep -q "echo: via run" "$WORK/out" && grep -q "echo: bye" "$WORK/out"; then
    pass run_shows_console
else
    fail run_shows_console "$(cat "$WORK/out" "$WORK/err")"
fi

# ---- a domid reused while the ended domain's pty still drains (nobody
# read it: consoled keeps it up to 10 s): run shows its own domain ----
write_cfg "$WORK/gone.cfg" gone "app=chatty n=40"
"$TANDEM" create "$WORK/gone.cfg" 2> "$WORK/err" || fail create_gone "$(cat "$WORK/err")"
gid=$(domid_of gone)
wait_for 300 grep -q "chatty line 39" "$LOGS/guest-gone.log"
"$TANDEM" destroy gone
if [ -e "$LOGS/dom$gid.tty" ]; then
    printf 'quit\r' | "$TANDEM" run -v "$WORK/echo.cfg" > "$WORK/out" 2> "$WORK/err"
    rc=$?
    if ! grep -q "domid $gid," "$WORK/out" "$WORK/err"; then
        fail run_own_console_on_reused_domid "the domid was not reused: $(cat "$WORK/err")"
    elif [ $rc = 0 ] && grep -q "echo: bye" "$WORK/out" && ! grep -q "chatty line" "$WORK/out"; then
        pass run_own_console_on_reused_domid
    else
        fail run_own_console_on_reused_domid "rc=$rc $(head -c 600 "$WORK/out" | tr '\n' '|')"
    fi
else
    fail run_own_console_on_reused_domid "$LOGS/dom$gid.tty is gone already: the case is not tested"
fi

# ---- a reboot in place keeps the domid: its next incarnation is served
# too, while the previous one's pty may still be draining ----
write_cfg "$WORK/rb.cfg" rebooter "app=echo" 'on_reboot = "restart"'
"$TANDEM" create "$WORK/rb.cfg" 2> "$WORK/err" || fail create_rebooter "$(cat "$WORK/err")"
rid=$(domid_of rebooter)
wait_for 100 grep -q "echo: ready" "$LOGS/guest-rebooter.log"
"$TANDEM" reboot -F rebooter
if wait_for 100 bash -c "[ \$(grep -c 'echo: ready' '$LOGS/guest-rebooter.log') = 2 ]" &&
   $DRIVER send:'again\r' expect:"echo: again" send:'\x1d' exit:0 -- "$TANDEM" console rebooter > "$WORK/out" 2> "$WORK/err" &&
   [ "$(domid_of rebooter)" = "$rid" ]; then
    pass reboot_next_incarnation_served
else
    fail reboot_next_incarnation_served "$(cat "$LOGS/guest-rebooter.log" "$WORK/err")"
fi
"$TANDEM" destroy rebooter

# ---- create -p: paused until unpause ----
write_cfg "$WORK/late.cfg" late "app=chatty n=1"
"$TANDEM" create -p "$WORK/late.cfg" 2> "$WORK/err" || fail create_paused "$(cat "$WORK/err")"
"$TANDEM" list late > "$WORK/list" 2>&1
if grep -qE '^late +[0-9]+ +32 +1 +--p---' "$WORK/list" && ! grep -q "chatty line 0" "$LOGS/guest-late.log" 2>/dev/null; then
    pass create_p_paused
else
    fail create_p_paused "$(cat "$WORK/list")"
fi
"$TANDEM" unpause late
wait_for 100 grep -q "chatty line 0" "$LOGS/guest-late.log" && pass unpause_runs ||
    fail unpause_runs "no output after unpause"
"$TANDEM" destroy late

# ---- a hostile ring neither stops consoled nor the other domains ----
write_cfg "$WORK/bad.cfg" bad "app=hostile"
"$TANDEM" create "$WORK/bad.cfg" 2> "$WORK/err" || fail create_hostile "$(cat "$WORK/err")"
if printf 'quit\r' | "$TANDEM" run "$WORK/echo.cfg" > "$WORK/out" 2>&1 && grep -q "echo: bye" "$WORK/out" &&
   kill -0 "$CONSOLED_PID" 2>/dev/null; then
    pass hostile_ring_contained
else
    fail hostile_ring_contained "$(cat "$WORK/out")"
fi
"$TANDEM" destroy bad
finish

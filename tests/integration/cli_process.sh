#!/bin/bash
# tandem's process handling against a fake tandem-vmm (cli_fake_vmm.py) and
# the real xenstored: arguments, status pass-through, domid choice between
# concurrent runs, list/domid/domname, shutdown/reboot through xenstore,
# restart, pause, destroy, signals, and cleanup after a VMM that was killed.
# Needs no KVM.
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/xenstored"
[ -x /usr/bin/xenstore-write ] || { echo "FAIL: setup: Debian xenstore-utils missing"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: setup: python3 missing"; exit 1; }

export TANDEM_VMM=$WORK/fake-vmm FAKE_VMM_LOG=$WORK/vmm.log
cp "$(dirname "$0")/cli_fake_vmm.py" "$TANDEM_VMM"
chmod +x "$TANDEM_VMM"
: > "$FAKE_VMM_LOG"
KERNEL=$WORK/kernel.elf        # the fake never reads it
: > "$KERNEL"

domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
has_domid() { [ -n "$(domid_of "$1")" ]; }

# ---- one domain, status pass-through, arguments ----
write_cfg "$WORK/hello.cfg" hello "app=hello" 'uuid = "0badc0de-0000-4000-8000-000000000001"' 'vcpus = 2'
"$TANDEM" run "$WORK/hello.cfg" > "$WORK/hello.out" 2> "$WORK/hello.err" < /dev/null
rc=$?
if [ $rc = 0 ] && grep -q "hello from tandem guest" "$WORK/hello.out"; then
    pass hello_status_0
else
    fail hello_status_0 "rc=$rc out=$(cat "$WORK/hello.out") err=$(cat "$WORK/hello.err")"
fi
args=$(tail -n 1 "$FAKE_VMM_LOG")
want="--kernel $KERNEL --memory 32 --vcpus 2 --grant-frames 32 --cmdline app=hello --name hello --domid 1 --uuid 0badc0de-0000-4000-8000-000000000001 --cpu-mode=auto --run-dir $TANDEM_RUNDIR --console stdio --console-daemon --xenstore $TANDEM_RUNDIR/xenstored/socket"
[ "$args" = "$want" ] && pass vmm_arguments || fail vmm_arguments "got '$args'"

XSD_PID=$(cat "$TANDEM_RUNDIR/xenstored/pid" 2>/dev/null)
if [ -n "$XSD_PID" ] && kill -0 "$XSD_PID" 2>/dev/null; then
    pass xenstored_started_with_pid_file
else
    fail xenstored_started_with_pid_file "no live pid in $TANDEM_RUNDIR/xenstored/pid"
fi
why=$(nothing_left 1 0badc0de-0000-4000-8000-000000000001) && pass hello_nothing_left || fail hello_nothing_left "$why"

for code in 5 7 4; do
    write_cfg "$WORK/exit.cfg" exiter "app=exit code=$code"
    "$TANDEM" run "$WORK/exit.cfg" > /dev/null 2> "$WORK/exit.err" < /dev/null
    rc=$?
    [ $rc = $code ] && pass "status_passthrough_$code" || fail "status_passthrough_$code" "rc=$rc"
done
[ "$(cat "$TANDEM_RUNDIR/xenstored/pid")" = "$XSD_PID" ] && pass xenstored_reused ||
    fail xenstored_reused "a second xenstored was started"

# ---- two domains at once ----
write_cfg "$WORK/a.cfg" alpha "app=idle" 'on_reboot = "destroy"'
write_cfg "$WORK/b.cfg" beta "app=idle"
start_bg alpha "$WORK/a.cfg"; PA=$LAST_PID
start_bg beta "$WORK/b.cfg"; PB=$LAST_PID
if wait_for 100 has_domid alpha && wait_for 100 has_domid beta; then
    A=$(domid_of alpha) B=$(domid_of beta)
    if [ "$A" != "$B" ] && [ $((A + B)) = 3 ]; then pass two_domains_distinct_domids
    else fail two_domains_distinct_domids "alpha=$A beta=$B"; fi
    xs ls /local/domain > "$WORK/ls" 2>&1
    if grep -q 'name = "alpha"' "$WORK/ls" && grep -q 'name = "beta"' "$WORK/ls"; then
        pass two_domains_in_xenstore
    else
        fail two_domains_in_xenstore "$(cat "$WORK/ls")"
    fi
    "$TANDEM" list > "$WORK/list"
    if grep -qE "^alpha +$A +32 +1 +r----- " "$WORK/list" && grep -qE "^beta +$B +32 +1 +r----- " "$WORK/list" &&
       grep -qE "^Domain-0 +0 " "$WORK/list"; then
        pass list_shows_both
    else
        fail list_shows_both "$(cat "$WORK/list")"
    fi
    [ "$("$TANDEM" domname "$A")" = alpha ] && pass domname || fail domname "$("$TANDEM" domname "$A" 2>&1)"
    "$TANDEM" run "$WORK/a.cfg" > /dev/null 2> "$WORK/dup.err" < /dev/null
    rc=$?
    if [ $rc = 1 ] && grep -q "a domain named 'alpha' already exists" "$WORK/dup.err"; then
        pass duplicate_name_refused
    else
        fail duplicate_name_refused "rc=$rc $(cat "$WORK/dup.err")"
    fi
    "$TANDEM" pause alpha && "$TANDEM" list alpha | grep -qE "^alpha .* --p--- " &&
        "$TANDEM" unpause alpha && "$TANDEM" list alpha | grep -qE "^alpha .* r----- " &&
        pass pause_unpause || fail pause_unpause "$("$TANDEM" list alpha 2>&1)"

    # reboot with on_reboot=destroy ends the run with status 3
    "$TANDEM" reboot alpha
    wait_rc "$PA" 100; rc=$RC
    [ "$rc" = 3 ] && pass reboot_status_3 || fail reboot_status_3 "rc=$rc $(cat "$WORK/alpha.err")"
    why=$(nothing_left "$A" "") && pass reboot_nothing_left || fail reboot_nothing_left "$why"

    # shutdown -w waits for the domain to be gone; status 0
    if timeout 20 "$TANDEM" shutdown -w beta; then
        ! has_domid beta && pass shutdown_wait || fail shutdown_wait "beta still known after -w"
    else
        fail shutdown_wait "tandem shutdown -w failed"
    fi
    wait_rc "$PB" 100; rc=$RC
    [ "$rc" = 0 ] && pass shutdown_status_0 || fail shutdown_status_0 "rc=$rc $(cat "$WORK/beta.err")"
else
    fail two_domains "did not both appear: $(cat "$WORK/alpha.err" "$WORK/beta.err")"
fi

# ---- restart on reboot (the default), then shutdown ----
write_cfg "$WORK/r.cfg" phoenix "app=idle"
start_bg phoenix "$WORK/r.cfg"; P=$LAST_PID
starts() { grep -c -- "--name phoenix " "$FAKE_VMM_LOG"; }
more_starts() { [ "$(starts)" -gt "$before" ]; }
if wait_for 100 has_domid phoenix; then
    before=$(starts)
    "$TANDEM" reboot phoenix
    if wait_for 100 more_starts && wait_for 100 has_domid phoenix; then
        pass reboot_restarts
        wait_for 50 test -S "$TANDEM_RUNDIR/dom$(domid_of phoenix).ctl"
        "$TANDEM" shutdown phoenix
        wait_rc "$P" 100; rc=$RC
        [ "$rc" = 0 ] && pass restarted_then_shutdown || fail restarted_then_shutdown "rc=$rc"
    else
        fail reboot_restarts "no second start: $(cat "$WORK/phoenix.err")"
    fi
else
    fail reboot_restarts "phoenix did not start"
fi

# ---- destroy, signals, a VMM that dies or will not stop ----
# run_and_end NAME APP HOW EXPECTED: HOW = destroy | INT | TERM | none
run_and_end() {
    local name=$1 app=$2 how=$3 want=$4 id rc why
    write_cfg "$WORK/$name.cfg" "$name" "app=$app" "uuid = \"0badc0de-0000-4000-8000-00000000000${5:-9}\""
    start_bg "$name" "$WORK/$name.cfg"
    local p=$LAST_PID
    if [ "$how" != none ]; then
        if ! wait_for 100 has_domid "$name"; then
            fail "$name" "did not start: $(cat "$WORK/$name.err")"
            return
        fi
        wait_for 50 test -S "$TANDEM_RUNDIR/dom$(domid_of "$name").ctl"
    fi
    id=$(domid_of "$name")
    case $how in
        destroy) "$TANDEM" destroy "$name" ;;
        INT|TERM) kill -"$how" "$p" ;;
    esac
    wait_rc "$p" 150; rc=$RC
    if [ "$rc" != "$want" ]; then
        fail "$name" "status $rc, expected $want: $(cat "$WORK/$name.err")"
    elif why=$(nothing_left "${id:-1}" "0badc0de-0000-4000-8000-00000000000${5:-9}"); then
        pass "$name"
    else
        fail "$name" "$why"
    fi
}
run_and_end destroy_gives_8 idle destroy 8 2
run_and_end sigint_gives_8 idle INT 8 3
run_and_end sigterm_gives_8 idle TERM 8 4
run_and_end killed_vmm_cleaned_up die none 8 5
run_and_end stubborn_vmm_killed stubborn TERM 8 6

# ---- -F: a guest without PV control is shut down / rebooted by the VMM ----
fallback() { # name verb expected-status
    write_cfg "$WORK/$1.cfg" "$1" "app=deaf" 'on_reboot = "destroy"'
    start_bg "$1" "$WORK/$1.cfg"
    local p=$LAST_PID
    if wait_for 100 has_domid "$1" && wait_for 50 test -S "$TANDEM_RUNDIR/dom$(domid_of "$1").ctl"; then
        "$TANDEM" "$2" -F "$1"
        wait_rc "$p" 100
        [ "$RC" = "$3" ] && pass "$1" || fail "$1" "status $RC, expected $3: $(cat "$WORK/$1.err")"
    else
        fail "$1" "did not start: $(cat "$WORK/$1.err")"
    fi
}
fallback shutdown_F_without_pv_control shutdown 0
fallback reboot_F_without_pv_control reboot 3

# ---- concurrent starts get distinct domids ----
for n in 1 2 3 4; do
    write_cfg "$WORK/c$n.cfg" "conc$n" "app=idle"
    start_bg "conc$n" "$WORK/c$n.cfg"
done
ok=1
for n in 1 2 3 4; do wait_for 100 has_domid "conc$n" || ok=0; done
ids=$(for n in 1 2 3 4; do domid_of "conc$n"; done | sort -n | tr '\n' ' ')
[ $ok = 1 ] && [ "$ids" = "1 2 3 4 " ] && pass concurrent_domids || fail concurrent_domids "got '$ids'"
"$TANDEM" shutdown -a -w > /dev/null 2>&1
left=$("$TANDEM" list | tail -n +3)
[ -z "$left" ] && pass shutdown_all || fail shutdown_all "$left"

# ---- with xenstored gone, the VMMs' control sockets still answer ----
write_cfg "$WORK/lone.cfg" lone "app=idle"
start_bg lone "$WORK/lone.cfg"; P=$LAST_PID
if wait_for 100 has_domid lone && wait_for 50 test -S "$TANDEM_RUNDIR/dom$(domid_of lone).ctl"; then
    stop_xenstored
    "$TANDEM" list > "$WORK/list" 2>&1
    if grep -qE "^lone +1 +32 +1 +r----- " "$WORK/list" && [ "$("$TANDEM" domid lone)" = 1 ]; then
        pass list_without_xenstored
    else
        fail list_without_xenstored "$(cat "$WORK/list")"
    fi
    "$TANDEM" destroy lone
    wait_rc "$P" 100
    [ "$RC" = 8 ] && pass destroy_without_xenstored || fail destroy_without_xenstored "status $RC"
else
    fail list_without_xenstored "lone did not start: $(cat "$WORK/lone.err")"
fi
finish

#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# tandem save / restore with the real guest kernel (docs/save-restore.md):
#  - an app=echo guest answers on its console, is saved (its VMM gone,
#    nothing of its domid left), restored under a new domid, answers again
#    and says where it woke up;
#  - an app=blkbench guest writing self-checking blocks (qd=16) is saved
#    while requests are in flight and restored: blkfront reconnects to the
#    new domain's backend, resubmits, finishes with errors=0, and a second
#    boot finds every block intact;
#  - a guest that never acknowledges the suspend request: save times out
#    with a clear error, writes no file, and the domain keeps running;
#  - restore of a truncated and of a corrupted file is refused and starts
#    nothing.
. "$(dirname "$0")/blk_lib.bash"
need_blk
need_file "$TANDEM_BIN/tandem-consoled"
F=$(emulation_factor)
DRIVER="python3 $(dirname "$0")/console_driver.py $((30 * F))"
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
gone() { ! domid_of "$1" > /dev/null; }
domains() { xs list /local/domain 2>/dev/null | tr '\n' ' '; }
# The guest's console log (tandem-consoled keeps one per domain name).
con_log() { cat "$TANDEM_RUNDIR/consoled/guest-$1.log" 2>/dev/null; }
con_has() { grep -qE -- "$2" "$TANDEM_RUNDIR/consoled/guest-$1.log" 2>/dev/null; }
uuid_of() { xs read "/local/domain/$1/vm" 2>/dev/null | sed 's|^/vm/||'; }

# ---- echo: the console across a save and a restore ----
write_cfg "$WORK/echo.cfg" echo "app=echo timeout=$((300 * F))"
"$TANDEM" create "$WORK/echo.cfg" 2> "$WORK/err" || fail create_echo "$(cat "$WORK/err")"
old=$(domid_of echo)
old_uuid=$(uuid_of "$old")
wait_for $((300 * F)) xs exists "/local/domain/$old/control/feature-suspend" ||
    fail echo_feature_suspend "never advertised: $(con_log echo | tail -3)"
if $DRIVER expect:"echo: ready" send:'before\r' expect:"echo: before" send:'\x1d' exit:0 \
        -- "$TANDEM" console echo > "$WORK/out" 2> "$WORK/err"; then
    pass echo_answers_before
else
    fail echo_answers_before "$(cat "$WORK/err")"
fi
if "$TANDEM" save -t $((30 * F)) echo "$WORK/echo.save" > "$WORK/save.out" 2> "$WORK/save.err"; then
    pass save_echo
    echo "# $(cat "$WORK/save.out")"
else
    fail save_echo "$(cat "$WORK/save.err") | $(con_log echo | tail -3 | tr '\n' '|')"
fi
[ -s "$WORK/echo.save" ] && [ ! -e "$WORK/echo.save.partial" ] && pass save_file_written ||
    fail save_file_written "$(ls -la "$WORK")"
if wait_for $((100 * F)) gone echo && why=$(nothing_left "$old" "$old_uuid"); then
    pass saved_domain_gone
else
    fail saved_domain_gone "$(domains) ${why:-}"
fi
if "$TANDEM" restore "$WORK/echo.save" 2> "$WORK/err"; then
    pass restore_echo
else
    fail restore_echo "$(cat "$WORK/err") | $(tail -5 "$TANDEM_RUNDIR"/log/dom*.log | tr '\n' '|')"
fi
new=$(domid_of echo)
[ -n "$new" ] && [ "$new" != "$old" ] && pass restored_under_new_domid ||
    fail restored_under_new_domid "old $old new '$new': $(domains)"
if wait_for $((300 * F)) con_has echo "suspend: resumed as domid $new"; then
    pass guest_knows_new_domid
else
    fail guest_knows_new_domid "$(con_log echo | tail -5 | tr '\n' '|')"
fi
if $DRIVER send:'after\r' expect:"echo: after" send:'\x1d' exit:0 \
        -- "$TANDEM" console echo > "$WORK/out" 2> "$WORK/err"; then
    pass echo_answers_after_restore
else
    fail echo_answers_after_restore "$(cat "$WORK/err") | $(con_log echo | tail -5 | tr '\n' '|')"
fi
why=$(nothing_left "$old" "$old_uuid") && pass nothing_of_old_domid ||
    fail nothing_of_old_domid "$why"
"$TANDEM" list echo | grep -qE "^echo +$new +32 +1 +r----- " && pass restored_listed ||
    fail restored_listed "$("$TANDEM" list)"
$DRIVER send:'quit\r' expect:"echo: bye" exit:0 -- "$TANDEM" console echo > /dev/null 2>&1
wait_for $((100 * F)) gone echo && pass restored_powers_off || fail restored_powers_off "$(domains)"

# ---- blkbench: block I/O verified across a save and a restore ----
D=$WORK/s.img
new_disk "$D" 32
DISK="disk = [ $(disk_item "$D" xvda) ]"
LOAD_S=6
emulated && LOAD_S=15
write_cfg "$WORK/blk.cfg" blk \
    "app=blkbench dev=xvda pattern=randwrite bs=4096 qd=16 seconds=$LOAD_S verify=1 warmup-ms=0" "$DISK"
"$TANDEM" create "$WORK/blk.cfg" 2> "$WORK/err" || fail create_blk "$(cat "$WORK/err")"
old=$(domid_of blk)
if wait_for $((300 * F)) grep -q "vbd $old/51712: connected" "$BLKBACK_LOG" &&
   wait_for $((100 * F)) eval 'test "$(du -k "$D" | cut -f1)" -gt 64'; then   # eval: du again each try
    if "$TANDEM" save -t $((30 * F)) blk "$WORK/blk.save" > "$WORK/save.out" 2> "$WORK/save.err"; then
        pass save_under_io
        echo "# $(cat "$WORK/save.out")"
    else
        fail save_under_io "$(cat "$WORK/save.err") | $(con_log blk | tail -3 | tr '\n' '|')"
    fi
    wait_for $((100 * F)) gone blk
    "$TANDEM" restore "$WORK/blk.save" 2> "$WORK/err" || fail restore_blk "$(cat "$WORK/err")"
    new=$(domid_of blk)
    # bounded well inside the runner's 600 s, so that a hang is reported with the guest's log
    wait_for $(((200 + LOAD_S * 10) * F)) gone blk
    line=$(con_log blk | grep "^blkbench:" | tail -1)
    if [[ $line =~ errors=0\ reconnects=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] &&
       con_has blk "suspend: resumed as domid $new"; then
        pass blk_io_carries_on_after_restore
        echo "# $line"
    else
        fail blk_io_carries_on_after_restore "'$line' $(con_log blk | tail -8 | tr '\n' '|') $(tail -3 "$BLKBACK_LOG" | tr '\n' '|')"
    fi
    boot check "app=blkverify dev=xvda mode=check" "$DISK"
    if [ $RC = 0 ] && grep -q "^blkverify: dev=xvda ok" "$WORK/check.out"; then
        pass every_block_intact_after_restore
    else
        fail every_block_intact_after_restore "status $RC: $(show check)"
    fi
else
    fail save_under_io "the device never connected or wrote: $(con_log blk | tail -5 | tr '\n' '|')"
fi

# ---- a guest that never acknowledges ----
# app=idle without xs-features never watches control/shutdown; the test
# claims feature-suspend on its behalf, as a guest that lies would.
write_cfg "$WORK/deaf.cfg" deaf "app=idle xs-features=0"
"$TANDEM" create "$WORK/deaf.cfg" 2> "$WORK/err" || fail create_deaf "$(cat "$WORK/err")"
id=$(domid_of deaf)
xs write "/local/domain/$id/control/feature-suspend" 1
"$TANDEM" save -t 2 deaf "$WORK/deaf.save" > /dev/null 2> "$WORK/err"; rc=$?
if [ $rc = 1 ] && grep -q "did not acknowledge the suspend request within 2 s; it keeps running" "$WORK/err" &&
   [ ! -e "$WORK/deaf.save" ] && [ ! -e "$WORK/deaf.save.partial" ]; then
    pass save_times_out_without_ack
else
    fail save_times_out_without_ack "rc=$rc $(cat "$WORK/err")"
fi
[ "$(domid_of deaf)" = "$id" ] && "$TANDEM" list deaf | grep -qE "^deaf +$id .* r----- " &&
    [ -z "$(xs read "/local/domain/$id/control/shutdown")" ] && pass deaf_domain_keeps_running ||
    fail deaf_domain_keeps_running "$("$TANDEM" list) shutdown='$(xs read "/local/domain/$id/control/shutdown" 2>&1)'"
"$TANDEM" destroy deaf

# ---- bad files start nothing ----
if [ -s "$WORK/echo.save" ]; then
    size=$(stat -c %s "$WORK/echo.save")
    head -c $((size - 4096)) "$WORK/echo.save" > "$WORK/trunc.save"
    cp "$WORK/echo.save" "$WORK/bad.save"
    # one bit of guest memory, near the end of the file
    python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-100, 2); b = f.read(1); f.seek(-100, 2); f.write(bytes([b[0] ^ 0x10]))' "$WORK/bad.save"
    before=$(domains)
    "$TANDEM" restore "$WORK/trunc.save" 2> "$WORK/err"; rc=$?
    [ $rc = 2 ] && grep -q "truncated: .*nothing was started" "$WORK/err" && [ "$(domains)" = "$before" ] &&
        pass restore_truncated_refused || fail restore_truncated_refused "rc=$rc $(cat "$WORK/err")"
    "$TANDEM" restore "$WORK/bad.save" 2> "$WORK/err"; rc=$?
    [ $rc = 2 ] && grep -q "checksum mismatch" "$WORK/err" && [ "$(domains)" = "$before" ] &&
        pass restore_corrupted_refused || fail restore_corrupted_refused "rc=$rc $(cat "$WORK/err")"
fi
finish

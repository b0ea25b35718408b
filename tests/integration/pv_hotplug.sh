#!/bin/bash
# tandem-test: guest
# Disk hotplug with the real guest kernel, tandem-vmm and tandem-blkback:
# a guest created with no disk runs app=blkverify dev=xvdb wait-ms=... hold=1,
# which waits (a xenbus watch) for device/vbd/51728; block-attach gives it
# the disk, the guest writes and verifies it, a second attach of xvdb is
# refused; block-detach walks the backend through Closing to Closed (the
# guest's blkfront closes: no forced removal), both directories go,
# tandem-blkback closes the file, the guest is told (a request after it
# fails with -EIO) and powers off; detaching a disk it does not have is
# refused; nothing is left; a guest waiting for a disk nobody attaches
# is told so. Needs /dev/kvm (or the nested test machine, tests/vm/run).
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
for b in tandem-vmm xenstored tandem-consoled tandem-blkback; do need_file "$TANDEM_BIN/$b"; done
need_file "$KERNEL"
trap 'stop_service blkback; cleanup' EXIT
F=$(emulation_factor)
CON=$TANDEM_RUNDIR/consoled/guest-hp.log
con_has() { grep -qE -- "$1" "$CON" 2>/dev/null; }
show() { tail -n 15 "$CON" "$TANDEM_RUNDIR/blkback/log" 2>/dev/null | tr '\n' '|'; }
blkback_holds() {
    local p
    p=$(cat "$TANDEM_RUNDIR/blkback/pid" 2>/dev/null) || return 1
    ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "$1"
}

IMG=$WORK/hot.img
truncate -s 4M "$IMG"
write_cfg "$WORK/hp.cfg" hp "app=blkverify dev=xvdb blocks=256 gen=7 wait-ms=$((60000 * F)) hold=1"
"$TANDEM" create "$WORK/hp.cfg" 2> "$WORK/err" || { fail create "$(cat "$WORK/err")"; finish; }
id=$("$TANDEM" domid hp)
BE=/local/domain/0/backend/vbd/$id/51728
FE=/local/domain/$id/device/vbd/51728
wait_for $((300 * F)) con_has "^blkverify: waiting for xvdb" && pass guest_waits_for_disk ||
    fail guest_waits_for_disk "$(show)"

if "$TANDEM" block-attach hp "target=$IMG,vdev=xvdb,access=rw" 2> "$WORK/err"; then
    pass block_attach
else
    fail block_attach "$(cat "$WORK/err")"
fi
"$TANDEM" block-attach hp "target=$IMG,vdev=xvdb" > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "domain $id already has disk xvdb" "$WORK/err" && pass attach_twice_refused ||
    fail attach_twice_refused "rc=$rc $(cat "$WORK/err")"

if wait_for $((600 * F)) con_has "^blkverify: dev=xvdb holding until detached" &&
   con_has "^blkverify: dev=xvdb ok blocks=256 mode=write gen=7 "; then
    pass guest_uses_attached_disk
else
    fail guest_uses_attached_disk "$(show)"
fi
hdr=$(echo $(od -An -tx8 -j $((255 * 4096)) -N 24 "$IMG"))
[ "$hdr" = "314b4c424d444e54 00000000000000ff 0000000000000007" ] && pass file_holds_the_blocks ||
    fail file_holds_the_blocks "block 255 header is '$hdr'"
"$TANDEM" block-list hp > "$WORK/list"
grep -qE "^51728 +0 +$id +4 +[0-9]+ +[0-9]+ +$BE" "$WORK/list" && pass block_list_connected ||
    fail block_list_connected "$(cat "$WORK/list")"

"$TANDEM" block-detach hp xvdc > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "domain $id has no disk xvdc" "$WORK/err" && pass detach_missing_refused ||
    fail detach_missing_refused "rc=$rc $(cat "$WORK/err")"

# Detach: no -f, and no warning: the frontend closed in time.
if "$TANDEM" block-detach hp xvdb 2> "$WORK/err" && [ ! -s "$WORK/err" ] &&
   ! xs exists "$BE" && ! xs exists "$FE"; then
    pass block_detach_walks_closing_closed
else
    fail block_detach_walks_closing_closed "$(cat "$WORK/err") $(show)"
fi
wait_for $((100 * F)) eval '! blkback_holds "$IMG"' && pass blkback_closed_the_file ||
    fail blkback_closed_the_file "$(show)"
if wait_for $((300 * F)) con_has "^blkverify: dev=xvdb detached" &&
   con_has "blkfront xvdb: detached by the toolstack"; then
    pass guest_told_of_detach
else
    fail guest_told_of_detach "$(show)"
fi

# The app returns, the guest powers off, nothing is left.
wait_for $((300 * F)) bash -c "! '$TANDEM' domid hp" && con_has "^blkverify: ok blocks=256 devices=1" &&
    pass guest_powered_off || fail guest_powered_off "$(show)"
why=$(nothing_left "$id" "") && ! xs exists "/local/domain/0/backend/vbd/$id" && pass nothing_left ||
    fail nothing_left "$why"

# A guest that waits for a disk nobody attaches is told so, cleanly.
write_cfg "$WORK/lone.cfg" lone "app=blkverify dev=xvdc wait-ms=300"
"$TANDEM" create "$WORK/lone.cfg" 2> "$WORK/err" || fail create_lone "$(cat "$WORK/err")"
LCON=$TANDEM_RUNDIR/consoled/guest-lone.log
wait_for $((300 * F)) grep -q "^blkverify: FAIL xvdc did not appear within 300 ms" "$LCON" &&
    pass wait_times_out || fail wait_times_out "$(tail -5 "$LCON" 2>&1)"
finish

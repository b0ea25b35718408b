#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# A guest with 4 disks (xvda..xvdd, each its own file, the key=value and
# the positional xl forms mixed): blkverify writes disk i with generation
# 10+i; a second boot checks every disk has its own generation (no
# cross-talk), and the toolstack wrote the libxl layout (devids 51712,
# 51728, 51744, 51760; backend and frontend linked both ways).
. "$(dirname "$0")/blk_lib.bash"
need_blk

for i in 0 1 2 3; do new_disk "$WORK/d$i.img" 4; done
DISK="disk = [ $(disk_item "$WORK/d0.img" xvda), '$WORK/d1.img,raw,xvdb,rw', \
'format=raw, vdev=xvdc, access=rw, target=$WORK/d2.img', '$WORK/d3.img,,xvdd' ]"

write_cfg "$WORK/keys.cfg" keys "app=idle" "$DISK"
start_bg keys "$WORK/keys.cfg"
if wait_for 200 xs read /local/domain/0/backend/vbd/1/51760/state; then
    ok=1
    for d in 51712 51728 51744 51760; do
        fe=/local/domain/1/device/vbd/$d be=/local/domain/0/backend/vbd/1/$d
        [ "$(xs read $fe/backend 2>/dev/null)" = "$be" ] &&
        [ "$(xs read $be/frontend 2>/dev/null)" = "$fe" ] &&
        [ "$(xs read $fe/virtual-device 2>/dev/null)" = "$d" ] &&
        [ "$(xs read $be/frontend-id 2>/dev/null)" = 1 ] || ok=0
    done
    [ $ok = 1 ] && pass libxl_layout_and_devids || fail libxl_layout_and_devids "$(xs ls /local/domain/0/backend/vbd 2>&1 | head -20 | tr '\n' '|')"
else
    fail libxl_layout_and_devids "backend of xvdd never appeared: $(show keys)"
fi
"$TANDEM" destroy keys >/dev/null 2>&1
wait_rc "$LAST_PID" 200
wait_for 100 bash -c "! XENSTORED_PATH=$TANDEM_RUNDIR/xenstored/socket xenstore-exists /local/domain/0/backend/vbd/1" &&
    pass backend_dirs_removed_after_destroy || fail backend_dirs_removed_after_destroy "$(xs ls /local/domain/0/backend/vbd 2>&1 | tr '\n' '|')"

boot write4 "app=blkverify dev=xvda,xvdb,xvdc,xvdd gen=10" "$DISK"
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=4096 devices=4 mode=write" "$WORK/write4.out"; then
    pass four_disks_written
else
    fail four_disks_written "status $RC: $(show write4)"
fi
boot check4 "app=blkverify dev=xvda,xvdb,xvdc,xvdd mode=check gen=10" "$DISK"
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=4096 devices=4 mode=check" "$WORK/check4.out"; then
    pass four_disks_each_hold_their_own_data
else
    fail four_disks_each_hold_their_own_data "status $RC: $(show check4)"
fi
# Swapped files: xvda now shows d1's blocks (generation 11), so checking
# it for generation 10 must fail.
SWAP="disk = [ $(disk_item "$WORK/d1.img" xvda), $(disk_item "$WORK/d0.img" xvdb) ]"
boot swapped "app=blkverify dev=xvda mode=check gen=10" "$SWAP"
if [ $RC = 5 ] && grep -q "^blkverify: FAIL dev=xvda block=0 .*wrong generation" "$WORK/swapped.out"; then
    pass swapped_disks_are_told_apart
else
    fail swapped_disks_are_told_apart "status $RC: $(show swapped)"
fi
finish

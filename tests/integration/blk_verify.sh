#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Block devices end to end: app=blkverify writes self-checking blocks
# through blkfront + tandem-blkback, reads them back; a second boot
# (mode=check) finds exactly what the first wrote (right generation, every
# block), a check for another generation fails, and the host sees the
# blocks in the file (block number + magic at the right offsets).
. "$(dirname "$0")/blk_lib.bash"
need_blk

D=$WORK/verify.img
new_disk "$D" 16
DISK="disk = [ $(disk_item "$D" xvda) ]"

boot first "app=blkverify dev=xvda gen=41" "$DISK"
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=4096 devices=1 mode=write" "$WORK/first.out"; then
    pass first_boot_write_and_read_back
else
    fail first_boot_write_and_read_back "status $RC: $(show first)"
fi
[ -n "$(blkback_pid)" ] && kill -0 "$(blkback_pid)" 2>/dev/null &&
    pass blkback_started_with_pid_file || fail blkback_started_with_pid_file "no live pid in $BLKBACK_PIDF"

# The file itself: block 4095 starts with the magic and its number.
hdr=$(echo $(od -An -tx8 -j $((4095 * 4096)) -N 24 "$D"))
if [ "$hdr" = "314b4c424d444e54 0000000000000fff 0000000000000029" ]; then
    pass file_holds_the_blocks
else
    fail file_holds_the_blocks "block 4095 header is '$hdr'"
fi

boot second "app=blkverify dev=xvda mode=check gen=41" "$DISK"
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=4096 devices=1 mode=check" "$WORK/second.out"; then
    pass second_boot_checks_first_boots_data
else
    fail second_boot_checks_first_boots_data "status $RC: $(show second)"
fi

# A pid file naming some other process (a stale one after a reboot, say)
# must not stop `tandem run` from starting a daemon of its own.
stop_blkback
echo $$ > "$BLKBACK_PIDF"
boot stalepid "app=blkverify dev=xvda mode=check gen=41 blocks=16" "$DISK"
p=$(blkback_pid)
[ "$p" = $$ ] && rm -f "$BLKBACK_PIDF"   # never let cleanup signal this shell
if [ $RC = 0 ] && [ "$p" != $$ ] && grep -q "tandem-blkback" "/proc/$p/comm" 2>/dev/null; then
    pass stale_pid_file_gets_a_new_daemon
else
    fail stale_pid_file_gets_a_new_daemon "status $RC, pid file says '$p': $(show stalepid)"
fi

boot wronggen "app=blkverify dev=xvda mode=check gen=42" "$DISK"
if [ $RC = 5 ] && grep -q "^blkverify: FAIL dev=xvda block=0 bad=4096 of 4096 (wrong generation)" "$WORK/wronggen.out"; then
    pass check_of_another_generation_fails
else
    fail check_of_another_generation_fails "status $RC: $(show wronggen)"
fi

# One corrupted block on the host is found, by number.
printf 'X' | dd of="$D" bs=1 seek=$((1234 * 4096 + 100)) conv=notrunc status=none
boot corrupt "app=blkverify dev=xvda mode=check gen=41" "$DISK"
if [ $RC = 5 ] && grep -q "^blkverify: FAIL dev=xvda block=1234 bad=1 " "$WORK/corrupt.out"; then
    pass host_corruption_is_found
else
    fail host_corruption_is_found "status $RC: $(show corrupt)"
fi
finish

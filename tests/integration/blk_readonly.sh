#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# access=r: the backend says read-only (info = VDISK_READONLY), blkfront
# refuses writes itself, a write put on the ring anyway is answered with
# an error, reads work, and the file is unchanged.
. "$(dirname "$0")/blk_lib.bash"
need_blk

D=$WORK/ro.img
new_disk "$D" 4
printf 'tandem-ro-data' | dd of="$D" bs=1 seek=4096 conv=notrunc status=none
before=$(sha256sum < "$D")

boot ro "app=blkhostile dev=xvda mode=readonly" "disk = [ '$D,raw,xvda,r' ]"
if [ $RC = 0 ] && grep -q "^blkhostile: ok readonly write-refused-locally write-refused-by-backend(status -1) read-ok" "$WORK/ro.out"; then
    pass readonly_disk_refuses_writes
else
    fail readonly_disk_refuses_writes "status $RC: $(show ro)"
fi
[ "$(sha256sum < "$D")" = "$before" ] && pass readonly_file_unchanged || fail readonly_file_unchanged "the file changed"

# The same app on a writable disk must notice it is not read-only.
boot rw "app=blkhostile dev=xvda mode=readonly" "disk = [ '$D,raw,xvda,rw' ]"
if [ $RC = 5 ] && grep -q "^blkhostile: FAIL readonly: the backend did not say read-only" "$WORK/rw.out"; then
    pass writable_disk_is_not_reported_readonly
else
    fail writable_disk_is_not_reported_readonly "status $RC: $(show rw)"
fi
finish

#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# A hostile frontend (app=blkhostile): 12 malformed requests on the ring
# (bad operations, 0/12/255 segments, sectors beyond the disk or
# overflowing, a grant never given, a read-only grant for a READ,
# first_sect > last_sect, last_sect 8, an empty indirect request) each get
# an error response while good writes and reads on the same ring complete
# with the right data; the daemon lives on and serves the next guest.
. "$(dirname "$0")/blk_lib.bash"
need_blk

D=$WORK/h.img
new_disk "$D" 8
DISK="disk = [ $(disk_item "$D" xvda) ]"
boot hostile "app=blkhostile dev=xvda" "$DISK"
if [ $RC = 0 ] && grep -q "^blkhostile: ok hostile=12 good=16 error=10 eopnotsupp=2" "$WORK/hostile.out"; then
    pass malformed_requests_refused_good_ones_served
else
    fail malformed_requests_refused_good_ones_served "status $RC: $(show hostile)"
fi
p=$(blkback_pid)
[ -n "$p" ] && kill -0 "$p" 2>/dev/null && pass blkback_survives || fail blkback_survives "daemon gone: $(show hostile)"
grep -q "refused" "$BLKBACK_LOG" && pass refusals_logged || fail refusals_logged "$(tail -5 "$BLKBACK_LOG" | tr '\n' '|')"
boot after "app=blkverify dev=xvda blocks=256" "$DISK"
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=256" "$WORK/after.out"; then
    pass next_guest_served
else
    fail next_guest_served "status $RC: $(show after)"
fi
finish

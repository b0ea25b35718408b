#!/bin/bash
# tandem-test: guest kvm-xen (boots Linux: KVM with Xen support; in the test machine where the host has none)
# tandem-test-vm-seconds: 110 (in the test machine; tests/run.sh shares files out by it)
# Debian's kernel on Tandem's block backend: xen-blkfront <-> tandem-blkback.
# xvda: a pattern the host wrote is read by the guest, a pattern the guest
# wrote is found by the host. xvdb: an ext4 the host made; the guest mounts
# it, writes 64 MiB of random data with its checksum and unmounts; the host's
# fsck finds it clean and reads the same checksum from the file (debugfs);
# a second boot checks the file again. Also what blkfront negotiated.
. "$(dirname "$0")/linux_lib.bash"
need_linux
need_file "$TANDEM_BIN/tandem-blkback"
for t in mkfs.ext4 e2fsck debugfs sha256sum; do
    command -v $t > /dev/null || skip_all "SKIP: $t is missing (e2fsprogs, coreutils)"
done

A=$WORK/a.img B=$WORK/b.img
head -c $((1 << 20)) /dev/urandom > "$A"
truncate -s 64M "$A"
host_sum=$(head -c $((1 << 20)) "$A" | sha256sum | cut -d' ' -f1)
truncate -s 160M "$B"
mkfs.ext4 -q -F "$B" || { echo "FAIL: setup: mkfs.ext4"; exit 1; }
DISKS="disk = [ '$A,raw,xvda,rw', '$B,raw,xvdb,rw' ]"

linux_boot first "lt.run=disk1 lt.mib=64" 'on_poweroff = "destroy"' "$DISKS"
if [ $RC = 0 ] && has_lt first done; then pass first_boot_runs; else fail first_boot_runs "status $RC: $(lshow first)"; fi
[ "$(lt first host_pattern)" = "$host_sum" ] && pass guest_reads_the_hosts_pattern ||
    fail guest_reads_the_hosts_pattern "guest read '$(lt first host_pattern)', host wrote $host_sum"
gsum=$(dd if="$A" bs=1M skip=4 count=1 status=none | sha256sum | cut -d' ' -f1)
[ -n "$(lt first guest_pattern)" ] && [ "$(lt first guest_pattern)" = "$gsum" ] &&
    pass host_reads_the_guests_pattern ||
    fail host_reads_the_guests_pattern "guest wrote '$(lt first guest_pattern)', host reads $gsum"
[ "$(lt first umount)" = ok ] && pass ext4_unmounts || fail ext4_unmounts "$(lshow first)"
if out=$(e2fsck -fn "$B" 2>&1); then pass fsck_clean_after_first_boot; else fail fsck_clean_after_first_boot "$(echo "$out" | tail -3 | tr '\n' '|')"; fi
fsum=$(debugfs -R "cat /data" "$B" 2>/dev/null | sha256sum | cut -d' ' -f1)
fsize=$(debugfs -R "stat /data" "$B" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -1)
if [ -n "$(lt first data)" ] && [ "$(lt first data)" = "$fsum" ] && [ "$fsize" = $((64 << 20)) ]; then
    pass host_reads_the_guests_64mib_file
else
    fail host_reads_the_guests_64mib_file "guest '$(lt first data)', host $fsum ($fsize bytes)"
fi
# What xen-blkfront negotiated with tandem-blkback (its line in the guest's dmesg).
neg=$(lt first blkfront)
case $neg in
*"flush diskcache: enabled"*"persistent grants: enabled"*"indirect descriptors: enabled"*)
    pass "blkfront_negotiates_flush_persistent_indirect ($neg)";;
*) fail blkfront_negotiates_flush_persistent_indirect "blkfront said '$neg'";;
esac

linux_boot second "lt.run=disk2" 'on_poweroff = "destroy"' "$DISKS"
if [ $RC = 0 ] && [ "$(lt second check)" = ok ] && [ "$(lt second umount)" = ok ]; then
    pass second_boot_finds_the_file_intact
else
    fail second_boot_finds_the_file_intact "status $RC: $(lshow second)"
fi
if out=$(e2fsck -fn "$B" 2>&1); then pass fsck_clean_after_second_boot; else fail fsck_clean_after_second_boot "$(echo "$out" | tail -3 | tr '\n' '|')"; fi
finish

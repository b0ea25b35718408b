#!/bin/bash
# tandem-test: guest kvm-xen
# What the test machine offers Linux guests (tests/vm/image.sh): KVM with
# Xen support (KVM_CAP_XEN_HVM) from the kvm.ko/kvm-amd.ko it rebuilt into
# /lib/modules/KVER/updates, Debian's kernel in /boot, and an initramfs for
# it from the machine's own modules (tests/lib/linux-initramfs.sh).
# Meaningful only inside the machine; on a host's own /dev/kvm it skips.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm vm_kvm_xen
if ! emulated; then
    echo "SKIP: vm_kvm_xen: checks the test machine (tests/vm); this is a host's own KVM"
    exit 77
fi
KVER=$(uname -r)

if [ ! -f "$KVM_XEN_MARKER" ]; then
    fail kvm-xen-marker "$KVM_XEN_MARKER is missing: the image was not made by this tree's tests/vm/image.sh"
elif grep -qx 'status=built' "$KVM_XEN_MARKER"; then
    pass kvm-xen-marker
    cap=$(kvm_cap "$KVM_CAP_XEN_HVM" 2>&1)
    [[ $cap =~ ^[0-9]+$ ]] && [ "$cap" -gt 0 ] && pass "kvm-cap-xen-hvm ($cap)" ||
        fail kvm-cap-xen-hvm "KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM) = '$cap' with $(sed -n 's/^detail=//p' "$KVM_XEN_MARKER")"
    for m in kvm kvm_amd; do
        f=$(modinfo -F filename "$m" 2>&1)
        [[ $f == "/lib/modules/$KVER/updates/"* ]] && pass "modprobe-takes-updates-$m" ||
            fail "modprobe-takes-updates-$m" "modinfo $m names '$f'"
    done
    # need_kvm_xen itself passes here (it exits on a skip or a failure).
    (need_kvm_xen vm_kvm_xen) > "$TMP/need.out" 2>&1 && pass need-kvm-xen ||
        fail need-kvm-xen "$(cat "$TMP/need.out")"
else
    skip kvm-cap-xen-hvm "$(sed -n 's/^detail=//p' "$KVM_XEN_MARKER")"
fi

# Debian's kernel, bootable as a guest (a bzImage: "HdrS" at 0x202), with its config.
if [ "$(dd if="/boot/vmlinuz-$KVER" bs=1 skip=514 count=4 2> /dev/null)" = HdrS ]; then
    pass boot-vmlinuz
else
    fail boot-vmlinuz "/boot/vmlinuz-$KVER is missing or not a bzImage"
fi
grep -qx 'CONFIG_XEN_PVH=y' "/boot/config-$KVER" 2> /dev/null && pass boot-config ||
    fail boot-config "/boot/config-$KVER is missing or has no CONFIG_XEN_PVH=y"

# An initramfs of the default module set from the running kernel's modules.
printf '#!/bin/sh\nexec /bin/sh\n' > "$TMP/init"
if "$ROOT/tests/lib/linux-initramfs.sh" -o "$TMP/initrd.gz" -i "$TMP/init" 2> "$TMP/mk.err"; then
    zcat "$TMP/initrd.gz" | cpio -t --quiet > "$TMP/list"
    missing=
    for m in drivers/block/xen-blkfront.ko drivers/net/xen-netfront.ko fs/ext4/ext4.ko fs/jbd2/jbd2.ko fs/mbcache.ko lib/crc16.ko; do
        grep -qx "lib/modules/$KVER/kernel/$m" "$TMP/list" || missing="$missing $m"
    done
    [ -z "$missing" ] && pass initramfs-default-modules || fail initramfs-default-modules "missing:$missing"
else
    fail initramfs-default-modules "$(cat "$TMP/mk.err")"
fi

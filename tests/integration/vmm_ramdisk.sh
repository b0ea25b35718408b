#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# A ramdisk reaches the guest: our guest, wrapped as an xz bzImage
# (hypervisor/tests/mkbzimage.py), boots with --ramdisk and app=modules
# lists start_info's modules; the last one is the ramdisk at the address
# --check reported, with the file's size and checksum. Without --ramdisk
# the FDT is the only module.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm vmm_ramdisk
GUEST=$GUESTDIR/tandem-guest.elf
need_file vmm_ramdisk "$GUEST" || exit 1
T=$((60 * $(emulation_factor)))

python3 "$ROOT/hypervisor/tests/mkbzimage.py" --comp xz "$GUEST" "$TMP/guest.bz"
head -c 65000 /dev/urandom > "$TMP/initrd"
sum=$(python3 - "$TMP/initrd" <<'PY'
import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%08x" % h)
PY
)

run_vmm vmm_ramdisk_check 60 --check --kernel "$TMP/guest.bz" --memory 64 --ramdisk "$TMP/initrd"
gpa=$(sed -n 's/^ramdisk: \(0x[0-9a-f]*\) size .*/\1/p' "$TMP/vmm_ramdisk_check.out")
if [ "$RC" != 0 ] || [ -z "$gpa" ]; then
    fail vmm_ramdisk "--check: status $RC: $(cat "$TMP/vmm_ramdisk_check.err")"
    exit 0
fi

run_vmm vmm_ramdisk_boot "$T" --kernel "$TMP/guest.bz" --memory 64 --ramdisk "$TMP/initrd" \
    --cmdline app=modules
out=$TMP/vmm_ramdisk_boot.out
if [ "$RC" != 0 ]; then
    fail vmm_ramdisk "exit status $RC: $(tail -n 3 "$TMP/vmm_ramdisk_boot.err" | tr '\n' '|')"
elif ! grep -qx 'modules: 2' "$out" || ! grep -qE '^module 0: paddr=0x10000 ' "$out"; then
    fail vmm_ramdisk "expected the FDT then the ramdisk: $(grep '^module' "$out" | tr '\n' '|')"
elif ! grep -qx "module 1: paddr=$gpa size=65000 fnv1a=$sum" "$out"; then
    fail vmm_ramdisk "want 'module 1: paddr=$gpa size=65000 fnv1a=$sum', got: $(grep '^module 1' "$out")"
else
    pass vmm_ramdisk
fi

run_vmm vmm_ramdisk_none "$T" --kernel "$GUEST" --memory 64 --cmdline app=modules
if [ "$RC" = 0 ] && grep -qx 'modules: 1' "$TMP/vmm_ramdisk_none.out"; then
    pass vmm_ramdisk_none
else
    fail vmm_ramdisk_none "status $RC: $(grep '^module' "$TMP/vmm_ramdisk_none.out" | tr '\n' '|')"
fi
exit 0

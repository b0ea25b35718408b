#!/bin/bash
# tandem-vmm --check (no KVM needed): a bzImage in every format Python can
# write reports the same entry and segments as the ELF inside it; a ramdisk
# lands page-aligned, as high as fits, above the kernel; Debian's own
# bzImage (TANDEM_DEBIAN_BZIMAGE, or the one unpacked in /tmp/kdeb) gets
# past parsing with what an independent reader finds in it.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
GUEST=$GUESTDIR/tandem-guest.elf
MKBZ=$ROOT/hypervisor/tests/mkbzimage.py
need_file vmm_check "$GUEST" || exit 0

# check NAME ARGS...: --check must exit 0 with nothing on stderr.
check() {
    local name=$1
    shift
    run_vmm "$name" 120 --check "$@"
    if [ "$RC" != 0 ] || [ -s "$TMP/$name.err" ]; then
        fail "$name" "status $RC: $(head -c 300 "$TMP/$name.err")"
        return 1
    fi
}

placement() { grep -E '^(entry|segment|image):' "$1"; }

if check vmm_check_elf --kernel "$GUEST"; then
    if grep -qx 'format: ELF' "$TMP/vmm_check_elf.out" && grep -q '^segment: ' "$TMP/vmm_check_elf.out"; then
        pass vmm_check_elf
    else
        fail vmm_check_elf "unexpected report: $(tr '\n' ' ' < "$TMP/vmm_check_elf.out")"
    fi
fi

for comp in gzip bzip2 xz lzma; do
    for sects in 1 0; do
        name=vmm_check_bz_${comp}_sects$sects
        python3 "$MKBZ" --comp "$comp" --setup-sects "$sects" "$GUEST" "$TMP/$name.bz"
        check "$name" --kernel "$TMP/$name.bz" || continue
        if ! grep -qx "format: bzImage 2.15, $comp" "$TMP/$name.out"; then
            fail "$name" "format line: $(grep format "$TMP/$name.out")"
        elif ! diff <(placement "$TMP/vmm_check_elf.out") <(placement "$TMP/$name.out") > "$TMP/$name.diff"; then
            fail "$name" "placement differs from the ELF's: $(tr '\n' ' ' < "$TMP/$name.diff")"
        else
            pass "$name"
        fi
    done
done

# The ramdisk: 12345 bytes in 64 MiB.
head -c 12345 /dev/urandom > "$TMP/rd"
if check vmm_check_ramdisk --kernel "$GUEST" --memory 64 --ramdisk "$TMP/rd"; then
    read -r gpa size < <(sed -n 's/^ramdisk: \(0x[0-9a-f]*\) size \([0-9]*\) .*/\1 \2/p' "$TMP/vmm_check_ramdisk.out")
    end=$(sed -n 's/^image: 0x[0-9a-f]*-\(0x[0-9a-f]*\)$/\1/p' "$TMP/vmm_check_ramdisk.out")
    ram=$((64 << 20))
    if [ -z "${gpa:-}" ] || [ -z "$end" ]; then
        fail vmm_check_ramdisk "no ramdisk/image line: $(tr '\n' ' ' < "$TMP/vmm_check_ramdisk.out")"
    elif [ "$size" != 12345 ] || [ $((gpa % 4096)) != 0 ] || [ $((gpa)) -lt $((end)) ] ||
         [ $((gpa + size)) -gt $ram ] || [ $((gpa + size + 4096)) -le $ram ]; then
        fail vmm_check_ramdisk "ramdisk at $gpa size $size (image ends $end, RAM $ram)"
    else
        pass vmm_check_ramdisk
    fi
fi

DEB=${TANDEM_DEBIAN_BZIMAGE:-$(ls /tmp/kdeb/x/boot/vmlinuz-* 2>/dev/null | head -n 1)}
if [ -z "$DEB" ] || [ ! -r "$DEB" ]; then
    skip vmm_check_debian "no Debian bzImage (set TANDEM_DEBIAN_BZIMAGE=/boot/vmlinuz-...)"
    exit 0
fi
# What the file holds, read with Python's own decompressors: the format,
# the PVH entry note and the PT_LOADs, in --check's words.
python3 - "$DEB" > "$TMP/deb.expect" <<'PY' || { fail vmm_check_debian "cannot read $DEB with Python"; exit 0; }
import bz2, gzip, lzma, struct, sys
f = open(sys.argv[1], "rb").read()
sects = f[0x1f1] or 4
ver, = struct.unpack_from("<H", f, 0x206)
poff, plen = struct.unpack_from("<II", f, 0x248)
p = f[(sects + 1) * 512 + poff:][:plen]
if p[:6] == b"\xfd7zXZ\x00":
    comp, elf = "xz", lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(p)
elif p[:2] == b"\x1f\x8b":
    comp, elf = "gzip", gzip.decompress(p)
elif p[:3] == b"BZh":
    comp, elf = "bzip2", bz2.BZ2Decompressor().decompress(p)
elif p[:3] == b"\x5d\x00\x00":
    comp, elf = "lzma", lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(p)
else:
    sys.exit("compression Python cannot read")
phoff, = struct.unpack_from("<Q", elf, 0x20)
phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
print("format: bzImage %d.%02d, %s" % (ver >> 8, ver & 0xff, comp))
print("elf-size: %d" % len(elf))
loads, entry = [], None
for i in range(phnum):
    t, _, off, _, paddr, fsz, msz, _ = struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
    if t == 1 and msz:
        loads.append((paddr, msz, fsz))
    elif t == 4:
        o = off
        while o + 12 <= off + fsz:
            nsz, dsz, typ = struct.unpack_from("<III", elf, o)
            d = o + 12 + (nsz + 3) // 4 * 4
            if elf[o + 12:o + 16] == b"Xen\x00" and typ == 18 and entry is None:
                entry, = struct.unpack_from("<I", elf, d)
            o = d + (dsz + 3) // 4 * 4
print("entry: %#x" % entry)
for paddr, msz, fsz in loads:
    print("segment: %#x memsz %#x filesz %#x" % (paddr, msz, fsz))
print("image: %#x-%#x" % (min(a for a, _, _ in loads), max(a + m for a, m, _ in loads)))
PY
if check vmm_check_debian --kernel "$DEB" --memory 256; then
    if diff "$TMP/deb.expect" <(grep -E '^(format|elf-size|entry|segment|image):' "$TMP/vmm_check_debian.out") > "$TMP/deb.diff"; then
        pass vmm_check_debian
    else
        fail vmm_check_debian "report differs from Python's reading: $(tr '\n' ' ' < "$TMP/deb.diff")"
    fi
fi
exit 0

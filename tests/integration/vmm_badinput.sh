#!/bin/bash
# Bad input: each case exits with status 2 and exactly one line on stderr,
# and no VM is created (the run directory, made only after the VM exists,
# stays absent).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
GUEST=$GUESTDIR/tandem-guest.elf
printf 'this is not an ELF file\n' > "$TMP/text"
: > "$TMP/empty"

case_() { # name expected-regex args...
    local name=$1 re=$2
    shift 2
    run_vmm "$name" 20 "$@"
    local lines
    lines=$(wc -l < "$TMP/$name.err")
    if [ "$RC" != 2 ]; then
        fail "$name" "exit status $RC, expected 2"
    elif [ "$lines" != 1 ]; then
        fail "$name" "$lines lines on stderr, expected 1"
    elif ! grep -qE "$re" "$TMP/$name.err"; then
        fail "$name" "message '$(cat "$TMP/$name.err")' does not match '$re'"
    elif [ -e "$TMP/run-$name" ]; then
        fail "$name" "a VM was created (run directory exists)"
    else
        pass "$name"
    fi
}

case_ vmm_bad_not_elf 'not an ELF' --kernel "$TMP/text"
case_ vmm_bad_empty 'size 0' --kernel "$TMP/empty"
case_ vmm_bad_no_note 'no PVH entry note' --kernel "$GUESTDIR/vmm-test-nonote.elf"
case_ vmm_bad_missing_kernel 'No such file' --kernel "$TMP/does-not-exist"
case_ vmm_bad_no_kernel 'missing --kernel'
case_ vmm_bad_directory 'not a regular file' --kernel "$TMP"
case_ vmm_bad_memory_zero 'memory' --kernel "$GUEST" --memory 0
case_ vmm_bad_memory_huge 'memory' --kernel "$GUEST" --memory 4096
case_ vmm_bad_memory_junk 'memory' --kernel "$GUEST" --memory 12abc
case_ vmm_bad_vcpus 'vcpus' --kernel "$GUEST" --vcpus 0
case_ vmm_bad_grant_frames_zero 'grant-frames' --kernel "$GUEST" --grant-frames 0
case_ vmm_bad_grant_frames_big 'grant-frames' --kernel "$GUEST" --grant-frames 65
case_ vmm_bad_console 'console' --kernel "$GUEST" --console tty
case_ vmm_bad_cpu_mode 'cpu-mode' --kernel "$GUEST" --cpu-mode fast
case_ vmm_bad_uuid 'uuid' --kernel "$GUEST" --uuid not-a-uuid
case_ vmm_bad_option 'bad option' --kernel "$GUEST" --frobnicate
case_ vmm_bad_tiny_memory 'does not fit' --kernel "$GUEST" --memory 1

# bzImage kernels (hypervisor/tests/mkbzimage.py wraps our guest) and
# ramdisks: each malformed piece is one line and status 2 before KVM.
mkbz() { # name mkbzimage-args...
    local name=$1
    shift
    python3 "$ROOT/hypervisor/tests/mkbzimage.py" "$GUEST" "$TMP/$name.bz" "$@"
}
mkbz good --comp xz && head -c 590 "$TMP/good.bz" > "$TMP/hdr.bz"
mkbz oldproto --version 0x207
mkbz bootflag --boot-flag 0x1234
mkbz outside --payload-length 0x7fffffff
mkbz shortlen --payload-length 4
mkbz cut --comp gzip --cut 200
mkbz corrupt_xz --comp xz --corrupt
mkbz corrupt_bz2 --comp bzip2 --corrupt
mkbz big_trailer --comp gzip --trailer 0x7fffffff
mkbz lie_short --comp xz --trailer 1000
mkbz lie_long --comp bzip2 --trailer 2000000
python3 - "$TMP/good.bz" "$TMP/unknown.bz" "$TMP/lzo.bz" <<'PY'
import sys
good = bytearray(open(sys.argv[1], "rb").read())
pm = (good[0x1f1] + 1) * 512 + int.from_bytes(good[0x248:0x24c], "little")
for out, magic in ((sys.argv[2], b"\x42\x42\x42\x42"), (sys.argv[3], b"\x89LZO")):
    img = bytearray(good)
    img[pm:pm + 4] = magic
    open(out, "wb").write(img)
PY
python3 "$ROOT/hypervisor/tests/mkbzimage.py" "$GUESTDIR/vmm-test-nonote.elf" "$TMP/nonote.bz"
case_ vmm_bad_bz_header 'setup header truncated' --kernel "$TMP/hdr.bz"
case_ vmm_bad_bz_protocol 'older than 2.08' --kernel "$TMP/oldproto.bz"
case_ vmm_bad_bz_boot_flag 'boot flag' --kernel "$TMP/bootflag.bz"
case_ vmm_bad_bz_outside 'payload .* lies outside the file' --kernel "$TMP/outside.bz"
case_ vmm_bad_bz_short 'too short' --kernel "$TMP/shortlen.bz"
case_ vmm_bad_bz_cut 'lies outside the file' --kernel "$TMP/cut.bz"
case_ vmm_bad_bz_unknown 'unknown compression' --kernel "$TMP/unknown.bz"
case_ vmm_bad_bz_lzo 'compressed with lzo, which tandem-vmm does not support' --kernel "$TMP/lzo.bz"
case_ vmm_bad_bz_corrupt_xz 'payload \(xz\) is corrupt' --kernel "$TMP/corrupt_xz.bz"
case_ vmm_bad_bz_corrupt_bzip2 'payload \(bzip2\) (is corrupt|unpacks to more than)' --kernel "$TMP/corrupt_bz2.bz"
case_ vmm_bad_bz_trailer_cap 'trailer says it unpacks to 2147483647 bytes, not in' --kernel "$TMP/big_trailer.bz"
case_ vmm_bad_bz_trailer_short 'unpacks to more than the 1000 bytes its trailer says' --kernel "$TMP/lie_short.bz"
case_ vmm_bad_bz_trailer_long 'but its trailer says 2000000' --kernel "$TMP/lie_long.bz"
case_ vmm_bad_bz_no_note 'no PVH entry note' --kernel "$TMP/nonote.bz"
: > "$TMP/empty.rd"
head -c $((8 << 20)) /dev/zero > "$TMP/big.rd"
case_ vmm_bad_ramdisk_missing 'ramdisk .*: No such file' --kernel "$GUEST" --ramdisk "$TMP/nope.rd"
case_ vmm_bad_ramdisk_dir 'ramdisk .*: not a regular file' --kernel "$GUEST" --ramdisk "$TMP"
case_ vmm_bad_ramdisk_empty 'ramdisk .*: is empty' --kernel "$GUEST" --ramdisk "$TMP/empty.rd"
case_ vmm_bad_ramdisk_too_big "ramdisk .*: 8388608 bytes do not fit" --kernel "$GUEST" --memory 8 \
    --ramdisk "$TMP/big.rd"
case_ vmm_bad_ramdisk_empty_path 'ramdisk: empty path' --kernel "$GUEST" --ramdisk ''
case_ vmm_bad_check_restore 'check needs --kernel' --check --restore "$TMP/empty"
# the PC (--firmware): a ROM that is no ROM, options it does not have yet
head -c 1000 /dev/zero > "$TMP/rom-odd"
case_ vmm_bad_firmware_size 'size 1000 is not a multiple of 65536 in 65536..16777216 bytes' --firmware "$TMP/rom-odd"
case_ vmm_bad_firmware_empty 'size 0 is not a multiple of 65536' --firmware "$TMP/empty"
case_ vmm_bad_firmware_missing 'No such file' --firmware "$TMP/does-not-exist"
[ -f "$ROOT/$BUILD/firmware/bios-256k.bin" ] && case_ vmm_bad_firmware_kernel 'not a bzImage' --firmware "$ROOT/$BUILD/firmware/bios-256k.bin" --kernel "$GUEST"
case_ vmm_bad_firmware_daemon 'no console daemon' --firmware "$TMP/rom-odd" --console-daemon
case_ vmm_bad_firmware_memory 'takes 2..1048576 MiB' --firmware "$TMP/rom-odd" --memory 1
# the PC may have more than 3 GiB (from 4 GiB up), not more than the host
host_pc=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
case_ vmm_bad_memory_host_pc 'larger than the host' --firmware "$TMP/rom-odd" --memory $((host_pc + 1))
case_ vmm_bad_boot_menu 'needs --firmware' --kernel "$GUEST" --boot-menu
# the PC booted directly (--machine pc --kernel): a bzImage with a 64-bit entry
case_ vmm_bad_machine 'expected pvh or pc' --machine sparc --kernel "$GUEST"
case_ vmm_bad_machine_nothing 'needs --firmware ROM or --kernel bzImage' --machine pc
case_ vmm_bad_machine_elf 'not a bzImage' --machine pc --kernel "$GUEST"
case_ vmm_bad_machine_cmdline 'go with --kernel' --firmware "$TMP/rom-odd" --cmdline x
case_ vmm_bad_nic_mac 'bad .mac=00:16:3e:zz' --machine pc --kernel "$GUEST" --nic tap=t0,mac=00:16:3e:zz:00:00
case_ vmm_bad_nic_multicast 'unicast' --machine pc --kernel "$GUEST" --nic tap=t0,mac=01:00:5e:00:00:01
case_ vmm_bad_nic_name 'bad .tap=' --machine pc --kernel "$GUEST" --nic tap=a-name-far-too-long-for-linux
case_ vmm_bad_nic_notap 'tap=NAME is required' --machine pc --kernel "$GUEST" --nic bridge=br0
case_ vmm_bad_nic_key 'is not key=value' --machine pc --kernel "$GUEST" --nic tap
case_ vmm_bad_nic_pvh 'it needs --machine pc or --firmware' --kernel "$GUEST" --nic tap=t0
case_ vmm_bad_disk_pvh 'it needs --machine pc or --firmware' --kernel "$GUEST" --disk "$TMP/empty"
[ -f "$ROOT/$BUILD/firmware/bios-256k.bin" ] && case_ vmm_bad_disk_empty "smaller than one 512-byte sector" --firmware "$ROOT/$BUILD/firmware/bios-256k.bin" --disk "$TMP/empty"

# Larger than the host: only testable when the host has less than the
# 3 GiB guest maximum.
host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
if [ "$host_mib" -lt 3072 ]; then
    case_ vmm_bad_memory_host 'larger than the host' --kernel "$GUEST" --memory $((host_mib + 1))
else
    skip vmm_bad_memory_host "host has ${host_mib} MiB, more than the 3072 MiB guest maximum"
fi
exit 0

# Disk images for the full-emulation PC's boot tests (sourced, not a test
# itself: the runner only runs *.sh). Three images a BIOS boots, made from
# plain files with no loop device, no mount, nothing under /dev: a test can
# build them in a container or in the test machine.
#
#   pc_bootsector_image OUT MESSAGE
#     1 MiB: our own boot sector (tests/integration/pc_bootsector.S) prints
#     MESSAGE, then the first 32 bytes of LBA 1 as read by INT 13h AH=42h,
#     then BIOS-RO (a write to the BIOS's memory did not stay), then
#     BOOT-OK, on COM1; OUT.expect holds that LBA 1 line.
#   pc_grub_image OUT HEXFILE [MIB]
#     Debian's GRUB (grub-pc-bin, i386-pc) installed the way grub-bios-setup
#     installs it on an MBR disk, with an ext2 partition at 1 MiB holding
#     /boot/grub/grub.cfg and /secret.txt (random hex, also in HEXFILE);
#     GRUB talks on the serial port and stops at `grub>`.
#   pc_grub_linux_image OUT KERNEL INITRD CMDLINE [MIB]
#     the same GRUB, whose partition holds a Linux kernel and initrd and a
#     grub.cfg that boots them at once with CMDLINE.
#
# Each function works in its own mktemp -d directory, removed however it
# returns (the bodies are subshells with their own EXIT trap, so the
# sourcing script's traps are left alone). On failure they print
# "pc_images: ..." on stderr and return non-zero.
#
# Needs: binutils (as, ld), coreutils; for GRUB also grub-pc-bin (with
# grub-common's grub-mkimage) and e2fsprogs (mke2fs -d). scripts/deps.sh
# installs them.

PC_IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Where GRUB's i386-pc images and modules are (grub-pc-bin).
PC_GRUB_DIR=${TANDEM_PC_GRUB_DIR:-/usr/lib/grub/i386-pc}

_pc_err() { echo "pc_images: $*" >&2; }

# _pc_hex N: N random bytes from /dev/urandom as 2N lower-case hex digits.
_pc_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# _pc_put FILE OFFSET: writes stdin into FILE at byte OFFSET, in place.
_pc_put() { dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# _pc_bytes FILE OFFSET COUNT: those bytes of FILE as "xx xx ...".
_pc_bytes() { od -An -tx1 -j"$2" -N"$3" "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# _pc_le N WIDTH: N as WIDTH little-endian bytes, as escapes for printf %b.
_pc_le() {
    local n=$1 i
    for ((i = 0; i < $2; i++)); do
        printf '\\x%02x' $((n >> (8 * i) & 255))
    done
}

# _pc_chs LBA: the 3 CHS bytes of an MBR entry (head; sector | cylinder
# bits 8-9 << 6; cylinder bits 0-7) for the usual 255-head, 63-sector
# geometry, or 254/63/1023 (the "use the LBA" marker) past cylinder 1023.
# Only old BIOSes and DOS read these; GRUB and Linux use the LBA fields.
# (Escapes for printf %b.)
_pc_chs() {
    local lba=$1 c h s
    c=$((lba / (255 * 63)))
    h=$((lba / 63 % 255))
    s=$((lba % 63 + 1))
    if [ $c -gt 1023 ]; then c=1023 h=254 s=63; fi
    printf '\\x%02x\\x%02x\\x%02x' $h $((s | (c >> 8) << 6)) $((c & 255))
}

# pc_bootsector_image OUT MESSAGE
# MESSAGE: printable ASCII, up to 180 bytes (the code and it must fit before
# the partition table's place in the 512-byte sector). LBA 1 of OUT holds
# "SECTOR1:" and 24 random hex digits (32 bytes, what the code prints), and
# OUT.expect that line plus a newline. The whole COM1 output is then
#   MESSAGE\r\n SECTOR1:<24 hex>\r\n BIOS-RO\r\n BOOT-OK\r\n
# (BIOS-RW if a write to 0xf0000 stayed: the firmware left its memory
# writable; or "READ-FAIL AH=XX\r\n" in place of the last three if the
# read fails).
pc_bootsector_image() (
    set -u
    if [ $# -ne 2 ]; then
        _pc_err "usage: pc_bootsector_image OUT MESSAGE"
        exit 2
    fi
    out=$1 msg=$2
    export LC_ALL=C # byte lengths and classes (a subshell: the caller's locale stays)
    if [ ${#msg} -gt 180 ] || [[ $msg == *[![:print:]]* ]]; then
        _pc_err "pc_bootsector_image: MESSAGE must be printable ASCII of at most 180 bytes"
        exit 2
    fi
    for tool in as ld; do
        command -v $tool > /dev/null ||
            { _pc_err "pc_bootsector_image: $tool is missing (binutils; run 'make deps')"; exit 1; }
    done
    t=$(mktemp -d /tmp/tandem-pc-boot.XXXXXX) || exit 1
    trap 'rm -rf "$t"' EXIT
    # message.bin is found by the .incbin through -I.
    printf '%s' "$msg" > "$t/message.bin"
    if ! as --32 -I "$t" -o "$t/boot.o" "$PC_IMAGES_DIR/pc_bootsector.S" 2> "$t/as.err"; then
        _pc_err "pc_bootsector_image: assembling pc_bootsector.S failed: $(tr '\n' '|' < "$t/as.err")"
        exit 1
    fi
    if ! ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o "$t/boot.bin" "$t/boot.o" 2> "$t/ld.err"; then
        _pc_err "pc_bootsector_image: linking the boot sector failed: $(tr '\n' '|' < "$t/ld.err")"
        exit 1
    fi
    size=$(stat -c %s "$t/boot.bin")
    sig=$(_pc_bytes "$t/boot.bin" 510 2)
    if [ "$size" != 512 ] || [ "$sig" != "55 aa" ]; then
        _pc_err "pc_bootsector_image: the boot sector is $size bytes ending in '$sig' (want 512, 55 aa)"
        exit 1
    fi
    line="SECTOR1:$(_pc_hex 12)"
    rm -f "$out" "$out.expect"
    { truncate -s 1M "$out" &&
      _pc_put "$out" 0 < "$t/boot.bin" &&
      printf '%s' "$line" | _pc_put "$out" 512 &&
      echo "$line" > "$out.expect"; } ||
        { _pc_err "pc_bootsector_image: cannot write $out"; rm -f "$out" "$out.expect"; exit 1; }
)

# The configuration embedded in core.img (grub-mkimage -c), run (after
# core.img's modules are initialised) before the normal mode: the terminal
# goes to the serial port at once, so even an error finding grub.cfg is seen
# on COM1.
#
# `clear` first, while GRUB's output is still the BIOS console (INT 10h):
# SeaBIOS's serial console (sercon, on when etc/sercon-port is set, as under
# QEMU -nographic and in tandem-vmm) mirrors INT 10h text to COM1 lazily: it
# holds the last character written ("!" of GRUB's "Welcome to GRUB!") and
# sends it, with the cursor moves since, at its next timer tick (IRQ 0,
# taken whenever GRUB next calls the BIOS, e.g. INT 13h for
# `cat`), which put "!\r\n\n" in the middle of cat's output in half the
# QEMU runs. A full-screen clear (INT 10h AH=09h, 2000 spaces at 0,0) makes
# sercon flush and leaves it with nothing held and the cursor where it last
# was, so after the switch nothing more comes from it.
PC_GRUB_EARLY_CFG='clear
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
'
# /boot/grub/grub.cfg: the same terminal, a line the test can wait for
# (proof that GRUB read its config from the ext2 partition), and no
# menuentry: with an empty menu the normal module goes straight to its
# command line (`grub>`) and boots nothing, whatever the timeout (set to
# -1 anyway: no countdown, should an entry ever be added). $root is GRUB's.
# shellcheck disable=SC2016
PC_GRUB_CFG='serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=-1
set pager=0
echo "TANDEM-GRUB-CFG: loaded from $root"
'
# What core.img holds (dependencies are added by grub-mkimage): the BIOS
# disk driver (INT 13h), the MBR partition map and ext2 (to find the
# prefix), the normal mode with its command line, the serial terminal and
# the commands the tests type.
PC_GRUB_MODULES="biosdisk part_msdos ext2 normal serial terminal terminfo cat echo ls"

# _pc_grub_disk OUT MIB ROOT MODULES: the disk both GRUB images are,
# from ROOT (a directory, with its /boot/grub/grub.cfg already written)
# and GRUB's MODULES in core.img. Layout (what grub-install on a BIOS/MBR
# disk makes):
#   LBA 0      boot.img's code (bytes 0-439), the MBR partition table
#   LBA 1...   core.img (diskboot.img, then the compressed kernel and
#              modules), in the gap before the first partition
#   LBA 2048   partition 1 (type 0x83, active): ext2 made from ROOT
# The same bytes grub-bios-setup would write for this disk, except that
# the Reed-Solomon codes it adds after core.img (--no-rs-codes turns them
# off; they only repair a damaged core.img) are left out. grub-bios-setup
# itself is not used: it insists on finding the block device holding its
# directory (grub_guess_root_devices), which fails in a container
# ("guessing the root device failed ... hostdisk//dev/vda not found").
# Runs in the caller's subshell (and its temporary directory $t).
_pc_grub_disk() {
    local out=$1 mib=$2 root=$3 modules=$4
    PATH=$PATH:/usr/sbin:/sbin # mke2fs, for a user whose PATH lacks them
    if ! [[ $mib =~ ^[0-9]+$ ]] || [ "$mib" -lt 4 ] || [ "$mib" -gt 2047 ]; then
        _pc_err "MIB must be 4..2047 (got '$mib')"
        return 2
    fi
    command -v grub-mkimage > /dev/null ||
        { _pc_err "grub-mkimage is missing (grub-common; run 'make deps')"; return 1; }
    command -v mke2fs > /dev/null ||
        { _pc_err "mke2fs is missing (e2fsprogs; run 'make deps')"; return 1; }
    local f
    for f in boot.img diskboot.img kernel.img moddep.lst; do
        [ -f "$PC_GRUB_DIR/$f" ] ||
            { _pc_err "no $PC_GRUB_DIR/$f (grub-pc-bin; run 'make deps')"; return 1; }
    done

    # boot.img is patched at fixed offsets (include/grub/i386/pc/boot.h in
    # GRUB's sources, used by util/setup.c, grub-bios-setup): the LBA of
    # core.img's first sector, 8 bytes at 0x5c (1 as built); the drive to
    # load from at 0x64 (0xff: the one the BIOS booted from); and at 0x66 a
    # 2-byte `jmp` (eb 05) that grub-bios-setup turns into two nops on a
    # hard disk, so that a BIOS passing a floppy number in %dl is taken to
    # mean 0x80. A GRUB whose boot.img differs there is not one this knows.
    local b=$PC_GRUB_DIR/boot.img
    if [ "$(stat -c %s "$b")" != 512 ] ||
       [ "$(_pc_bytes "$b" 0x5c 8)" != "01 00 00 00 00 00 00 00" ] ||
       [ "$(_pc_bytes "$b" 0x64 1)" != "ff" ] ||
       [ "$(_pc_bytes "$b" 0x66 2)" != "eb 05" ] ||
       [ "$(_pc_bytes "$b" 510 2)" != "55 aa" ]; then
        _pc_err "$b does not have the layout this script patches (GRUB 2.06's)"
        return 1
    fi

    # The filesystem, built from the directory (mke2fs -d), no mount.
    local part_start=2048 part_sectors=$(((mib - 1) * 2048))
    truncate -s "$((mib - 1))M" "$t/fs.img"
    if ! mke2fs -q -F -t ext2 -L tandem-grub -E root_owner=0:0 -d "$root" "$t/fs.img" > "$t/mke2fs.out" 2>&1; then
        _pc_err "mke2fs failed: $(tr '\n' '|' < "$t/mke2fs.out")"
        return 1
    fi

    # core.img: diskboot.img (1 sector, loads the rest from the blocklist
    # at its end) + lzma_decompress.img + the kernel and modules, with the
    # prefix naming the partition explicitly: (hd0,msdos1), the BIOS's
    # first hard disk (0x80, the boot drive here) and its first partition.
    printf '%s' "$PC_GRUB_EARLY_CFG" > "$t/early.cfg"
    # shellcheck disable=SC2086 # the module list is words
    if ! grub-mkimage -O i386-pc -d "$PC_GRUB_DIR" -o "$t/core.img" -c "$t/early.cfg" \
            -p "(hd0,msdos1)/boot/grub" $modules > "$t/mkimage.out" 2>&1; then
        _pc_err "grub-mkimage failed: $(tr '\n' '|' < "$t/mkimage.out")"
        return 1
    fi
    local core_size core_sectors
    core_size=$(stat -c %s "$t/core.img")
    core_sectors=$(((core_size + 511) / 512))
    if [ $core_sectors -gt $((part_start - 1)) ]; then
        _pc_err "core.img is $core_sectors sectors, the gap before the partition holds $((part_start - 1))"
        return 1
    fi
    # diskboot.img's blocklist, the last 12 bytes of core.img's first
    # sector (struct grub_pc_bios_boot_blocklist in include/grub/offsets.h:
    # u64 start, u16 len, u16 segment; diskboot.S's firstlist): as
    # grub-mkimage writes it, the rest of core.img is read from LBA 2, all
    # its sectors (core_sectors - 1) in one extent, to segment 0x820. That
    # is exactly right for core.img at LBA 1 with the rest right after it,
    # which is what grub-bios-setup writes too when it embeds core.img in
    # the MBR gap (one contiguous extent: save_blocklists in util/setup.c
    # merges them into this same entry). So nothing to patch: check it.
    local want have
    want="02 00 00 00 00 00 00 00 $(printf '%02x %02x' $(((core_sectors - 1) & 255)) $(((core_sectors - 1) >> 8))) 20 08"
    have=$(_pc_bytes "$t/core.img" 500 12)
    if [ "$have" != "$want" ]; then
        _pc_err "core.img's blocklist is '$have', expected '$want'"
        return 1
    fi

    # The MBR: boot.img's code and the patches (0x5c: core.img at LBA 1;
    # 0x64: 0xff; 0x66: nop nop), the partition table (one active type-0x83
    # entry at 0x1be, the rest zero) and the 55 aa signature. The disk
    # signature (0x1b8) stays zero.
    local mbr=$t/mbr.bin
    head -c 440 "$b" > "$mbr" && truncate -s 512 "$mbr" || return 1
    printf '%b' "$(_pc_le 1 8)" | _pc_put "$mbr" $((0x5c))
    printf '\xff' | _pc_put "$mbr" $((0x64))
    printf '\x90\x90' | _pc_put "$mbr" $((0x66))
    printf '%b' "\\x80$(_pc_chs $part_start)\\x83$(_pc_chs $((part_start + part_sectors - 1)))$(_pc_le $part_start 4)$(_pc_le $part_sectors 4)" |
        _pc_put "$mbr" $((0x1be))
    printf '\x55\xaa' | _pc_put "$mbr" 510

    rm -f "$out"
    { truncate -s "${mib}M" "$out" &&
      dd if="$mbr" of="$out" conv=notrunc status=none &&
      dd if="$t/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none &&
      dd if="$t/fs.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none; } ||
        { _pc_err "cannot write $out"; rm -f "$out"; return 1; }
}

# pc_grub_image OUT HEXFILE [MIB]
# OUT: a raw MIB MiB disk (64 by default), _pc_grub_disk's layout, whose
# ext2 holds /boot/grub/grub.cfg (PC_GRUB_CFG) and /secret.txt.
# HEXFILE gets 64 random hex digits and a newline, the content of
# /secret.txt: `cat (hd0,msdos1)/secret.txt` at `grub>` prints them.
#
# For a test typing at `grub>` (pc_images_qemu_check.sh does this):
#   - GRUB's serial terminal is vt100: each echoed character comes wrapped
#     in cursor moves (ESC [ row ; col H); GRUB ends lines with "\n\r";
#     cat's line itself is bare: "\n\r<64 hex>\n\r\n\rgrub> ".
#   - Type only at the prompt, one character at a time (waiting for each
#     echo), never while GRUB works: when GRUB calls the BIOS (INT 13h,
#     interrupts on), SeaBIOS's sercon reads all of COM1's pending input
#     at each timer tick into the BIOS keyboard buffer, where GRUB (serial
#     input only) never looks.
pc_grub_image() (
    set -u
    if [ $# -lt 2 ] || [ $# -gt 3 ]; then
        _pc_err "usage: pc_grub_image OUT HEXFILE [MIB]"
        exit 2
    fi
    out=$1 hexfile=$2 mib=${3:-64}
    t=$(mktemp -d /tmp/tandem-pc-grub.XXXXXX) || exit 1
    trap 'rm -rf "$t"' EXIT
    hex=$(_pc_hex 32)
    mkdir -p "$t/root/boot/grub"
    printf '%s' "$PC_GRUB_CFG" > "$t/root/boot/grub/grub.cfg"
    echo "$hex" > "$t/root/secret.txt"
    _pc_grub_disk "$out" "$mib" "$t/root" "$PC_GRUB_MODULES" || exit
    echo "$hex" > "$hexfile" || { _pc_err "pc_grub_image: cannot write $hexfile"; rm -f "$out"; exit 1; }
)

# pc_grub_linux_image OUT KERNEL INITRD CMDLINE [MIB]
# OUT: a raw MIB MiB disk (64 by default), _pc_grub_disk's layout, from
# which GRUB boots Linux as a distribution's disk does: its ext2 holds
# /boot/vmlinuz (KERNEL, a bzImage), /boot/initrd.gz (INITRD) and a
# grub.cfg with one menu entry, chosen at once (timeout 0), that echoes
# "TANDEM-GRUB-LINUX: loading from (hd0,msdos1)" and loads both with
# GRUB's `linux` and `initrd` (the 16-bit boot protocol: GRUB runs the
# kernel's real-mode setup). GRUB itself adds BOOT_IMAGE=/boot/vmlinuz in
# front of CMDLINE. CMDLINE: letters, digits, and " =._,:/-" only (it is
# written into grub.cfg as it is).
PC_GRUB_LINUX_MODULES="biosdisk part_msdos ext2 normal serial terminal terminfo echo linux"
pc_grub_linux_image() (
    set -u
    if [ $# -lt 4 ] || [ $# -gt 5 ]; then
        _pc_err "usage: pc_grub_linux_image OUT KERNEL INITRD CMDLINE [MIB]"
        exit 2
    fi
    out=$1 kernel=$2 initrd=$3 cmdline=$4 mib=${5:-64}
    if [[ $cmdline == *[!A-Za-z0-9\ =._,:/-]* ]]; then
        _pc_err "pc_grub_linux_image: CMDLINE may hold letters, digits and ' =._,:/-' only"
        exit 2
    fi
    for f in "$kernel" "$initrd"; do
        [ -f "$f" ] || { _pc_err "pc_grub_linux_image: no file $f"; exit 1; }
    done
    t=$(mktemp -d /tmp/tandem-pc-grub.XXXXXX) || exit 1
    trap 'rm -rf "$t"' EXIT
    mkdir -p "$t/root/boot/grub"
    cp "$kernel" "$t/root/boot/vmlinuz" && cp "$initrd" "$t/root/boot/initrd.gz" ||
        { _pc_err "pc_grub_linux_image: cannot copy the kernel or the initrd"; exit 1; }
    # shellcheck disable=SC2016 # $root is GRUB's
    printf '%s' 'serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set default=0
menuentry "Linux (tandem pc_grub_linux_image)" {
    echo "TANDEM-GRUB-LINUX: loading from $root"
    linux /boot/vmlinuz '"$cmdline"'
    initrd /boot/initrd.gz
}
' > "$t/root/boot/grub/grub.cfg"
    _pc_grub_disk "$out" "$mib" "$t/root" "$PC_GRUB_LINUX_MODULES"
)

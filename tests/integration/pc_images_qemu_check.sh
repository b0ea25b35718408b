#!/bin/bash
# The images of tests/integration/pc_images.bash, booted on a PC no one here
# wrote: QEMU under TCG (no /dev/kvm needed) with Debian's SeaBIOS, the
# disk on NVMe (how tandem-vmm presents it; in QEMU's default PC and in a
# bare one like tandem-vmm's) and on IDE. This says the images
# are right, so that a boot test that fails on tandem-vmm points at
# tandem-vmm. Run by hand (bash tests/integration/pc_images_qemu_check.sh)
# or by tests/run.sh (a host test). Per boot:
#   - the boot sector: its whole COM1 output (MESSAGE, LBA 1's line read by
#     INT 13h AH=42h, BOOT-OK), and nothing after it (it halts);
#   - GRUB: grub.cfg's line (read from the ext2 partition), the `grub>`
#     prompt, `cat (hd0,msdos1)/secret.txt` typed one character at a time,
#     each echoed, and the 64 hex digits printed back exactly.
# Each boot's time is in its PASS line. QEMU is started in the background
# with COM1 on its stdin/stdout (-serial stdio): stdin is a fifo held open
# by fd 7 here, stdout a file; a small python3 driver reads the file and
# types into the fifo. QEMU is stopped by its pid; everything is in a
# mktemp -d directory removed at exit.
# tandem-test-timeout: 900 (6 TCG boots, about 1 s each on an idle host; up to 180 s each allowed)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/pc_images.bash
. "$HERE/pc_images.bash"

QEMU=${TANDEM_QEMU:-qemu-system-x86_64}
SEABIOS=${TANDEM_PC_SEABIOS:-/usr/share/seabios/bios-256k.bin}
# Waits (seconds): generous, as tests/run.sh runs this beside other work.
BOOT_WAIT=${PC_CHECK_BOOT_WAIT:-180}

T=$(mktemp -d /tmp/tandem-pc-images.XXXXXX) || exit 1
QPID=
FAILS=0
cleanup() {
    if [ -n "$QPID" ]; then
        kill -KILL "$QPID" 2>/dev/null
        wait "$QPID" 2>/dev/null
    fi
    exec 7>&- 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP: $1: $2"; }

if ! command -v "$QEMU" > /dev/null; then
    echo "SKIP: pc_images_qemu: no $QEMU (qemu-system-x86; run 'make deps')"
    exit 77
fi
if [ ! -f "$SEABIOS" ]; then
    echo "SKIP: pc_images_qemu: no $SEABIOS (seabios; run 'make deps')"
    exit 77
fi
if ! command -v python3 > /dev/null; then
    echo "SKIP: pc_images_qemu: no python3 to drive the serial port"
    exit 77
fi


# qemu_start NAME DRIVE-ARGS...: QEMU in the background, COM1 on
# $T/NAME.out (stdout) and $T/NAME.in (a fifo, stdin), its log on
# $T/NAME.err; pid in QPID.
qemu_start() {
    local name=$1
    shift
    mkfifo "$T/$name.in"
    : > "$T/$name.out"
    SERIAL_T0=$(date +%s.%N)
    export SERIAL_T0
    "$QEMU" -accel tcg -m 128 -nographic -serial stdio -monitor none -bios "$SEABIOS" "$@" \
        < "$T/$name.in" > "$T/$name.out" 2> "$T/$name.err" &
    QPID=$!
    exec 7> "$T/$name.in" # opens QEMU's stdin (its open waits for this)
}

qemu_stop() {
    kill -TERM "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    QPID=
    exec 7>&-
}

# How the disk is attached (and the machine around it):
#   nvme:       NVMe (the way tandem-vmm presents it), QEMU's default PC
#               (VGA, so SeaBIOS's sercon runs in split mode beside the
#               VGA BIOS; an IDE controller with an empty CD-ROM; a NIC);
#   nvme_bare:  NVMe with -nodefaults: no VGA, IDE or NIC, so sercon is the
#               primary display and the NVMe disk the only one, as in tandem-vmm;
#   ide:        the PIIX IDE (a disk SeaBIOS reaches without NVMe).
VARIANTS="nvme nvme_bare ide"
drive_args() { # IMG VARIANT
    case $2 in
        nvme) echo "-drive file=$1,if=none,id=d,format=raw -device nvme,drive=d,serial=t1" ;;
        nvme_bare) echo "-nodefaults -drive file=$1,if=none,id=d,format=raw -device nvme,drive=d,serial=t1" ;;
        ide) echo "-drive file=$1,if=ide,format=raw" ;;
    esac
}

export BOOT_WAIT

# ---- the boot sector ----
MSG="pc_images: tandem boot sector check"
if err=$(pc_bootsector_image "$T/boot.img" "$MSG" 2>&1); then
    if [ "$(stat -c %s "$T/boot.img")" = 1048576 ] &&
       [ "$(od -An -tx1 -j510 -N2 "$T/boot.img" | tr -d ' ')" = 55aa ] &&
       [ "$(head -c 544 "$T/boot.img" | tail -c 32)" = "$(cat "$T/boot.img.expect")" ]; then
        pass "pc_image_bootsector_built (1 MiB, 55 aa, LBA 1 = $(cat "$T/boot.img.expect"))"
    else
        fail pc_image_bootsector_built "bad layout: $(od -An -tx1 -j496 -N48 "$T/boot.img" | tr -s ' \n' ' ')"
    fi
    for bus in $VARIANTS; do
        # shellcheck disable=SC2046 # drive_args is words
        qemu_start "boot-$bus" $(drive_args "$T/boot.img" "$bus")
        if msg=$(python3 "$HERE/pc_serial.py" boot "$T/boot-$bus.out" "$MSG" "$T/boot.img.expect"); then
            pass "pc_image_bootsector_$bus ($msg)"
        else
            fail "pc_image_bootsector_$bus" "$msg $(tail -n 3 "$T/boot-$bus.err" | tr '\n' '|')"
        fi
        qemu_stop
    done
else
    fail pc_image_bootsector_built "$err"
fi

# ---- GRUB ----
if ! command -v grub-mkimage > /dev/null || [ ! -f "$PC_GRUB_DIR/boot.img" ]; then
    skip pc_image_grub "no grub-mkimage or $PC_GRUB_DIR (grub-pc-bin; run 'make deps')"
elif err=$(pc_grub_image "$T/grub.img" "$T/secret.hex" 2>&1); then
    # Offline: the partition entry, and the secret as the ext2 driver of
    # e2fsprogs reads it at the partition's offset.
    ent=$(od -An -tx1 -j446 -N16 "$T/grub.img" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
    # shellcheck disable=SC2031 # our own PATH, for this command
    sec=$(PATH=$PATH:/usr/sbin:/sbin debugfs -R "cat /secret.txt" "$T/grub.img?offset=1048576" 2>/dev/null)
    if [ "$ent" = "80 20 21 00 83 28 20 08 00 08 00 00 00 f8 01 00" ] && [ "$sec" = "$(cat "$T/secret.hex")" ]; then
        pass "pc_image_grub_built (partition 1 at LBA 2048, 129024 sectors; /secret.txt = $sec)"
    else
        fail pc_image_grub_built "partition entry '$ent', /secret.txt '$sec'"
    fi
    for bus in $VARIANTS; do
        # shellcheck disable=SC2046
        qemu_start "grub-$bus" $(drive_args "$T/grub.img" "$bus")
        if msg=$(python3 "$HERE/pc_serial.py" grub "$T/grub-$bus.out" "$T/grub-$bus.in" "$T/secret.hex"); then
            pass "pc_image_grub_$bus ($msg)"
        else
            fail "pc_image_grub_$bus" "$msg $(tail -n 3 "$T/grub-$bus.err" | tr '\n' '|')"
        fi
        qemu_stop
    done
else
    fail pc_image_grub_built "$err"
fi

[ $FAILS = 0 ]

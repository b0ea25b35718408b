#!/bin/bash
# tandem-test: guest
# The full-emulation PC's disk (tandem-vmm --firmware --disk, docs/hvm.md
# "NVMe"): Debian's SeaBIOS finds the NVMe controller, its namespace, and
# boots from it; then software no one here wrote reads through it:
#   - our boot sector (tests/integration/pc_images.bash) prints its message,
#     the line it read from LBA 1 with INT 13h (SeaBIOS's NVMe driver: PRPs,
#     an I/O queue pair) and BOOT-OK on COM1, every byte checked;
#   - Debian's GRUB (grub-pc-bin) loads its modules and grub.cfg from the
#     ext2 partition, stops at its prompt on the serial console, and `cat`s
#     a file of random hex digits, typed one character at a time: every
#     character of the echo and of the file checked;
#   - a read-only disk boots too, and the VMM reports its NVMe counters;
#   - a disk that cannot be opened is refused before anything runs.
# The same images are checked on QEMU by pc_images_qemu_check.sh, so a
# failure here is tandem-vmm's. Needs /dev/kvm (real-mode firmware).
# tandem-test-timeout: 900
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
HERE=$ROOT/tests/integration
. "$HERE/pc_images.bash"
need_kvm
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
need_file pc_nvme "$VMM" || exit 1
need_file pc_nvme "$ROM" || exit 1
F=$(emulation_factor)
export BOOT_WAIT=$((300 * F))   # GRUB under a PVM host's instruction emulator: 40 s idle, more beside the test machines

# start NAME ARGS...: tandem-vmm in the background with COM1 on stdio:
# output in $TMP/NAME.con, input from the fifo $TMP/NAME.in (held open by
# fd 7), its log in $TMP/NAME.err.
start() {
    local name=$1
    shift
    mkfifo "$TMP/$name.in"
    : > "$TMP/$name.con"
    SERIAL_T0=$(date +%s.%N)
    export SERIAL_T0
    "$VMM" --firmware "$ROM" --run-dir "$TMP/run-$name" --name "$name" --console stdio "$@" \
        < "$TMP/$name.in" > "$TMP/$name.con" 2> "$TMP/$name.err" &
    VPID=$!
    PIDS+=("$VPID")
    exec 7> "$TMP/$name.in"
}

stop() {
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
    ST=$?
    exec 7>&-
}

log_tail() { tail -n 6 "$TMP/$1.err" | tr '\n' '|'; }

no_vcpu_failure() { # NAME
    ! grep -qE "internal error|triple fault|emulation failed|KVM_INTERRUPT|enable refused" "$TMP/$1.err"
}

# ---- the boot sector ----
MSG="tandem pc_nvme: booted from the NVMe namespace"
if ! err=$(pc_bootsector_image "$TMP/boot.img" "$MSG" 2>&1); then
    fail pc_nvme_bootsector_image "$err"
else
    start boot --memory 32 --disk "$TMP/boot.img"
    if msg=$(python3 "$HERE/pc_serial.py" boot "$TMP/boot.con" "$MSG" "$TMP/boot.img.expect"); then
        pass "pc_nvme_boots_bootsector ($msg)"
    else
        fail pc_nvme_boots_bootsector "$msg | $(log_tail boot)"
    fi
    grep -q "firmware: Booting from Hard Disk" "$TMP/boot.err" && pass pc_nvme_boot_order_disk_first ||
        fail pc_nvme_boot_order_disk_first "$(grep -i booting "$TMP/boot.err" | tr '\n' '|')"
    # SeaBIOS registered the namespace as a hard disk of the PCI device in
    # slot 4 (it looks that device up in the boot order).
    grep -q "firmware: Searching bootorder for: /pci@i0cf8/\*@4" "$TMP/boot.err" &&
        pass pc_nvme_namespace_seen_by_seabios ||
        fail pc_nvme_namespace_seen_by_seabios "$(grep -i bootorder "$TMP/boot.err" | head -5 | tr '\n' '|')"
    stop
    # SIGTERM: status 8; the controller's counters in the log.
    if [ "$ST" = 8 ] && grep -qE "nvme0: [0-9]+ commands .* [1-9][0-9]* reads, 0 writes, 0 flushes, 0 errors" "$TMP/boot.err"; then
        pass pc_nvme_counters_on_exit
    else
        fail pc_nvme_counters_on_exit "status $ST: $(grep nvme0 "$TMP/boot.err")"
    fi
    no_vcpu_failure boot && pass pc_nvme_no_vcpu_failure ||
        fail pc_nvme_no_vcpu_failure "$(log_tail boot)"

    # Read-only: the same boot (BIOS reads only).
    cp "$TMP/boot.img" "$TMP/ro.img"
    cp "$TMP/boot.img.expect" "$TMP/ro.img.expect"
    start ro --memory 32 --disk "$TMP/ro.img,ro"
    if msg=$(python3 "$HERE/pc_serial.py" boot "$TMP/ro.con" "$MSG" "$TMP/ro.img.expect"); then
        pass "pc_nvme_readonly_disk_boots ($msg)"
    else
        fail pc_nvme_readonly_disk_boots "$msg | $(log_tail ro)"
    fi
    stop
    cmp -s "$TMP/boot.img" "$TMP/ro.img" && pass pc_nvme_readonly_disk_untouched ||
        fail pc_nvme_readonly_disk_untouched "the image changed"
fi

# ---- a disk that is not there: refused before the machine exists ----
"$VMM" --firmware "$ROM" --run-dir "$TMP/run-bad" --disk "$TMP/nosuch.img" > "$TMP/bad.out" 2>&1
st=$?
if [ "$st" = 2 ] && grep -q "tandem-vmm: --disk $TMP/nosuch.img: .*No such file" "$TMP/bad.out"; then
    pass pc_nvme_missing_disk_refused
else
    fail pc_nvme_missing_disk_refused "status $st: $(head -c 300 "$TMP/bad.out")"
fi

# ---- GRUB ----
if ! command -v grub-mkimage > /dev/null || [ ! -f "$PC_GRUB_DIR/boot.img" ]; then
    skip pc_nvme_grub "no grub-mkimage or $PC_GRUB_DIR (grub-pc-bin; run 'make deps')"
elif ! err=$(pc_grub_image "$TMP/grub.img" "$TMP/secret.hex" 2>&1); then
    fail pc_nvme_grub_image "$err"
else
    start grub --memory 64 --disk "$TMP/grub.img"
    if msg=$(python3 "$HERE/pc_serial.py" grub "$TMP/grub.con" "$TMP/grub.in" "$TMP/secret.hex"); then
        pass "pc_nvme_grub_cats_file ($msg)"
    else
        fail pc_nvme_grub_cats_file "$msg | $(log_tail grub)"
    fi
    stop
    no_vcpu_failure grub && pass pc_nvme_grub_no_vcpu_failure ||
        fail pc_nvme_grub_no_vcpu_failure "$(log_tail grub)"
fi

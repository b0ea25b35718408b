#!/bin/bash
# tandem-test: guest hw-kvm (Linux on the emulated PC: KVM that runs guest code on the CPU; in the test machine on a PVM host)
# tandem-test-vm-seconds: 400 (in the test machine; tests/run.sh shares files out by it)
# tandem-test-timeout: 900
# Debian's own kernel on the full-emulation PC, booted directly (tandem-vmm
# --machine pc --kernel: the 64-bit boot protocol, no firmware; docs/hvm.md
# "Direct boot"), with a busybox initramfs: both vCPUs come up (the MP
# table), Linux's own nvme driver finds the emulated controller
# (/dev/nvme0n1: its MSI-X, its I/O queues), reads the pattern the host
# wrote, and writes one the host then finds in the file, with O_DIRECT
# reads of it checked too. Its console is COM1 (console=ttyS0). Then the
# same through SeaBIOS and its linuxboot option ROM (QEMU's -kernel), and
# booted by Debian's GRUB from the NVMe disk (pc_grub_linux_image).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm
need_file pc_linux "$VMM" || exit 1
KERNEL=${TANDEM_LINUX_KERNEL:-/boot/vmlinuz-$(uname -r)}
MODULES=${TANDEM_LINUX_MODULES:-/lib/modules/$(uname -r)}
LT=$ROOT/tests/integration/linux
if [ ! -f "$KERNEL" ] || [ ! -d "$MODULES" ]; then
    echo "SKIP: pc_linux: no Linux kernel at $KERNEL with modules at $MODULES (set TANDEM_LINUX_KERNEL, TANDEM_LINUX_MODULES)"
    exit 77
fi
INITRD=$TMP/initrd.gz
if ! out=$(bash "$ROOT/tests/lib/linux-initramfs.sh" -o "$INITRD" -i "$LT/init" -M "$MODULES" \
               --no-default-modules -m nvme -f "$LT/lt-run:/lt-run" 2>&1); then
    fail pc_linux_initramfs "$out"
    exit 1
fi
F=$(emulation_factor)
# Under emulation an interrupt can be lost on Linux's `sti; hlt` (see
# linux_lib.bash): keep the periodic tick.
EXTRA=
[ "$F" -gt 1 ] && EXTRA=nohz=off

DISK=$TMP/disk.img
head -c $((1 << 20)) /dev/urandom > "$DISK"
truncate -s 64M "$DISK"
host_sum=$(head -c $((1 << 20)) "$DISK" | sha256sum | cut -d' ' -f1)

lt() { sed -n "s/^LT: $2 //p" "$TMP/$1.con" | tr -d '\r' | head -n 1; }

# boot NAME: the VMM directly, COM1 on stdio, until "LT: done" or the wait ends.
# The three waits (35, 40 and 70 s, six times that in the test machine,
# where the boots take about 40, 50 and 80 s) fit in the file's 900 s, so
# that a boot that hangs fails with its console instead of the whole file
# being killed without a word.
"$VMM" --machine pc --kernel "$KERNEL" --ramdisk "$INITRD" --memory 256 --vcpus 2 \
    --cmdline "console=ttyS0 panic=-1 quiet $EXTRA lt.run=pcdisk" --disk "$DISK" \
    --name pclinux --run-dir "$TMP/run" --console stdio < /dev/null > "$TMP/a.con" 2> "$TMP/a.err" &
VPID=$!
PIDS+=("$VPID")
T0=$SECONDS
if wait_for "$TMP/a.con" "^LT: done" 35; then
    pass "pc_linux_direct_boot_runs_init ($((SECONDS - T0)) s)"
else
    fail pc_linux_direct_boot_runs_init "$(tail -c 600 "$TMP/a.con" | tr '\r\n' '||') | $(tail -n 5 "$TMP/a.err" | tr '\n' '|')"
fi
kill -TERM "$VPID" 2>/dev/null
wait "$VPID"
[ "$(lt a cpus)" = 2 ] && pass pc_linux_two_vcpus_from_the_mp_table ||
    fail pc_linux_two_vcpus_from_the_mp_table "cpus '$(lt a cpus)'"
[ "$(lt a nvme_model)" = TandemNVMe ] && pass pc_linux_nvme_driver_binds ||
    fail pc_linux_nvme_driver_binds "model '$(lt a nvme_model)': $(grep -i nvme "$TMP/a.con" | head -3 | tr '\r\n' '||')"
[ "$(lt a host_pattern)" = "$host_sum" ] && pass pc_linux_reads_the_hosts_pattern ||
    fail pc_linux_reads_the_hosts_pattern "guest '$(lt a host_pattern)', host $host_sum"
gsum=$(dd if="$DISK" bs=1M skip=4 count=1 status=none | sha256sum | cut -d' ' -f1)
[ -n "$(lt a guest_pattern)" ] && [ "$(lt a guest_pattern)" = "$gsum" ] &&
    pass pc_linux_host_reads_the_guests_pattern ||
    fail pc_linux_host_reads_the_guests_pattern "guest '$(lt a guest_pattern)', host $gsum"
[ "$(lt a direct_read)" = "$gsum" ] && pass pc_linux_direct_io_reads_back ||
    fail pc_linux_direct_io_reads_back "'$(lt a direct_read)' vs $gsum"
grep -qE "nvme0: [0-9]+ commands .* 0 errors" "$TMP/a.err" && pass pc_linux_nvme_no_errors ||
    fail pc_linux_nvme_no_errors "$(grep nvme0 "$TMP/a.err")"
if grep -qE "internal error|triple fault|emulation failed|KVM_INTERRUPT|enable refused" "$TMP/a.err"; then
    fail pc_linux_no_vcpu_failure "$(grep -E "internal error|triple fault|emulation|KVM_INTERRUPT|refused" "$TMP/a.err" | head -3)"
else
    pass pc_linux_no_vcpu_failure
fi

# ---- the same kernel loaded by the firmware (QEMU's -kernel: fw_cfg and
# linuxboot_dma.bin under SeaBIOS), entered through its real-mode setup ----
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
if [ ! -f "$ROM" ] || [ ! -f "${TANDEM_LINUXBOOT_ROM:-$ROOT/$BUILD/firmware/linuxboot_dma.bin}" ]; then
    skip pc_linux_via_firmware "no SeaBIOS ($ROM) or linuxboot_dma.bin (qemu-system-data)"
else
    "$VMM" --firmware "$ROM" --kernel "$KERNEL" --ramdisk "$INITRD" --memory 256 --vcpus 2 \
        --cmdline "console=ttyS0 panic=-1 quiet $EXTRA lt.run=pcdisk" --disk "$DISK" \
        --name pcfw --run-dir "$TMP/run-fw" --console stdio < /dev/null > "$TMP/b.con" 2> "$TMP/b.err" &
    VPID=$!
    PIDS+=("$VPID")
    T0=$SECONDS
    if wait_for "$TMP/b.con" "^LT: done" 40; then
        pass "pc_linux_via_firmware_runs_init ($((SECONDS - T0)) s)"
    else
        fail pc_linux_via_firmware_runs_init "$(tail -c 600 "$TMP/b.con" | tr '\r\n' '||') | $(grep -v Searching "$TMP/b.err" | tail -n 5 | tr '\n' '|')"
    fi
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
    grep -q "firmware: Booting from ROM" "$TMP/b.err" && pass pc_linux_via_firmware_option_rom ||
        fail pc_linux_via_firmware_option_rom "$(grep -i booting "$TMP/b.err" | tr '\n' '|')"
    [ "$(lt b cpus)" = 2 ] && [ "$(lt b host_pattern)" = "$host_sum" ] &&
        [ "$(lt b direct_read)" = "$(lt b guest_pattern)" ] && pass pc_linux_via_firmware_disk ||
        fail pc_linux_via_firmware_disk "cpus '$(lt b cpus)' host '$(lt b host_pattern)' direct '$(lt b direct_read)'"
fi

# ---- the same kernel booted by Debian's GRUB from the NVMe disk, as an
# installed system boots: SeaBIOS runs GRUB from namespace 1's MBR, GRUB
# reads its grub.cfg, the kernel and the initrd from the ext2 partition
# (INT 13h, SeaBIOS's NVMe driver) and starts Linux through its real-mode
# setup; Linux then finds both namespaces (the pattern disk is the second) ----
. "$(dirname "$0")/pc_images.bash"
if [ ! -f "$ROM" ]; then
    skip pc_linux_via_grub "no SeaBIOS ($ROM)"
elif ! command -v grub-mkimage > /dev/null || [ ! -f "$PC_GRUB_DIR/boot.img" ]; then
    skip pc_linux_via_grub "no GRUB (grub-pc-bin: in the test machine's image, and 'make deps' on a host)"
elif ! out=$(pc_grub_linux_image "$TMP/grub.img" "$KERNEL" "$INITRD" \
                 "console=ttyS0 panic=-1 quiet $EXTRA lt.run=pcdisk lt.dev=nvme0n2" 2>&1); then
    fail pc_linux_via_grub_image "$out"
else
    "$VMM" --firmware "$ROM" --memory 256 --vcpus 2 --disk "$TMP/grub.img,ro" --disk "$DISK" \
        --name pcgrub --run-dir "$TMP/run-grub" --console stdio < /dev/null > "$TMP/c.con" 2> "$TMP/c.err" &
    VPID=$!
    PIDS+=("$VPID")
    T0=$SECONDS
    if wait_for "$TMP/c.con" "^LT: done" 70; then
        pass "pc_linux_via_grub_runs_init ($((SECONDS - T0)) s)"
    else
        fail pc_linux_via_grub_runs_init "$(tail -c 600 "$TMP/c.con" | tr '\r\n' '||') | $(grep -v Searching "$TMP/c.err" | tail -n 5 | tr '\n' '|')"
    fi
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
    grep -q "TANDEM-GRUB-LINUX: loading from hd0,msdos1" "$TMP/c.con" && pass pc_linux_via_grub_menu_entry ||
        fail pc_linux_via_grub_menu_entry "$(grep -a TANDEM "$TMP/c.con" | tr '\r\n' '||')"
    [ "$(lt c boot_image)" = /boot/vmlinuz ] && pass pc_linux_via_grub_boot_image ||
        fail pc_linux_via_grub_boot_image "BOOT_IMAGE '$(lt c boot_image)'"
    # the pattern disk is namespace 2: what the host wrote, what the guest wrote
    gsum=$(dd if="$DISK" bs=1M skip=4 count=1 status=none | sha256sum | cut -d' ' -f1)
    [ "$(lt c host_pattern)" = "$host_sum" ] && [ "$(lt c guest_pattern)" = "$gsum" ] &&
        [ "$(lt c direct_read)" = "$gsum" ] && pass pc_linux_via_grub_disk ||
        fail pc_linux_via_grub_disk "host '$(lt c host_pattern)' guest '$(lt c guest_pattern)' direct '$(lt c direct_read)' file $gsum"
fi

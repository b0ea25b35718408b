#!/bin/bash
# tandem-test: guest
# The full-emulation PC (tandem-vmm --firmware, docs/hvm.md) with Debian's
# SeaBIOS, a firmware no one here wrote: its POST finds fw_cfg (DMA), the
# RAM map, the i440FX and the PIIX3 on PCI, every vCPU (INIT/SIPI through
# KVM's LAPIC), the keyboard controller and COM1; its console (sercon)
# prints the banner on COM1, which is the domain's console; with
# --boot-menu an ESC typed on the console (COM1's receiver) opens the
# menu; with nothing to boot it says so and waits, and the VMM stops
# cleanly on SIGTERM. Needs /dev/kvm (real-mode code: plain KVM, or the
# test machine).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
need_file pc_seabios "$VMM" || exit 1
need_file pc_seabios "$ROM" || exit 1
F=$(emulation_factor)

# start NAME ARGS...: tandem-vmm in the background, its console on
# $TMP/NAME.con, its log on $TMP/NAME.err, its input from the fifo
# $TMP/NAME.in (held open by fd 7 of this shell, so it never sees EOF).
start() {
    local name=$1
    shift
    mkfifo "$TMP/$name.in"
    "$VMM" --firmware "$ROM" --run-dir "$TMP/run-$name" --name "$name" "$@" \
        < "$TMP/$name.in" > "$TMP/$name.con" 2> "$TMP/$name.err" &
    VPID=$!
    PIDS+=("$VPID")
    exec 7> "$TMP/$name.in"
}

# stop: SIGTERM, then its status (8: stopped by a signal, docs/vmm.md).
stop() {
    exec 7>&-
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
    ST=$?
}

log_tail() { tail -n 8 "$TMP/$1.err" | tr '\n' '|'; }

# ---- POST with 2 vCPUs, the banner on COM1, nothing to boot ----
start post --memory 64 --vcpus 2
if wait_for "$TMP/post.con" "SeaBIOS \(version" 60; then
    pass pc_banner_on_com1
else
    fail pc_banner_on_com1 "no banner: $(log_tail post)"
fi
fwlog() { grep -q "tandem-vmm: firmware: $1" "$TMP/post.err"; }
wait_for "$TMP/post.err" "firmware: e820 map has" 30
fwlog "Found QEMU fw_cfg" && fwlog "QEMU fw_cfg DMA interface supported" && pass pc_fw_cfg_dma ||
    fail pc_fw_cfg_dma "$(log_tail post)"
fwlog "qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 \[RAM\]" && pass pc_e820_ram ||
    fail pc_e820_ram "$(grep e820 "$TMP/post.err" | head -3 | tr '\n' '|')"
fwlog "PCI: init bdf=00:00.0 id=8086:1237" && fwlog "PCI: init bdf=00:01.0 id=8086:7000" &&
    pass pc_pci_i440fx_piix3 || fail pc_pci_i440fx_piix3 "$(grep PCI "$TMP/post.err" | tr '\n' '|')"
fwlog "Found 2 cpu(s)" && pass pc_smp_two_vcpus ||
    fail pc_smp_two_vcpus "$(grep -i cpu "$TMP/post.err" | tr '\n' '|')"
fwlog "PS2 keyboard initialized" && fwlog "Found 1 serial ports" && pass pc_keyboard_and_com1 ||
    fail pc_keyboard_and_com1 "$(log_tail post)"
if wait_for "$TMP/post.con" "No bootable device" 60; then
    pass pc_no_boot_device_reported
else
    fail pc_no_boot_device_reported "$(tail -c 300 "$TMP/post.con" | tr '\n\r' '||')"
fi
if kill -0 "$VPID" 2>/dev/null; then
    pass pc_waits_for_a_boot_device
else
    fail pc_waits_for_a_boot_device "the VMM ended: $(log_tail post)"
fi
stop
[ "$ST" = 8 ] && pass pc_stops_on_sigterm || fail pc_stops_on_sigterm "status $ST: $(log_tail post)"
if grep -qE "internal error|triple fault|emulation failed|KVM_INTERRUPT" "$TMP/post.err"; then
    fail pc_no_vcpu_failure "$(grep -E "internal error|triple fault|emulation|KVM_INTERRUPT" "$TMP/post.err" | head -3)"
else
    pass pc_no_vcpu_failure
fi

# ---- more than 3 GiB: RAM below the PCI hole and the rest from 4 GiB ----
start big --memory 4608
if wait_for "$TMP/big.err" "firmware: e820 map has" 60 &&
   grep -q "firmware: qemu/e820: addr 0x0000000000000000 len 0x00000000c0000000 \[RAM\]" "$TMP/big.err" &&
   grep -q "firmware: qemu/e820: addr 0x0000000100000000 len 0x0000000060000000 \[RAM\]" "$TMP/big.err"; then
    pass pc_ram_above_4g
else
    fail pc_ram_above_4g "$(grep e820 "$TMP/big.err" | tr '\n' '|')"
fi
stop

# ---- --boot-menu: ESC on the console (COM1 input) opens the menu ----
start menu --memory 32 --boot-menu
if wait_for "$TMP/menu.con" "Press ESC for boot menu" 60; then
    printf '\033' >&7
    if wait_for "$TMP/menu.con" "Select boot device" 30; then
        pass pc_boot_menu_by_com1_input
    else
        fail pc_boot_menu_by_com1_input "no menu: $(tail -c 300 "$TMP/menu.con" | tr '\n\r' '||')"
    fi
else
    fail pc_boot_menu_by_com1_input "no prompt: $(tail -c 300 "$TMP/menu.con" | tr '\n\r' '||')"
fi
stop

#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Kernels the VMM must refuse, through `tandem run`: not an ELF, an ELF
# without the PVH note. One line on stderr, status 2, no VM left behind.
# (Config-level bad input — memory 0 or too large, missing kernel, unknown
# keys — is in cli_config_errors.sh.)
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
need_file "$TANDEM_BIN/tandem-vmm"
need_file "$TANDEM_BIN/xenstored"
need_file "$KERNEL"

bad_kernel() { # name kernel-file regex
    local name=$1
    write_cfg "$WORK/$name.cfg" "$name" "app=hello"
    timeout 30 "$TANDEM" run "$WORK/$name.cfg" "kernel=\"$2\"" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null
    local rc=$? lines why
    lines=$(wc -l < "$WORK/$name.err")
    if [ $rc != 2 ]; then
        fail "$name" "status $rc, expected 2: $(head -c 300 "$WORK/$name.err")"
    elif [ "$lines" != 1 ]; then
        fail "$name" "expected one line on stderr, got $lines: $(head -c 400 "$WORK/$name.err")"
    elif ! grep -qiE -- "$3" "$WORK/$name.err"; then
        fail "$name" "message does not match '$3': $(cat "$WORK/$name.err")"
    elif ! why=$(nothing_left 1 ""); then
        fail "$name" "$why"
    else
        pass "$name"
    fi
}
echo "this is not an ELF file" > "$WORK/text.elf"
bad_kernel not_elf "$WORK/text.elf" "elf"
bad_kernel elf_not_executable /bin/true "elf"
# The guest kernel itself with its Xen note section taken out.
if objcopy --remove-section .note.Xen "$KERNEL" "$WORK/nonote.elf" 2>/dev/null; then
    bad_kernel elf_without_pvh_note "$WORK/nonote.elf" "note|pvh|PHYS32"
else
    fail elf_without_pvh_note "objcopy could not strip the note from $KERNEL"
fi
: > "$WORK/empty.elf"
bad_kernel empty_kernel "$WORK/empty.elf" "elf|empty|short"
finish

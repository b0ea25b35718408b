#!/bin/bash
# A guest that triple-faults: tandem-vmm prints the vCPU registers and a
# clear message and exits with status 7, without hanging.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm vmm_triple
G=$GUESTDIR/vmm-test-triple.elf
need_file vmm_triple "$G" || exit 0
run_vmm vmm_triple 20 --kernel "$G"
if [ "$RC" = 124 ]; then
    fail vmm_triple "hung (killed after 20 s)"
elif [ "$RC" != 7 ]; then
    fail vmm_triple "exit status $RC, expected 7"
elif ! grep -q 'triple fault' "$TMP/vmm_triple.err"; then
    fail vmm_triple "no 'triple fault' message"
elif ! grep -qE 'rax 0000000000007e57' "$TMP/vmm_triple.err"; then
    fail vmm_triple "registers not printed (rax marker missing)"
else
    pass vmm_triple
fi
exit 0

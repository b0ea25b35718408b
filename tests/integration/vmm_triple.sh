#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Guest failures: a guest that triple-faults and one that hits an
# instruction KVM's emulator cannot run. tandem-vmm prints the vCPU
# registers (and the code at rip) and a clear message and exits with
# status 7, without hanging.
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
elif grep -qE 'rax 0000000000007e57' "$TMP/vmm_triple.err"; then
    pass vmm_triple
elif grep -q AuthenticAMD /proc/cpuinfo && grep -q "reset registers, not its state" "$TMP/vmm_triple.err"; then
    # KVM's SVM code INITs the vCPU before KVM_EXIT_SHUTDOWN: the state at
    # the fault is gone, and the dump must say so rather than mislead.
    echo "# AMD SVM: registers reset by KVM before the exit; the dump says so"
    pass vmm_triple
elif ! grep -q 'rip ' "$TMP/vmm_triple.err"; then
    fail vmm_triple "registers not printed"
else
    fail vmm_triple "registers printed without the rax marker (and no reset note on AMD)"
fi
E=$GUESTDIR/vmm-test-emufail.elf
need_file vmm_emulation_failure "$E" || exit 0
run_vmm vmm_emufail 20 --kernel "$E"
if [ "$RC" = 124 ]; then
    fail vmm_emulation_failure "hung (killed after 20 s)"
elif [ "$RC" != 7 ]; then
    fail vmm_emulation_failure "exit status $RC, expected 7"
elif ! grep -qE 'emulation failed|triple fault' "$TMP/vmm_emufail.err"; then
    fail vmm_emulation_failure "no clear message: $(head -n 1 "$TMP/vmm_emufail.err")"
elif ! grep -q 'rbx 0000000000000e11' "$TMP/vmm_emufail.err" || ! grep -q 'code at rip' "$TMP/vmm_emufail.err"; then
    fail vmm_emulation_failure "registers or code bytes not printed"
else
    pass vmm_emulation_failure
fi
exit 0

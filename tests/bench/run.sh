#!/bin/bash
# `make bench`: runs every tests/bench/*.sh in turn (each prints a markdown
# table of figures it measured in this run) and collects the output in
# $BUILD/bench/results.md. BENCH_FILTER=regex runs a subset.
#
# Benches with a '# tandem-bench: guest' line boot guests. Where the host
# has no usable /dev/kvm they run inside the test machine (tests/vm/run),
# whose guests run on KVM nested in QEMU's emulator: the header says so and
# every row they print is marked "not comparable: emulated". The host-only
# benches run here as usual. A '# tandem-bench: guest kvm-xen' bench boots
# Linux, which needs KVM with Xen support (KVM_CAP_XEN_HVM): on a host whose
# KVM lacks it (a PVM host's kvm_pvm) it too runs in the test machine.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export BUILD TANDEM_ROOT=$ROOT TANDEM_BIN=$ROOT/$BUILD/bin
mkdir -p "$BUILD/bench"
out=${BENCH_OUT:-$BUILD/bench/results.md}
GUEST_ONLY=${BENCH_GUEST_ONLY:-0}

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
# The host's KVM hands Xen hypercalls to userspace (KVM_CAP_XEN_HVM, 38).
kvm_xen_usable() {
    local n
    n=$("$BUILD/tests/vmm/kvm-cap" --dev /dev/kvm 38 2> /dev/null) && [ "${n:-0}" -gt 0 ] 2> /dev/null
}
is_guest_bench() { grep -q '^# tandem-bench: guest' "$1"; }
needs_kvm_xen() { grep -q '^# tandem-bench: guest kvm-xen' "$1"; }
# A '# tandem-bench: guest hw-kvm' bench boots a kernel on the emulated PC:
# it needs KVM that runs guest code on the CPU (VMX/SVM), not a PVM host's
# instruction emulator; without one it runs in the test machine.
needs_hw_kvm() { grep -q '^# tandem-bench: guest hw-kvm' "$1"; }
hw_kvm_usable() { grep -qwE 'vmx|svm' /proc/cpuinfo; }

# Where the guest benches go (here or vm), and the Linux ones.
if [ "${TANDEM_TEST_VM:-0}" = 1 ]; then
    guests=here xen=here hw=here emulated=1
elif kvm_usable; then
    guests=here emulated=0
    kvm_xen_usable && xen=here || xen=vm
    hw_kvm_usable && hw=here || hw=vm
else
    guests=vm xen=vm hw=vm emulated=0
fi
goes_to_vm() { # a guest bench: true if it runs in the test machine
    if needs_kvm_xen "$1"; then [ $xen = vm ]
    elif needs_hw_kvm "$1"; then [ $hw = vm ]
    else [ $guests = vm ]; fi
}

# Marks every table row but headers and separators (inside the machine).
mark_emulated() {
    awk '{ line[NR] = $0 }
         END { sep = "^\\|[ :|-]+$"
               for (i = 1; i <= NR; i++) {
                   l = line[i]
                   if (l ~ /^\|/ && l !~ sep && !(i < NR && line[i + 1] ~ sep))
                       sub(/^\| */, "| not comparable: emulated — ", l)
                   print l } }'
}

if [ "$GUEST_ONLY" != 1 ]; then
    {
        echo "# Tandem benchmark results"
        echo
        echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r)."
        echo "Command: \`make bench\`"
        if [ $guests = vm ]; then
            echo
            echo "**This host has no /dev/kvm: the guest benchmarks ran in the test machine (tests/vm: QEMU TCG"
            echo "with nested KVM). Their figures are the emulator's, not the product's: not comparable: emulated.**"
            echo "Host-only benchmarks (no guest) ran on the host and are comparable."
        else
            if [ $xen = vm ]; then
                echo
                echo "Guest benchmarks ran on this host's /dev/kvm, **except the Linux-guest ones: this host's KVM has"
                echo "no Xen support (KVM_CAP_XEN_HVM), so they ran in the test machine (tests/vm: QEMU TCG with nested"
                echo "KVM) and their figures are not comparable: emulated.**"
            fi
            if [ $hw = vm ]; then
                echo
                echo "**Linux on the emulated PC (pc_linux_bench) ran in the test machine too: this host's KVM has no"
                echo "VMX/SVM (it would run the kernel in its instruction emulator). Not comparable: emulated.**"
            fi
        fi
        echo
    } > "$out"
fi
rc=0
guest_benches=()
for b in tests/bench/*.sh; do
    [ "$b" = tests/bench/run.sh ] && continue
    echo "$b" | grep -qE "${BENCH_FILTER:-.}" || continue
    if is_guest_bench "$b"; then
        goes_to_vm "$b" && { guest_benches+=("$b"); continue; }
    elif [ "$GUEST_ONLY" = 1 ]; then
        continue
    fi
    echo "== $b"
    if [ "$emulated" = 1 ] && is_guest_bench "$b"; then
        bash "$b" | mark_emulated | tee -a "$out"
    else
        bash "$b" | tee -a "$out"
    fi
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "bench $b failed" | tee -a "$out"; rc=1; }
    echo >> "$out"
done

if [ ${#guest_benches[@]} -gt 0 ]; then
    echo "== guest benchmarks in the test machine: ${guest_benches[*]}"
    vm_out=$BUILD/bench/results-vm.md
    rm -f "$vm_out"
    filter="^($(printf '%s|' "${guest_benches[@]}" | sed 's/|$//; s/\./\\./g'))\$"
    BENCH_GUEST_ONLY=1 BENCH_OUT=$vm_out BENCH_FILTER=$filter tests/vm/run bash tests/bench/run.sh
    vrc=$?
    {
        echo "## Guest benchmarks (in the test machine: not comparable: emulated)"
        echo
        [ -f "$vm_out" ] && cat "$vm_out"
    } >> "$out"
    [ $vrc = 0 ] || { echo "guest benchmarks in the test machine failed (status $vrc)" | tee -a "$out"; rc=1; }
    rm -f "$vm_out"
fi
echo "results in $out"
exit $rc

#!/bin/bash
# need_kvm / need_kvm_xen (hypervisor/tests/kvm.sh), host-side: each case runs
# in a subshell (they exit) and checks its status and its one line: the real
# probe against a device that is not KVM, and the cap's answers (stand-ins
# for kvm_cap) with no marker, a "stock" marker and a "built" one.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
T=$(mktemp -d /tmp/tandem-kvm-need.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$ROOT/hypervisor/tests/kvm.sh"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

# check NAME WANT_RC WANT_REGEX BODY: BODY runs in a subshell after the
# sourcing above; its output is matched, never printed as a result line.
check() {
    local name=$1 want_rc=$2 re=$3 out rc
    out=$(eval "$4" 2>&1)
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name" "status $rc, expected $want_rc; output: $out"
    elif ! grep -qE -- "$re" <<< "$out"; then
        fail "$name" "output '$out' does not match '$re'"
    else
        pass "$name"
    fi
}

[ -x "$ROOT/$BUILD/tests/vmm/kvm-cap" ] || { fail setup "$ROOT/$BUILD/tests/vmm/kvm-cap is not built"; exit 1; }

check missing-device 77 '^SKIP: t: /nonexistent/kvm is missing' \
    'KVM_DEV=/nonexistent/kvm; need_kvm_xen t; echo continued'
# /dev/null: a character device anyone can open, which does not know KVM's ioctl.
check probe-not-kvm 1 '^FAIL: t: cannot ask /dev/null for KVM_CAP_XEN_HVM: kvm-cap: KVM_CHECK_EXTENSION\(38\) on /dev/null: ' \
    'KVM_DEV=/dev/null; need_kvm_xen t; echo continued'
check probe-bad-cap 2 "kvm-cap: 'x' is not a capability number" \
    '"$ROOT/$BUILD/tests/vmm/kvm-cap" x'
check no-cap-no-marker 77 '^SKIP: t: KVM has no Xen support \(KVM_CAP_XEN_HVM\): Linux guests need it; Debian 12.s kernel is built without CONFIG_KVM_XEN' \
    'KVM_DEV=/dev/null; KVM_XEN_MARKER=$T/none; kvm_cap() { echo 0; }; need_kvm_xen t; echo continued'
printf 'status=stock\ndetail=the test machine has Debian'"'"'s own KVM: gcc-12 is not installed\n' > "$T/stock"
check no-cap-stock-image 77 'without CONFIG_KVM_XEN.*\(the test machine has Debian.s own KVM: gcc-12 is not installed\)$' \
    'KVM_DEV=/dev/null; KVM_XEN_MARKER=$T/stock; kvm_cap() { echo 0; }; need_kvm_xen t; echo continued'
printf 'status=built\ndetail=kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN\n' > "$T/built"
check no-cap-built-image 1 '^FAIL: t: KVM_CAP_XEN_HVM is 0, yet .*says kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN' \
    'KVM_DEV=/dev/null; KVM_XEN_MARKER=$T/built; kvm_cap() { echo 0; }; need_kvm_xen t; echo continued'
check cap-present 0 '^continued$' \
    'KVM_DEV=/dev/null; KVM_XEN_MARKER=$T/stock; kvm_cap() { echo 63; }; need_kvm_xen t; echo continued'
check need-kvm-only 0 '^continued$' \
    'KVM_DEV=/dev/null; need_kvm t; echo continued'

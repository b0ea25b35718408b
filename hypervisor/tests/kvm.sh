# Sourced by the guest test libraries (hypervisor/tests/testlib.sh,
# tests/integration/cli_lib.bash): what a test needs of KVM. Each need_*
# skips the whole script (status 77, one "SKIP: [NAME: ]why" line, which
# tests/run.sh counts as skipped) when the need is not met.
KVM_DEV=/dev/kvm
# The image's word on its KVM (tests/vm/image.sh): status=built|stock, detail=...
KVM_XEN_MARKER=/etc/tandem-vm/kvm-xen
KVM_CAP_XEN_HVM=38
KVM_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# need_kvm [NAME]: a /dev/kvm this user can open.
need_kvm() {
    local what=${1:+$1: }
    if [ ! -c "$KVM_DEV" ]; then
        echo "SKIP: ${what}$KVM_DEV is missing: cannot boot guests here"
        exit 77
    fi
    if [ ! -r "$KVM_DEV" ] || [ ! -w "$KVM_DEV" ]; then
        echo "SKIP: ${what}$KVM_DEV is not readable and writable by $(id -un)"
        exit 77
    fi
}

# kvm_cap CAP: KVM_CHECK_EXTENSION(CAP) of $KVM_DEV (build/tests/vmm/kvm-cap).
kvm_cap() {
    "$KVM_LIB_ROOT/${BUILD:-build}/tests/vmm/kvm-cap" --dev "$KVM_DEV" "$1"
}

# need_kvm_xen [NAME]: need_kvm, and KVM that hands Xen hypercalls to
# userspace (KVM_CAP_XEN_HVM), which Debian's Linux guests need. A test
# machine whose image built KVM with it and still lacks the cap is a broken
# machine: that fails (status 1) instead of skipping every Linux-guest test.
need_kvm_xen() {
    local what=${1:+$1: } cap detail=
    need_kvm "$@"
    if [ ! -x "$KVM_LIB_ROOT/${BUILD:-build}/tests/vmm/kvm-cap" ]; then
        echo "FAIL: ${what}$KVM_LIB_ROOT/${BUILD:-build}/tests/vmm/kvm-cap is not built (make)"
        exit 1
    fi
    if ! cap=$(kvm_cap "$KVM_CAP_XEN_HVM" 2>&1); then
        echo "FAIL: ${what}cannot ask $KVM_DEV for KVM_CAP_XEN_HVM: $cap"
        exit 1
    fi
    [ "$cap" -gt 0 ] && return 0
    if [ -f "$KVM_XEN_MARKER" ]; then
        if grep -qx 'status=built' "$KVM_XEN_MARKER"; then
            echo "FAIL: ${what}KVM_CAP_XEN_HVM is 0, yet $KVM_XEN_MARKER says $(sed -n 's/^detail=//p' "$KVM_XEN_MARKER"): the loaded kvm module is not that one ($(lsmod | awk '$1 == "kvm" { print "kvm, " $2 " bytes" }'))"
            exit 1
        fi
        detail=" ($(sed -n 's/^detail=//p' "$KVM_XEN_MARKER"))"
    fi
    echo "SKIP: ${what}KVM has no Xen support (KVM_CAP_XEN_HVM): Linux guests need it; Debian 12's kernel is built without CONFIG_KVM_XEN; the test machine (tests/vm) rebuilds kvm.ko with it$detail"
    exit 77
}

# Helpers sourced by tests/integration/linux_*.sh (not a test itself): Debian's
# own kernel as a PVH guest (docs/linux-guests.md). On top of net_lib.bash
# (the namespaces and bridge are made only by linux_net_setup): the kernel
# is the test machine's own bzImage (/boot/vmlinuz-$(uname -r); or
# $TANDEM_LINUX_KERNEL with its modules in $TANDEM_LINUX_MODULES), the
# initramfs is built here from Debian's busybox-static and that kernel's
# modules by tests/lib/linux-initramfs.sh, with tests/integration/linux/init
# as /init and linux/lt-run as the action (lt.run= on the command line).
# Results are "LT: ..." lines on the guest's console (hvc0), which
# `tandem run` prints.
. "$(dirname "${BASH_SOURCE[0]}")/net_lib.bash"

BLKBACK_PIDF=$TANDEM_RUNDIR/blkback/pid
# Guests first (net_cleanup stops them), blkback by its pid file, netback,
# the namespaces, then the rest (cli_lib's cleanup).
linux_cleanup() {
    local rc=$? p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait_gone "$p" 100 || kill -KILL "$p" 2>/dev/null; done
    BG_PIDS=()
    if [ -s "$BLKBACK_PIDF" ]; then
        p=$(cat "$BLKBACK_PIDF")
        kill -TERM "$p" 2>/dev/null && { wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; }
    fi
    (exit $rc)
    net_cleanup
}
trap linux_cleanup EXIT

LINUX_KERNEL=${TANDEM_LINUX_KERNEL:-/boot/vmlinuz-$(uname -r)}
LINUX_MODULES=${TANDEM_LINUX_MODULES:-/lib/modules/$(uname -r)}
LINUX_INITRD=$WORK/linux-initrd.gz
LT_DIR=$TANDEM_ROOT/tests/integration/linux
# Every VMM leaves its event channels and rings in its .err at exit
# (--stats), which linux_stuck_report shows for a boot that hung.
export TANDEM_VMM_ARGS=${TANDEM_VMM_ARGS:---stats}
# More of tests/lib/linux-initramfs.sh's options (the benchmark's -x fio ...).
LINUX_INITRAMFS_ARGS=()

need_linux() {
    need_kvm_xen "${1:-}"
    need_tandem
    need_file "$TANDEM_BIN/tandem-vmm"
    need_file "$TANDEM_BIN/xenstored"
    [ -f "$LINUX_KERNEL" ] || skip_all "SKIP: no Linux kernel at $LINUX_KERNEL (set TANDEM_LINUX_KERNEL)"
    [ -d "$LINUX_MODULES" ] || skip_all "SKIP: no kernel modules at $LINUX_MODULES (set TANDEM_LINUX_MODULES)"
    if ! out=$(bash "$TANDEM_ROOT/tests/lib/linux-initramfs.sh" -o "$LINUX_INITRD" -i "$LT_DIR/init" \
                   -M "$LINUX_MODULES" -f "$LT_DIR/lt-run:/lt-run" "${LINUX_INITRAMFS_ARGS[@]}" 2>&1); then
        echo "FAIL: setup: building the initramfs: $out"
        exit 1
    fi
}

# Under emulation (the test machine: QEMU TCG with nested SVM), an interrupt
# can be taken on the `hlt` of Linux's `sti; hlt` idle (TCG ignores the STI
# shadow there; docs/testing.md), and a vCPU then sleeps with its wake-up
# consumed. Tandem's own kernel steps over that hlt (docs/guest-kernel.md);
# Linux cannot, so there its periodic tick is kept (nohz=off) to wake it.
# $TANDEM_LINUX_EXTRA is added to every guest's command line (chasing a
# rare hang: "loglevel=7 sysctl.kernel.hung_task_timeout_secs=30" puts the
# hung task's call trace on the console, which linux_stuck_report shows).
linux_extra() { local e=; emulated && e="nohz=off"; echo "$e ${TANDEM_LINUX_EXTRA:-}"; }

# linux_cfg FILE NAME "lt.run=... args" [config lines...]
linux_cfg() {
    local f=$1 name=$2 args=$3 l
    shift 3
    {
        echo "name = \"$name\""
        echo "kernel = \"$LINUX_KERNEL\""
        echo "ramdisk = \"$LINUX_INITRD\""
        echo "memory = ${LINUX_MEMORY:-256}"
        echo "vcpus = ${LINUX_VCPUS:-2}"
        echo "extra = \"console=hvc0 quiet panic=-1 $(linux_extra) $args\""
        for l in "$@"; do echo "$l"; done
    } > "$f"
}

# linux_boot NAME ARGS [config lines]: `tandem run` to the end (RC), output
# in $WORK/NAME.out/.err. The wait scales under emulation.
linux_boot() {
    local name=$1 args=$2
    shift 2
    linux_cfg "$WORK/$name.cfg" "$name" "$args" "$@"
    timeout $((60 * $(emulation_factor))) "$TANDEM" run "$WORK/$name.cfg" \
        > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null
    RC=$?
    [ $RC = 124 ] && linux_stuck_report "$name"
    return 0
}

# After a boot that had to be killed: what the guest's kernel said about
# tasks that stopped (hung-task reports with their call traces, lockups,
# oopses), so that a rare hang leaves its cause in the test's log.
linux_stuck_report() {
    local f=$WORK/$1.out
    echo "  | $1: killed after $((60 * $(emulation_factor))) s; the guest's kernel reports:"
    awk '/blocked for more than|soft lockup|hard LOCKUP|BUG:|Oops|WARNING:|rcu_.*stall/ { n = 40 }
         n > 0 { print "  |   " $0; n-- }' "$f" | tr -d '\r' | head -n 200
    # the VMM's event channels and rings as the guest left them (--stats)
    sed -n '/^events:/,/^tandem-vmm stats end/p' "$WORK/$1.err" | sed 's/^/  |   /'
}

# linux_net: the namespaces and bridge of net_lib.bash (need_net); guests
# started after it run in the switch namespace.
linux_net() {
    need_net
    NET_READY=1
}

# linux_start NAME ARGS [config lines]: the same in the background (in the
# switch namespace after linux_net); pid in LAST_PID.
linux_start() {
    local name=$1 args=$2
    shift 2
    linux_cfg "$WORK/$name.cfg" "$name" "$args" "$@"
    if [ -n "${NET_READY:-}" ]; then
        ip netns exec "$SW" "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null &
    else
        "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null &
    fi
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# lt NAME KEY: the value of the guest's "LT: KEY value" line ("" if none).
lt() { sed -n "s/^LT: $2 \{0,1\}//p" "$WORK/$1.out" | tr -d '\r' | head -n 1; }
has_lt() { grep -q "^LT: $2" "$WORK/$1.out"; }

# lshow NAME: the end of the guest's console and of the toolstack's
# messages, on one line for a FAIL message. After a hang also what CI's
# summary must carry, since the logs stay on the machine that ran it: each
# hung task's first call-trace frames and the VMM's event state (--stats).
lshow() {
    tail -n 15 "$WORK/$1.out" 2>/dev/null | tr -d '\r' | tr '\n' '|'
    sed '/^tandem-vmm stats:/,/^tandem-vmm stats end/d' "$WORK/$1.err" 2>/dev/null | tail -n 15 | tr '\n' '|'
    if grep -q 'blocked for more than' "$WORK/$1.out" 2>/dev/null; then
        printf ' HUNG:'
        awk '/blocked for more than/ { split($0, w, "task "); sub(/ blocked.*/, "", w[2]); printf " [%s", w[2]; n = 1; k = 0; next }
             n && /Call Trace|<TASK>/ { next }
             n && /^\[ *[0-9.]+\] +[a-z_0-9.]+\+0x/ { sub(/^\[ *[0-9.]+\] +/, ""); sub(/\/0x.*/, "");
                 if (k++ < 12) printf " %s", $0 }
             n && /<\/TASK>/ { printf "]"; n = 0 }' "$WORK/$1.out" | tr -d '\r'
        printf ' EVENTS:'
        grep -E '^tandem-vmm stats:|^  (ports:|vcpu[0-9]+: vcpu_info|xenstore ring)' "$WORK/$1.err" 2>/dev/null |
            tr -s ' ' | tr '\n' '|'
    fi
}

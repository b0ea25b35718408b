#!/bin/bash
# `make demo` (issue 12 §6): two guests made with `tandem create`, one
# running app=blkbench on a temporary raw disk, one running app=netecho on
# a vif in a bridge of its own; shows `tandem list`, block-list,
# network-list, the console for a moment, the benchmark's result and a ping
# from the host side; then tears everything down and checks nothing is
# left. The bridge and the host-side address live in a network namespace
# the demo makes and removes (no other interface or address is touched);
# the run directory and the disk are temporary.
set -u -o pipefail
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
BIN=$ROOT/$BUILD/bin
TANDEM=$BIN/tandem
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf
DRIVER=$ROOT/tests/integration/console_driver.py
. "$ROOT/hypervisor/tests/emulation.sh"

for f in "$TANDEM" "$BIN/tandem-vmm" "$BIN/xenstored" "$BIN/tandem-consoled" \
         "$BIN/tandem-blkback" "$BIN/tandem-netback" "$KERNEL"; do
    if [ ! -e "$f" ]; then
        echo "demo: $f is missing (did 'make all' succeed?)" >&2
        exit 1
    fi
done
if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    if [ "${TANDEM_TEST_VM:-0}" = 1 ]; then
        echo "demo: /dev/kvm did not appear in the test machine" >&2
        exit 1
    fi
    echo "demo: this host has no usable /dev/kvm: running the demo inside an emulated machine with nested KVM (tests/vm; slow, timings are the emulator's)"
    exec tests/vm/run env BUILD="$BUILD" scripts/demo.sh
fi
for c in ip ping python3; do
    command -v "$c" > /dev/null || { echo "demo: $c is missing (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root (a network namespace and a bridge)" >&2; exit 1; }

F=$(emulation_factor)
NS=tandem-demo-$$         # the "host side" of the network: br0 and 10.77.0.1
HOST_IP=10.77.0.1
GUEST_IP=10.77.0.2
# Not exported: only the commands below get it, so that at the end any
# process still carrying it in its environment is one the demo left behind.
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-demo.XXXXXX)
WORK=$TANDEM_RUNDIR.work
DISK=$WORK/disk0.img
unset XENSTORED_PATH
NS_MADE=0

# Every tandem command runs in the namespace, so the host services it starts
# (tandem-netback's taps above all) are there too.
t() { ip netns exec "$NS" env TANDEM_RUNDIR="$TANDEM_RUNDIR" "$TANDEM" "$@"; }
step() { echo; echo "== $*"; }
die() { echo "demo: FAILED: $*" >&2; exit 1; }
# wait_for TENTHS CMD...: until CMD succeeds, polled every 0.1 s.
wait_for() {
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
gone() { ! t domid "$1" > /dev/null 2>&1; }
# disk_connected: demo-disk's xvda is in state 4 (Connected) on both ends.
disk_connected() { t block-list demo-disk 2> /dev/null | grep -qE '^51712 +0 +[0-9]+ +4 '; }

cleanup() {
    local rc=$?
    if [ "$NS_MADE" = 1 ]; then
        t destroy demo-net > /dev/null 2>&1
        t destroy demo-disk > /dev/null 2>&1
        t services stop > /dev/null 2>&1
        local pidf=$TANDEM_RUNDIR/xenstored/pid
        [ -s "$pidf" ] && kill "$(cat "$pidf")" 2> /dev/null
        ip netns del "$NS" 2> /dev/null
    fi
    rm -rf "$TANDEM_RUNDIR" "$WORK"
    exit $rc
}
trap cleanup EXIT
trap "exit 130" INT TERM   # so that Ctrl-C also tears everything down

step "setup: network namespace $NS with bridge br0 ($HOST_IP/24), a 64 MiB raw disk"
mkdir -p "$WORK"
ip netns add "$NS" || die "cannot make network namespace $NS"
NS_MADE=1
ip netns exec "$NS" ip link set lo up &&
ip netns exec "$NS" ip link add br0 type bridge &&
ip netns exec "$NS" ip addr add "$HOST_IP/24" dev br0 &&
ip netns exec "$NS" ip link set br0 up || die "cannot make bridge br0 in $NS"
truncate -s 64M "$DISK" || die "cannot make $DISK"

cat > "$WORK/demo-disk.cfg" << EOF
name    = "demo-disk"
kernel  = "$KERNEL"
memory  = 64
cmdline = "app=blkbench dev=xvda pattern=randread bs=4096 qd=16 seconds=5"
disk    = [ 'target=$DISK, vdev=xvda, access=rw, format=raw' ]
EOF
cat > "$WORK/demo-net.cfg" << EOF
name    = "demo-net"
kernel  = "$KERNEL"
memory  = 32
cmdline = "app=netecho"
vif     = [ 'bridge=br0, ip=$GUEST_IP/24' ]
EOF

step "tandem create demo-disk: app=blkbench for 5 s on xvda, a raw file"
t create "$WORK/demo-disk.cfg" || die "tandem create demo-disk"

step "tandem block-list demo-disk: xvda served by tandem-blkback, once the guest connected it (state 4)"
wait_for $((300 * F)) disk_connected || die "demo-disk's xvda did not connect: $(t block-list demo-disk 2>&1)"
t block-list demo-disk || die "tandem block-list demo-disk"

step "tandem create demo-net: app=netecho on a vif in br0, ip=$GUEST_IP"
t create "$WORK/demo-net.cfg" || die "tandem create demo-net"

step "tandem list: dom0 and the two guests"
t list || die "tandem list"

step "tandem console demo-net: attached for a moment (until netecho is ready), then Ctrl-]"
python3 "$DRIVER" $((60 * F)) "expect:netecho: ready" 'send:\x1d' exit:0 -- \
    ip netns exec "$NS" env TANDEM_RUNDIR="$TANDEM_RUNDIR" "$TANDEM" console demo-net | tr -d '\r' | grep -v '^$' ||
    die "tandem console demo-net"

step "tandem network-list demo-net: the vif served by tandem-netback"
t network-list demo-net || die "tandem network-list demo-net"

step "ping from the host side ($HOST_IP on br0) to the guest ($GUEST_IP)"
ip netns exec "$NS" ping -c 3 -i 0.2 -W $((2 * F)) "$GUEST_IP" | grep -E "bytes from|transmitted" ||
    die "ping $GUEST_IP"

step "blkbench's result on demo-disk's console (the guest powers off after it)"
CON=$TANDEM_RUNDIR/consoled/guest-demo-disk.log
wait_for $((600 * F)) grep -qE "^blkbench: (pattern|FAIL)" "$CON" || die "no blkbench result in $CON"
grep -E "^blkbench: (pattern|FAIL)" "$CON" | sed -E 's/ (submits|pushes|doorbells|upcalls|polls_found|sleeps|responses|reconnects|resubmitted)=[0-9]+//g'
grep -q "^blkbench: FAIL" "$CON" && die "blkbench failed"
wait_for $((300 * F)) gone demo-disk || die "demo-disk did not power off"
emulated && echo "(inside the test machine: the figures are the emulator's, not Tandem's)"

step "teardown: tandem destroy demo-net, tandem services stop, remove $NS and the disk"
t destroy demo-net || die "tandem destroy demo-net"
wait_for $((100 * F)) gone demo-net || die "demo-net is still listed after destroy"
t list
t services status
t services stop || die "tandem services stop"
t services status | tail -n +2 | tr -s ' ' | cut -d' ' -f1,2 | tr '\n' ' '; echo
ip netns del "$NS" || die "ip netns del $NS"
NS_MADE=0
rm -rf "$DISK" "$WORK"
left=$(grep -lsz "^TANDEM_RUNDIR=$TANDEM_RUNDIR\$" /proc/[0-9]*/environ | cut -d/ -f3 | tr '\n' ' ')
left="$left$(pgrep -f -- "--run-dir $TANDEM_RUNDIR" | tr '\n' ' ')"
[ -z "$left" ] || die "processes left running (pids): $left"
ip netns list | grep -q "^$NS\b" && die "$NS is still there"
rm -rf "$TANDEM_RUNDIR"
echo "nothing left: no tandem process, no namespace, no disk, no run directory"

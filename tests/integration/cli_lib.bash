# Helpers sourced by tests/integration/cli_*.sh and pv_*.sh (not a test
# itself: the runner only runs *.sh). Each test gets its own run directory;
# cleanup stops, by pid, every process the test started, including the
# xenstored that `tandem run` started (found by its pid file).
set -u
BUILD=${BUILD:-build}
TANDEM_ROOT=${TANDEM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TANDEM_BIN=${TANDEM_BIN:-$TANDEM_ROOT/$BUILD/bin}
TANDEM=$TANDEM_BIN/tandem
KERNEL=$TANDEM_ROOT/$BUILD/guest/tandem-guest.elf
unset XENSTORED_PATH TANDEM_VMM TANDEM_XENSTORED TANDEM_VMM_ARGS

export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-cli.XXXXXX)
WORK=$TANDEM_RUNDIR.work
mkdir -p "$WORK"
BG_PIDS=()
FAILS=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILS=$((FAILS + 1)); }
skip_all() { echo "$1"; exit 77; }
. "$(dirname "${BASH_SOURCE[0]}")/../../hypervisor/tests/emulation.sh"
# need_kvm, need_kvm_xen: skip the whole script without a usable /dev/kvm,
# or without Xen support in it.
. "$(dirname "${BASH_SOURCE[0]}")/../../hypervisor/tests/kvm.sh"

cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]}"; do
        wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null
    done
    # A VMM whose `tandem run` could not stop it (identified by our private
    # run directory in its arguments), stopped by pid.
    for p in $(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)"); do
        kill -TERM "$p" 2>/dev/null
        wait_gone "$p" 30 || kill -KILL "$p" 2>/dev/null
    done
    # A created domain's supervisor (a detached `tandem create`), by the
    # pid that holds its lock file.
    for p in $(fuser "$TANDEM_RUNDIR"/dom*.lock 2>/dev/null); do
        kill -TERM "$p" 2>/dev/null
        wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null
    done
    stop_service consoled
    stop_xenstored
    rm -rf "$TANDEM_RUNDIR" "$WORK"
}
trap cleanup EXIT

stop_xenstored() {
    local pidf=$TANDEM_RUNDIR/xenstored/pid p
    [ -s "$pidf" ] || return 0
    p=$(cat "$pidf")
    kill -TERM "$p" 2>/dev/null && { wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; }
    rm -f "$pidf"
}

# use_fake_vmm: tandem starts cli_fake_vmm.py instead of tandem-vmm (each
# start logged to $FAKE_VMM_LOG); KERNEL becomes a file the fake never reads.
use_fake_vmm() {
    need_file "$TANDEM_BIN/xenstored"
    [ -x /usr/bin/xenstore-write ] || { echo "FAIL: setup: Debian xenstore-utils missing"; exit 1; }
    command -v python3 >/dev/null || { echo "FAIL: setup: python3 missing"; exit 1; }
    export TANDEM_VMM=$WORK/fake-vmm FAKE_VMM_LOG=$WORK/vmm.log
    # Debian's interpreter itself: a python3 on PATH may be a wrapper
    # (pyenv's shim is a shell script that costs ~1 s of CPU a start,
    # which made 20 fakes started at once miss create's 10 s).
    local py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3)
    { echo "#!$py"; tail -n +2 "$TANDEM_ROOT/tests/integration/cli_fake_vmm.py"; } > "$TANDEM_VMM"
    chmod +x "$TANDEM_VMM"
    : > "$FAKE_VMM_LOG"
    KERNEL=$WORK/kernel.elf
    : > "$KERNEL"
}

# stop_service NAME: a host service the test's `tandem` started, by the pid
# in RUNDIR/NAME/pid.
stop_service() {
    local pidf=$TANDEM_RUNDIR/$1/pid p
    [ -s "$pidf" ] || return 0
    p=$(cat "$pidf")
    kill -TERM "$p" 2>/dev/null && { wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; }
    rm -f "$pidf"
}

# wait_gone PID TENTHS: true once PID has exited (checked every 0.1 s).
wait_gone() {
    local i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$1" 2>/dev/null
}

# wait_for TENTHS CMD...: true as soon as CMD succeeds (a state, not a delay).
# No wait outlives its file: it gives up 30 s before tests/run.sh would
# kill the file (TANDEM_TEST_DEADLINE, epoch seconds), so that a stall ends
# in a FAIL line with the state it shows instead of the file dying without
# a word (CI at 21:52: linux_net's wait for the guest's sum outlived it).
wait_for() {
    local n=$1 i cap=$((${TANDEM_TEST_DEADLINE:-0} - 30))
    shift
    for ((i = 0; i < n; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        [ "$cap" -gt 0 ] && [ "$EPOCHSECONDS" -ge "$cap" ] && return 1
        sleep 0.1
    done
    "$@" >/dev/null 2>&1
}

file_has() { grep -qE -- "$2" "$1"; }

need_tandem() {
    [ -x "$TANDEM" ] || { echo "FAIL: setup: $TANDEM is not built"; exit 1; }
}

need_file() {
    [ -e "$1" ] || { echo "FAIL: setup: $1 is missing (not built?)"; exit 1; }
}

# xs CMD ARGS: Debian's xenstore-utils against our daemon.
xs() { XENSTORED_PATH=$TANDEM_RUNDIR/xenstored/socket "/usr/bin/xenstore-$1" "${@:2}"; }

# write_cfg FILE NAME CMDLINE [extra lines...]
write_cfg() {
    local f=$1 name=$2 cmdline=$3
    shift 3
    {
        echo "name = \"$name\""
        echo "kernel = \"$KERNEL\""
        echo "memory = 32"
        echo "cmdline = \"$cmdline\""
        [ -z "${GUEST_CPU_MODE:-}" ] || echo "cpu_mode = \"$GUEST_CPU_MODE\""
        local l
        for l in "$@"; do echo "$l"; done
    } > "$f"
}

# start_bg NAME CFG [overrides]: `tandem run` in the background; its output
# goes to $WORK/NAME.out/.err, its pid to BG_PIDS and $LAST_PID.
start_bg() {
    local name=$1 cfg=$2
    shift 2
    "$TANDEM" run "$cfg" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# wait_rc PID TENTHS: waits for a background run; its status in $RC
# (124 on timeout, after stopping it: SIGTERM makes tandem destroy the
# domain, SIGKILL if even that hangs). Not in a $(...): only this shell can
# wait for its children.
wait_rc() {
    if wait_gone "$1" "$2"; then
        wait "$1"; RC=$?
    else
        kill -TERM "$1" 2>/dev/null
        wait_gone "$1" 100 || kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null; RC=124
    fi
}

# nothing_left DOMID UUID: no trace in xenstore, the run dir or the process table.
nothing_left() {
    local id=$1 uuid=$2 why=""
    xs exists "/local/domain/$id" 2>/dev/null && why="$why /local/domain/$id still in xenstore;"
    [ -n "$uuid" ] && xs exists "/vm/$uuid" 2>/dev/null && why="$why /vm/$uuid still in xenstore;"
    [ -e "$TANDEM_RUNDIR/dom$id.ctl" ] && why="$why dom$id.ctl left;"
    [ -e "$TANDEM_RUNDIR/dom$id.lock" ] && why="$why dom$id.lock left;"
    pgrep -f -- "--domid $id .*--run-dir $TANDEM_RUNDIR" >/dev/null &&
        why="$why a tandem-vmm for domain $id still runs;"
    echo "$why"
    [ -z "$why" ]
}

# cleanup_with_backends: cleanup, after the blkback and netback the test
# started (by their pid files) and its namespace $NS (switch_ns_or_finish).
cleanup_with_backends() {
    stop_service blkback
    stop_service netback
    [ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
    cleanup
}

# switch_ns_or_finish WHAT: a network namespace of this test's (name in
# $NS; the caller's EXIT trap removes it) with an up bridge br0, where
# tandem-netback can be run; without root, ip(8), /dev/net/tun or
# tandem-netback, says "SKIP: WHAT: ..." and finishes the test.
switch_ns_or_finish() {
    if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip > /dev/null ||
       [ ! -x "$TANDEM_BIN/tandem-netback" ]; then
        echo "SKIP: $1: needs root, ip(8), /dev/net/tun and tandem-netback"
        finish
    fi
    NS=tdm-$$$RANDOM
    ip netns add "$NS" || { echo "SKIP: $1: cannot make a namespace"; NS=""; finish; }
    ip netns exec "$NS" ip link add br0 type bridge
    ip netns exec "$NS" ip link set br0 up
}

finish() {
    [ "$FAILS" = 0 ]
    exit $?
}

# Helpers for tests/integration/vmm_*.sh (sourced). Every process a test
# starts is stopped by pid in cleanup; temp dirs come from mktemp.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
VMM=$BIN/tandem-vmm
GUESTDIR=$ROOT/$BUILD/guest
TMP=$(mktemp -d /tmp/tandem-vmm-test.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# need_kvm NAME, need_kvm_xen NAME: skip the whole script (status 77)
# without a usable /dev/kvm, or without Xen support in it.
. "$ROOT/hypervisor/tests/kvm.sh"
. "$ROOT/hypervisor/tests/emulation.sh"

need_file() { # name file
    if [ ! -e "$2" ]; then
        fail "$1" "$2 not built"
        return 1
    fi
}

# run_vmm NAME TIMEOUT ARGS... : runs tandem-vmm, output in $TMP/NAME.out
# (stdout) and $TMP/NAME.err; exit status in RC (124 = hung).
run_vmm() {
    local name=$1 t=$2
    shift 2
    timeout -k 5 "$t" "$VMM" --run-dir "$TMP/run-$name" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null
    RC=$?
}

# wait_for FILE REGEX TIMEOUT_S: waits until a line of FILE matches.
# Both waits give up only when the thing never happened; in the test
# machine a start takes several times longer, so they wait 6x as long there.
wait_for() {
    local file=$1 re=$2 deadline=$((SECONDS + $3 * $(emulation_factor)))
    local left=$((${TANDEM_TEST_DEADLINE:-0} - 30 - EPOCHSECONDS))
    # Never past 30 s before tests/run.sh kills the file (cli_lib.bash's wait_for).
    [ "${TANDEM_TEST_DEADLINE:-0}" -gt 0 ] && [ $((SECONDS + left)) -lt "$deadline" ] &&
        deadline=$((SECONDS + left))
    while [ $SECONDS -lt $deadline ]; do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# wait_sock PATH TIMEOUT_S: waits until PATH is a listening unix socket.
wait_sock() {
    local deadline=$((SECONDS + $2 * $(emulation_factor)))
    while [ $SECONDS -lt $deadline ]; do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

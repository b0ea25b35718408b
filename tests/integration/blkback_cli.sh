#!/bin/bash
# tandem-blkback's command line and startup errors: a message on stderr
# naming the problem and the documented exit status (2: bad command line,
# 1: cannot start), never a crash. Needs no KVM and no xenstored.
set -u
BIN=${TANDEM_BIN:-build/bin}/tandem-blkback
if [ ! -x "$BIN" ]; then
    echo "SKIP: blkback_cli: $BIN not built"
    exit 0
fi
WORK=$(mktemp -d /tmp/tandem-blkback-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

# check NAME WANT-RC STDERR-REGEX ARGS...
check() {
    local name=$1 want=$2 re=$3
    shift 3
    XENSTORED_PATH=$WORK/no-such-socket timeout 10 "$BIN" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
    local rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$name" "exit status $rc, expected $want (stderr: $(head -c 300 "$WORK/err"))"
    elif ! grep -qE -- "$re" "$WORK/err"; then
        fail "$name" "stderr '$(head -c 300 "$WORK/err")' does not match '$re'"
    else
        pass "$name"
    fi
}

check poll_not_a_number 2 'poll-us: "x" is not a number' --poll-us x
check poll_too_big 2 'poll-us: "10001" is not a number in 0..10000' --poll-us 10001
check queues_zero 2 'max-queues: "0" is not a number in 1..16' --max-queues 0
check queues_sign 2 'max-queues: "\+2"' --max-queues +2
check order_too_big 2 'max-ring-order: "5" is not a number in 0..4' --max-ring-order 5
check unknown_option 2 'usage: tandem-blkback' --frobnicate
check stray_argument 2 'usage: tandem-blkback' extra
check no_xenstored 1 'cannot reach xenstored' --run-dir "$WORK"

if "$BIN" --help > "$WORK/out" 2>&1 && grep -q -- '--max-ring-order' "$WORK/out"; then
    pass help
else
    fail help "--help did not exit 0 with the usage"
fi

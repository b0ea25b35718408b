#!/bin/bash
# `make demo`: boots the guest's hello app through `tandem run` and shows its
# console. Uses a private run directory and stops the services it started.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/$BUILD/bin
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf

for f in "$BIN/tandem" "$BIN/tandem-vmm" "$BIN/xenstored" "$KERNEL"; do
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
    echo "demo: this host has no usable /dev/kvm: booting the demo inside an emulated machine with nested KVM (tests/vm; slow, timings are the emulator's)"
    exec tests/vm/run env BUILD="$BUILD" scripts/demo.sh
fi

export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-demo.XXXXXX)
unset XENSTORED_PATH
cleanup() { # the host services `tandem run` started (xenstored, consoled, ...)
    "$BIN/tandem" services stop > /dev/null 2>&1
    local pidf=$TANDEM_RUNDIR/xenstored/pid
    if [ -s "$pidf" ]; then
        kill "$(cat "$pidf")" 2>/dev/null
    fi
    rm -rf "$TANDEM_RUNDIR"
}
trap cleanup EXIT

echo "demo: tandem run examples/hello.cfg kernel=\"$KERNEL\""
echo "----------------------------------------------------------------"
"$BIN/tandem" run examples/hello.cfg "kernel=\"$KERNEL\""
rc=$?
echo "----------------------------------------------------------------"
echo "demo: tandem run exited with status $rc ($([ $rc = 0 ] && echo 'guest powered off' || echo 'see docs/abi.md'))"
exit $rc

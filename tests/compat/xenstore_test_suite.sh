#!/bin/bash
# Xen's own xenstore test suite (/usr/lib/xen-4.17/bin/test-xenstore, from
# Debian's xen-utils-4.17) against our xenstored: every test it lists, each
# reported as a PASS:/FAIL: line.  Run twice: with Xen's libxenstore.so.4
# (tests our daemon) and with ours via LD_LIBRARY_PATH (tests our library's
# ABI and behaviour under a program built for Xen's).
set -u
. "$(dirname "$0")/xenstore_daemon.inc"
SUITE=/usr/lib/xen-4.17/bin/test-xenstore
if [ ! -x "$SUITE" ]; then
    echo "SKIP: test-xenstore: $SUITE not installed (Debian xen-utils-4.17)"
    exit 0
fi
xsd_start
OURLIB=$TANDEM_ROOT/${BUILD:-build}/lib

# An ASan-built library needs the ASan runtime loaded first.
ourlib_env=(env LD_LIBRARY_PATH="$OURLIB")
if [ "${SAN:-0}" = 1 ]; then
    ourlib_env+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
fi

mapfile -t tests < <("$SUITE" -l | sed 's/ *:.*//')
if [ ${#tests[@]} -eq 0 ]; then
    fail "test-xenstore" "lists no tests"
    exit 1
fi

run_suite() { # label, command prefix...
    local label=$1 t out rc; shift
    for t in "${tests[@]}"; do
        out=$(timeout 60 "$@" "$SUITE" -i 20 -t "$t" 2>&1); rc=$?
        if [ $rc = 0 ] && echo "$out" | grep -q "^$t *: .*ns"; then
            pass "test-xenstore[$label]: $t"
        else
            fail "test-xenstore[$label]: $t" "rc=$rc $(echo "$out" | tr '\n' ' ')"
        fi
    done
}

run_suite xen-lib env
if [ -e "$OURLIB/libxenstore.so.4" ]; then
    run_suite our-lib "${ourlib_env[@]}"
else
    fail "test-xenstore[our-lib]" "$OURLIB/libxenstore.so.4 not built"
fi

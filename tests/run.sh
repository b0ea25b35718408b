#!/bin/bash
# Runs every test and ends with one line: "N passed, N failed[, N skipped]".
#
# - Unit tests: every executable in $BUILD/tests/unit (Check suites). Their
#   "Checks: N, Failures: F, Errors: E" summary is counted case by case.
# - Integration and compat tests: tests/integration/*.sh, tests/compat/*.sh.
#   A script may print result lines "PASS: name", "FAIL: name: why",
#   "SKIP: name: why"; those are counted. A script that prints none counts
#   as one test: exit 0 passed, 77 skipped, anything else failed.
# - Fuzz targets: every executable in $BUILD/fuzz, run for $FUZZ_SECONDS
#   (default 60) each under ASan/libFuzzer (skipped when NO_FUZZ=1).
# TEST_FILTER=regex runs only the tests whose path matches.
set -u
BUILD=${BUILD:-build}
export BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TANDEM_ROOT=$ROOT
export TANDEM_BIN=$ROOT/$BUILD/bin
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
FILTER=${TEST_FILTER:-.}
pass=0 fail=0 skip=0
failed_names=()
LOGDIR=$(mktemp -d /tmp/tandem-test-logs.XXXXXX)

count_lines() { # file name rc
    local f=$1 name=$2 rc=$3 p f2 s
    p=$(grep -c '^PASS: ' "$f"); f2=$(grep -c '^FAIL: ' "$f"); s=$(grep -c '^SKIP: ' "$f")
    if [ $((p + f2 + s)) -gt 0 ]; then
        pass=$((pass + p)); fail=$((fail + f2)); skip=$((skip + s))
        grep -E '^(FAIL|SKIP): ' "$f" | sed "s|^|  $name: |"
        while read -r l; do failed_names+=("$name: $l"); done < <(grep '^FAIL: ' "$f")
        if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f2" = 0 ]; then
            fail=$((fail + 1)); failed_names+=("$name (exit $rc)")
            echo "  $name: exited $rc"
        fi
    else
        case $rc in
            0) pass=$((pass + 1));;
            77) skip=$((skip + 1)); echo "  SKIP $name: $(tail -n 1 "$f")";;
            *) fail=$((fail + 1)); failed_names+=("$name (exit $rc)");;
        esac
    fi
}

run_one() { # name, command...
    local name=$1; shift
    local log=$LOGDIR/$(echo "$name" | tr '/' '_').log
    local t0=$SECONDS rc
    timeout --foreground -k 10 "$TEST_TIMEOUT" "$@" > "$log" 2>&1 < /dev/null
    rc=$?
    [ $rc = 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >> "$log"
    echo "[$name] rc=$rc $((SECONDS - t0))s"
    if [ $rc != 0 ] && [ $rc != 77 ]; then sed 's/^/    | /' "$log" | tail -n 40; fi
    RC=$rc LOG=$log
}

for t in "$BUILD"/tests/unit/*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    echo "$t" | grep -qE "$FILTER" || continue
    run_one "unit/$(basename "$t")" env CK_FORK=yes CK_DEFAULT_TIMEOUT=60 "$t"
    sum=$(grep -oE 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$LOG" | tail -n 1)
    if [ -n "$sum" ]; then
        n=$(echo "$sum" | awk -F'[ ,]+' '{print $2}')
        fl=$(echo "$sum" | awk -F'[ ,]+' '{print $4}')
        er=$(echo "$sum" | awk -F'[ ,]+' '{print $6}')
        pass=$((pass + n - fl - er)); fail=$((fail + fl + er))
        [ $((fl + er)) -gt 0 ] && failed_names+=("unit/$(basename "$t")")
        grep -E ':[EF]:' "$LOG" | sed 's/^/  /'
    else
        count_lines "$LOG" "unit/$(basename "$t")" "$RC"
    fi
done

for t in tests/integration/*.sh tests/compat/*.sh; do
    [ -f "$t" ] || continue
    echo "$t" | grep -qE "$FILTER" || continue
    run_one "${t#tests/}" bash "$t"
    count_lines "$LOG" "${t#tests/}" "$RC"
done

if [ "${NO_FUZZ:-0}" != 1 ]; then
    for t in "$BUILD"/fuzz/*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        echo "$t" | grep -qE "$FILTER" || continue
        corpus=$(mktemp -d /tmp/tandem-fuzz.XXXXXX)
        seeds=tests/fuzz/corpus/$(basename "$t")
        [ -d "$seeds" ] || seeds=
        run_one "fuzz/$(basename "$t")" "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 "$corpus" $seeds
        count_lines "$LOG" "fuzz/$(basename "$t")" "$RC"
        rm -rf "$corpus"
    done
fi

if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failed:"; printf '  %s\n' "${failed_names[@]}"
    echo "logs in $LOGDIR"
else
    rm -rf "$LOGDIR"
fi
line="$pass passed, $fail failed"
[ $skip -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ $fail = 0 ]

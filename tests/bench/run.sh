#!/bin/bash
# `make bench`: runs every tests/bench/*.sh in turn (each prints a markdown
# table of figures it measured in this run) and collects the output in
# $BUILD/bench/results.md. BENCH_FILTER=regex runs a subset.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export BUILD TANDEM_ROOT=$ROOT TANDEM_BIN=$ROOT/$BUILD/bin
mkdir -p "$BUILD/bench"
out=$BUILD/bench/results.md
{
    echo "# Tandem benchmark results"
    echo
    echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, kernel $(uname -r)."
    echo "Command: \`make bench\`"
    echo
} > "$out"
rc=0
for b in tests/bench/*.sh; do
    [ "$b" = tests/bench/run.sh ] && continue
    echo "$b" | grep -qE "${BENCH_FILTER:-.}" || continue
    echo "== $b"
    if ! bash "$b" | tee -a "$out"; then
        echo "bench $b failed" | tee -a "$out"; rc=1
    fi
    echo >> "$out"
done
echo "results in $out"
exit $rc

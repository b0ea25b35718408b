#!/bin/bash
# xenstore benchmark (run by tests/bench/run.sh): starts our xenstored in a
# temp dir and runs $BUILD/tests/bench/xenstore_bench against it, which
# prints a markdown table.  XS_BENCH_SECONDS sets the time per cell (2 s), XS_BENCH_ROUNDS
# the interleaved rounds (5): with 0.5 s x 3 two runs a minute apart gave a
# libxenstore read 1.06x and 1.22x the floor; with 2 s x 5, 1.02x and 1.02x.
set -u
. "$(dirname "$0")/../compat/xenstore_daemon.inc"
BENCH=$TANDEM_ROOT/${BUILD:-build}/tests/bench/xenstore_bench
if [ ! -x "$BENCH" ]; then
    echo "xenstore_bench not built: $BENCH" >&2
    exit 1
fi
# Round trips between processes cost very different amounts depending on
# whether the peer sits on the same CPU; on this nested VM that alone
# swings a result 4x.  So the servers (xenstored and the echo server) get
# the last CPU and the clients the others, the same for floor and daemon.
pin=()
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && command -v taskset > /dev/null; then
    XSD_WRAP=(taskset -c $((ncpu - 1)))
    pin=(--server-cpu $((ncpu - 1)) --client-cpus "0-$((ncpu - 2))")
fi
# Xen's own library (Debian's libxenstore4, pulled in by xen-utils-4.17)
# gets a row of its own when it is installed.
xen=()
for so in /usr/lib/*/libxenstore.so.4 /usr/lib/libxenstore.so.4; do
    [ -e "$so" ] && { xen=(--xen-lib "$so"); break; }
done
xsd_start > /dev/null || exit 1
"$BENCH" --socket "$XENSTORED_PATH" --seconds "${XS_BENCH_SECONDS:-2}" \
    --rounds "${XS_BENCH_ROUNDS:-5}" "${pin[@]+"${pin[@]}"}" "${xen[@]+"${xen[@]}"}"

#!/bin/bash
# Network benchmark, dom0 half (run by tests/bench/run.sh; issue 11 §5):
# tandem-netback driven by the in-process fake netfront at host speed
# (drivers/net_fakeguest bench), against the floor measured in the same
# run: two taps on one bridge driven by the same program. Frames of 64
# bytes (pps) and 1514 bytes (a 1472-byte UDP payload; Mbit/s of frame
# bytes), guest->tap (tx) and tap->guest (rx); every case counts what
# arrived at the far end. All in a network namespace made for the run
# (unique name, removed at the end). NET_BENCH_SECONDS (3) per case,
# NET_BENCH_ROUNDS (3) interleaved rounds; medians shown.
# Prints a markdown table. Needs root, ip(8) and /dev/net/tun.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
DRV=$ROOT/$BUILD/tests/drivers/net_fakeguest
SECS=${NET_BENCH_SECONDS:-3}
ROUNDS=${NET_BENCH_ROUNDS:-3}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip > /dev/null; then
    echo "net bench skipped: needs root, ip(8) and /dev/net/tun" >&2
    exit 0
fi
NS=tdm-nbench-$$$RANDOM
TMP=$(mktemp -d /tmp/tandem-net-bench.XXXXXX)
XSD_PID= NB_PID= G_PID=
stop_pid() { [ -n "$1" ] && kill -"$2" "$1" 2>/dev/null && wait "$1" 2>/dev/null; }
cleanup() {
    stop_pid "$G_PID" TERM
    stop_pid "$NB_PID" TERM
    stop_pid "$XSD_PID" TERM
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
wait_for() { # seconds cmd...
    local end=$((SECONDS + $1)); shift
    until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.05; done
}
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || { echo "net bench: cannot make a namespace" >&2; exit 1; }
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for br in brn brf; do in_ns ip link add $br type bridge && in_ns ip link set $br up; done
ip netns exec "$NS" "$BIN/xenstored" --foreground --socket "$TMP/xs.sock" > "$TMP/xsd.log" 2>&1 &
XSD_PID=$!
wait_for 10 test -S "$TMP/xs.sock" || { echo "net bench: xenstored did not start" >&2; exit 1; }
export XENSTORED_PATH=$TMP/xs.sock
ip netns exec "$NS" "$DRV" bench --bridge brn --tap hostn --floor-bridge brf --tap2 floora \
    --seconds "$SECS" --rounds "$ROUNDS" > "$TMP/out" 2> "$TMP/err" &
G_PID=$!
wait_for 10 grep -q '^rundir ' "$TMP/out" || { echo "net bench: $(cat "$TMP/err")" >&2; exit 1; }
ip netns exec "$NS" "$BIN/tandem-netback" --run-dir "$(sed -n 's/^rundir //p' "$TMP/out")" \
    --stats-dir "$TMP/stats" > "$TMP/netback.log" 2>&1 &
NB_PID=$!
wait "$G_PID"; rc=$?; G_PID=
if [ $rc != 0 ]; then echo "net bench failed: $(tail -3 "$TMP/err") $(tail -3 "$TMP/netback.log")" >&2; exit 1; fi

# median of field F over the lines of case C and size S
med() {
    grep "^case=$1 size=$2 " "$TMP/out" | tr ' ' '\n' | sed -n "s/^$3=//p" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}
echo "## Network: netback with the fake netfront vs the tap-to-tap floor"
echo
echo "Command: \`BENCH_FILTER=net make bench\` ($ROUNDS interleaved rounds of ${SECS} s per case; medians)."
echo
echo "| case | 64 B frames: pps | % of floor | 1514 B frames: Mbit/s | % of floor |"
echo "|---|---|---|---|---|"
fp=$(med floor 64 pps); fm=$(med floor 1514 mbit)
row() { # label case
    local p m
    p=$(med "$2" 64 pps); m=$(med "$2" 1514 mbit)
    echo "| $1 | $p | $(awk -v a="$p" -v b="$fp" 'BEGIN{printf "%.0f %%", b ? 100*a/b : 0}') |" \
         "$m | $(awk -v a="$m" -v b="$fm" 'BEGIN{printf "%.0f %%", b ? 100*a/b : 0}') |"
}
echo "| floor: tap -> bridge -> tap | $fp | 100 % | $fm | 100 % |"
row "netback guest -> tap (tx)" tx
row "netback tap -> guest (rx)" rx
echo
echo "Raw lines:"
echo
sed 's/^/    /' "$TMP/out" | grep 'case='

#!/bin/bash
# tandem-blkback without a guest (run by tests/bench/run.sh; needs no
# /dev/kvm): the real daemon driven by the fake blkfront of the blkback
# tests on the fake VMM ($BUILD/tests/bench/blkback_fake_bench, which starts
# and stops the daemon itself), against host fio (io_uring, O_DIRECT) on
# the same file, in the same run: 4k randread qd=1 (p50/p99 per request),
# 4k randread and randwrite qd=32 (requests/s), 128k sequential read qd=8
# (MB/s). Each case runs ROUNDS interleaved fio/blkback pairs and shows
# each side's median sample, so drift on this shared host hits both.
# Both sides use the same kind of buffer memory: a tmpfs mounted
# huge=always (2 MiB pages) when one can be mounted (root), else 4 KiB
# shared-memory pages (fio --iomem=mmapshared[:FILE], the fake guest's
# memory a file there or its memfd).
#
# BLKFAKE_BENCH_SECONDS per sample (default 5), BLKFAKE_BENCH_ROUNDS pairs
# per case (default 3), BLKFAKE_BENCH_CASES a regex of case names (default
# all), BLKFAKE_BENCH_POLL_US the fake frontend's poll before it sleeps
# (default 100, as Tandem's blkfront); BENCH_QUICK=1 is a smoke run (1 s, one pair, 64 MiB file).
# Each case also gets one sample with polling off on both ends, for CPU
# time per request that is work rather than spinning.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export TANDEM_BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
DRIVER=$ROOT/$BUILD/tests/bench/blkback_fake_bench
SECS=${BLKFAKE_BENCH_SECONDS:-5}
ROUNDS=${BLKFAKE_BENCH_ROUNDS:-3}
CASES_RE=${BLKFAKE_BENCH_CASES:-.}
POLL_US=${BLKFAKE_BENCH_POLL_US:-100}
SIZE=512M WARMUP_MS=300
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SECS=1 ROUNDS=1 SIZE=64M WARMUP_MS=100
fi
unset XENSTORED_PATH TANDEM_RUNDIR
. "$ROOT/tests/bench/fio_host.inc"
. "$ROOT/tests/compat/xenstore_daemon.inc"      # xsd_start; stops xenstored on exit

for f in "$DRIVER" "$TANDEM_BIN/tandem-blkback" "$TANDEM_BIN/xenstored"; do
    [ -x "$f" ] || { echo "blkback fake bench: $f is not built" >&2; exit 1; }
done
command -v fio > /dev/null || { echo "blkback fake bench: fio is not installed" >&2; exit 1; }

mkdir -p "$ROOT/$BUILD/bench"
# On the build tree's file system (a real disk), as blk_bench.sh.
DISK=$(mktemp "$ROOT/$BUILD/bench/blkfake-disk.XXXXXX")
MEMDIR=$(mktemp -d /tmp/tandem-blkfake-mem.XXXXXX)
restore() {
    rm -f "$DISK"
    umount "$MEMDIR" 2> /dev/null
    rm -rf "$MEMDIR"
}
XS_CLEANUP+=(restore)
# fio maps a shared file without sizing it: make it (4 MiB, allocated so
# that the tmpfs gives it 2 MiB pages) first.
if mount -t tmpfs -o huge=always,size=64M,mode=0700 tandem-blkfake "$MEMDIR" 2> /dev/null &&
    fallocate -l 4M "$MEMDIR/fio.buf"; then
    FIO_IOMEM=mmapshared:$MEMDIR/fio.buf FAKE_MEM=(--mem-dir "$MEMDIR")
    MEMNOTE="buffers on a tmpfs mounted huge=always, allocated up front (2 MiB pages), on both sides (fio --iomem=mmapshared:FILE there; the fake guest's memory a file there)"
else
    FIO_IOMEM=mmapshared FAKE_MEM=()
    MEMNOTE="buffers in 4 KiB shared-memory pages on both sides (fio --iomem=mmapshared; the fake guest's memfd): could not mount a tmpfs with huge pages"
fi

# A fully allocated file: reads of holes would never reach the disk.
fio --name=layout --filename="$DISK" --size="$SIZE" --rw=write --bs=1M --direct=1 \
    --ioengine=io_uring --iodepth=8 --output-format=terse > /dev/null || exit 1
xsd_start > /dev/null || exit 1

# fake_run RW BS QD [driver options] -> the driver's line (empty on
# failure; why on stderr)
fake_run() {
    "$DRIVER" --file "$DISK" --rw "$1" --bs "$2" --qd "$3" --seconds "$SECS" \
        --warmup-ms "$WARMUP_MS" --poll-us "$POLL_US" ${FAKE_MEM[@]+"${FAKE_MEM[@]}"} "${@:4}"
}
# Nobody polls: CPU time per request is then the work, not the spinning.
NOPOLL=(--poll-us 0 --blkback-arg --busy-poll-us=0 --blkback-arg --poll-us=0)

echo "## tandem-blkback without a guest: fake blkfront vs host fio"
echo
echo "One $SIZE file on $(df -T "$DISK" | awk 'NR==2 {print $2}'), ${ROUNDS} interleaved rounds of ${SECS} s per side and case (each side's median sample shown): host fio (io_uring, O_DIRECT, one job) then the real tandem-blkback (O_DIRECT, defaults) driven by the in-process fake blkfront on the fake VMM (one 32-slot ring kept full to the depth, persistent grants, indirect requests above 11 segments, polls ${POLL_US} µs before arming rsp_event and sleeping). $MEMNOTE. $(nproc) host CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the start."
echo
echo "µs/request is the median latency at qd=1 and 1e6/IOPS at depth; \"added\" is blkback's minus fio's."
echo
echo "| case | fio IOPS | blkback IOPS | fio MB/s | blkback MB/s | fio p50/p99 µs | blkback p50/p99 µs | fio µs/req | blkback µs/req | added µs/req | blkback/fio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
BREAKDOWN=() CPU=()
rc=0
while read -r name rw bs qd metric; do
    [[ $name =~ $CASES_RE ]] || continue
    hosts=() fakes=()
    for _ in $(seq "$ROUNDS"); do
        hosts+=("$(fio_run "$DISK" "$FIO_IOMEM" "$SECS" "$rw" "$bs" "$qd")")
        f=$(fake_run "$rw" "$bs" "$qd") || { fakes=(); break; }
        fakes+=("$f")
    done
    key=$metric
    [ "$key" = p50 ] && key=p50_us
    hline=$(median "$key" "${hosts[@]}")
    if [ ${#fakes[@]} -eq 0 ] || [ -z "$hline" ]; then
        echo "| $name | $(field "$hline" iops) | FAILED | | | | | | | | |"
        rc=1
        continue
    fi
    fline=$(median "$key" "${fakes[@]}")
    nline=$(fake_run "$rw" "$bs" "$qd" "${NOPOLL[@]}") || rc=1
    python3 - "$name" "$metric" "$qd" "$hline" "$fline" <<'PY'
import sys
name, metric, qd, h, f = sys.argv[1:6]
kv = lambda l: {k: float(v) for k, v in (x.split("=") for x in l.split())}
h, f = kv(h), kv(f)
per_req = lambda s: s["p50_us"] if int(qd) == 1 else 1e6 / s["iops"]
if metric == "p50":
    ratio = f"{f['p50_us'] / h['p50_us']:.2f}x p50"
else:
    ratio = f"{f[metric] / h[metric] * 100:.0f}% {'IOPS' if metric == 'iops' else 'MB/s'}"
print(f"| {name} | {h['iops']:.0f} | {f['iops']:.0f} | {h['mbps']:.1f} | {f['mbps']:.1f} "
      f"| {h['p50_us']:.1f}/{h['p99_us']:.1f} | {f['p50_us']:.1f}/{f['p99_us']:.1f} "
      f"| {per_req(h):.2f} | {per_req(f):.2f} | {per_req(f) - per_req(h):+.2f} | {ratio} |")
PY
    BREAKDOWN+=("$(python3 - "$name" "$fline" <<'PY'
import sys
name, line = sys.argv[1:3]
s = {k: float(v) for k, v in (x.split("=") for x in line.split())}
n, b = max(s["requests"], 1), max(s["be_requests"], 1)
print(f"| {name} | {s['requests']:.0f} | {s['kicks'] / n:.3f} | {s['sleeps'] / n:.3f} "
      f"| {s['be_kicks'] / b:.3f} | {s['be_notifies'] / b:.3f} | {'yes' if s['direct'] else 'NO'} "
      f"| {'yes' if s['persistent'] else 'NO'} |")
PY
)")
    CPU+=("$(python3 - "$name" "$hline" "$fline" "$nline" <<'PY'
import sys
name, h, f, n = sys.argv[1:5]
kv = lambda l: {k: float(v) for k, v in (x.split("=") for x in l.split())}
h, f = kv(h), kv(f)
n = kv(n) if n else None
np = (f"{n['be_cpu_us']:.1f} | {n['fe_cpu_us']:.1f} | {n['iops']:.0f} ({n['iops'] / h['iops'] * 100:.0f}%) "
      f"| {n['p50_us']:.1f}/{n['p99_us']:.1f}") if n else "FAILED | | |"
print(f"| {name} | {h['cpu_us']:.1f} | {f['be_cpu_us']:.1f} | {np} |")
PY
)")
done <<'CASES'
4k-randread-qd1 randread 4096 1 p50
4k-randread-qd32 randread 4096 32 iops
4k-randwrite-qd32 randwrite 4096 32 iops
128k-read-qd8 read 131072 8 mbps
CASES
echo
echo "Per request (the median blkback sample): the fake frontend's kicks and sleeps on its event"
echo "channel (measured phase), the backend's kicks taken and notifications sent (its queue's"
echo "closing log line, warm-up included); O_DIRECT and persistent grants as agreed."
echo
echo "| case | requests | fe kicks/req | fe sleeps/req | be kicks/req | be notifications/req | O_DIRECT | persistent |"
echo "|---|---|---|---|---|---|---|---|"
for b in ${BREAKDOWN[@]+"${BREAKDOWN[@]}"}; do echo "$b"; done
echo
echo "CPU time (user + system) per request: fio's (the median sample); the daemon's, whole life"
echo "over every request it served, with its default polling (it spins while I/O is in flight) and"
echo "in one more sample with polling off on both ends (the daemon's --busy-poll-us=0 --poll-us=0,"
echo "the fake's --poll-us 0: every wait sleeps, so CPU time is work), with that sample's frontend"
echo "thread, IOPS (vs fio's) and latency."
echo
echo "| case | fio CPU µs/req | blkback CPU µs/req, polling | blkback CPU µs/req, no polling | fake frontend CPU µs/req, no polling | IOPS, no polling | p50/p99 µs, no polling |"
echo "|---|---|---|---|---|---|---|"
for b in ${CPU[@]+"${CPU[@]}"}; do echo "$b"; done
exit $rc

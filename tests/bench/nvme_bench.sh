#!/bin/bash
# The NVMe model's own cost per command beside the PV block path's cost per
# request and the host's floor (run by tests/bench/run.sh; needs no
# /dev/kvm; BENCH_FILTER=nvme). 4 KiB random reads at queue depth 1
# (latency: p50/p99) and 32 (IOPS), on two files made for the run:
#   - one in /dev/shm (tmpfs: RAM, so what the paths themselves cost
#     dominates);
#   - one in /var/tmp (this host's disk), opened O_DIRECT as the block
#     engine opens a disk.
# Paths, each on the same file in the same run:
#   - host floor: io_uring (the engine's ring flags, registered buffers,
#     READ_FIXED; waits in io_uring_enter), the same spinning on its CQ,
#     and pread (qd 1);
#   - the block engine alone (backends/engine, driven as the NVMe model's
#     thread drives it);
#   - the NVMe model (hypervisor/vmm/dev/nvme.c), driven from the host by
#     $BUILD/tests/bench/nvme_cost with no guest: doorbells as MMIO writes
#     through tandem-vmm's I/O bus, and with shadow doorbells + the
#     doorbell eventfd (Doorbell Buffer Config, as Linux uses it; KVM's
#     ioeventfd's part played by the driver); and run inline (the model's
#     manual mode: no thread, the driver runs its rounds while it spins),
#     which beside the spinning floor leaves the model's own work;
#   - PV: the real tandem-blkback driven by the fake blkfront on the fake
#     VMM ($BUILD/tests/bench/blkback_fake_bench, as blkback_fake_bench.sh
#     runs it; its defaults: the frontend polls 100 µs before sleeping, the
#     daemon busy-polls while I/O is in flight).
# Every path's guest memory (or buffer) is 4 KiB pages of a memfd. Each
# round runs every path once per case, interleaved (floor, engine, model,
# model-shadow, model-inline, blkback, ...), NVME_BENCH_ROUNDS rounds (default 3) of
# NVME_BENCH_SECONDS (default 3) per sample; each cell is the median
# sample (by p50 at qd 1, by IOPS at qd 32), with every round's figure
# beside it. NVME_BENCH_MIB: the files' size (256). BENCH_QUICK=1: 1 s,
# one round, 64 MiB. The files and xenstored (for blkback) are removed /
# stopped by pid at exit.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export TANDEM_BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
COST=$ROOT/$BUILD/tests/bench/nvme_cost
BLKFAKE=$ROOT/$BUILD/tests/bench/blkback_fake_bench
SECS=${NVME_BENCH_SECONDS:-3}
ROUNDS=${NVME_BENCH_ROUNDS:-3}
MIB=${NVME_BENCH_MIB:-256}
WARMUP_MS=300
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SECS=1 ROUNDS=1 MIB=64 WARMUP_MS=100
fi
unset XENSTORED_PATH TANDEM_RUNDIR
. "$ROOT/tests/compat/xenstore_daemon.inc"      # xsd_start; stops xenstored on exit

for f in "$COST" "$BLKFAKE" "$TANDEM_BIN/tandem-blkback" "$TANDEM_BIN/xenstored"; do
    [ -x "$f" ] || { echo "NVMe bench: $f is not built (make)" >&2; exit 1; }
done

SHM=$(mktemp /dev/shm/tandem-nvme-bench.XXXXXX) || exit 1
DISK=$(mktemp /var/tmp/tandem-nvme-bench.XXXXXX) || { rm -f "$SHM"; exit 1; }
RES=$(mktemp /tmp/tandem-nvme-bench-results.XXXXXX) || { rm -f "$SHM" "$DISK"; exit 1; }
remove_files() { rm -f "$SHM" "$DISK" "$RES"; }
XS_CLEANUP+=(remove_files)
# Written, not just allocated: a read of a hole or an unwritten extent
# never reaches the store.
dd if=/dev/zero of="$SHM" bs=1M count="$MIB" status=none || exit 1
dd if=/dev/zero of="$DISK" bs=1M count="$MIB" oflag=direct conv=fsync status=none || exit 1
xsd_start > /dev/null || exit 1

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date -u '+%Y-%m-%d %H:%M UTC')

# sample FILEKEY FILE QD PATH ROUND: one run, its line appended to $RES.
sample() {
    local fk=$1 file=$2 qd=$3 path=$4 round=$5 line
    if [ "$path" = blkback ]; then
        line=$("$BLKFAKE" --file "$file" --rw randread --bs 4096 --qd "$qd" --seconds "$SECS" \
            --warmup-ms "$WARMUP_MS")
    else
        line=$("$COST" --file "$file" --path "$path" --qd "$qd" --seconds "$SECS" --warmup-ms "$WARMUP_MS")
    fi || line="failed=1"
    echo "file=$fk qd=$qd path=$path round=$round $line" >> "$RES"
}

for r in $(seq "$ROUNDS"); do
    for fk in shm disk; do
        [ $fk = shm ] && file=$SHM || file=$DISK
        for qd in 1 32; do
            paths="uring uring-spin engine model model-shadow model-inline blkback"
            [ "$qd" = 1 ] && paths="uring uring-spin pread engine model model-shadow model-inline blkback"
            for p in $paths; do
                sample $fk "$file" $qd "$p" "$r"
            done
        done
    done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## The NVMe model's cost per command, beside the PV block path and the host (4 KiB random reads)"
echo
echo "Run $t_start on $(uname -n), $(nproc) CPUs, kernel $(uname -r); load average $load0 at the start, $load1 at the end. Command: \`BENCH_FILTER=nvme make bench\` (tests/bench/nvme_bench.sh). Two files of $MIB MiB written for the run: \`/dev/shm\` ($(df -T "$SHM" | awk 'NR==2 {print $2}'): RAM) and \`/var/tmp\` ($(df -T "$DISK" | awk 'NR==2 {print $2}') on this host's disk); $ROUNDS interleaved round(s) of $SECS s per sample and path; each cell is the median sample (by p50 at qd 1, by IOPS at qd 32), every round's figure in the last column."
echo
python3 - "$RES" <<'PY'
import re, statistics, sys

rows = []
for l in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", l))
    rows.append(kv)

NAMES = [
    ("uring", "host floor: io_uring (READ_FIXED, sleeps in io_uring_enter)"),
    ("uring-spin", "host floor: io_uring, spinning on its CQ"),
    ("pread", "host floor: pread"),
    ("engine", "block engine alone (as the model's thread drives it)"),
    ("model", "NVMe model, MMIO doorbells (nvme_mmio through the I/O bus)"),
    ("model-shadow", "NVMe model, shadow doorbells + eventfd (Linux's Doorbell Buffer Config)"),
    ("model-inline", "NVMe model run inline (no thread: nvme_run on the driver's thread, spinning; MMIO doorbells)"),
    ("blkback", "PV: tandem-blkback + fake blkfront (fake VMM, grants, event channels)"),
]
FILES = [("shm", "/dev/shm (tmpfs, RAM)"), ("disk", "/var/tmp (ext4 on the host's disk)")]

def samples(f, qd, p):
    return [r for r in rows if r["file"] == f and r["qd"] == str(qd) and r["path"] == p]

def med(ss, key, ok_key="iops"):
    ss = [s for s in ss if "failed" not in s and ok_key in s]
    if not ss:
        return None
    ss = sorted(ss, key=lambda s: float(s[key]))
    return ss[len(ss) // 2]

def cpu(s, p):
    if p == "blkback":
        return float(s["be_cpu_us"])
    return float(s["cpu_us"])

failed = [r for r in rows if "failed" in r]
for f, fname in FILES:
    floor1 = med(samples(f, 1, "uring"), "p50_us")
    floor32 = med(samples(f, 32, "uring"), "iops")
    d = next((s["direct"] for s in rows if s["file"] == f and "direct" in s), "?")
    print("### %s — O_DIRECT: %s" % (fname, {"1": "yes", "0": "no (buffered)"}.get(d, d)))
    print()
    print("\"added\" is the path's figure minus the io_uring floor's (p50 at qd 1; µs per read = 1e6/IOPS at qd 32). "
          "CPU µs/read: the threads doing the I/O (the model: its controller thread and io_uring's workers, "
          "not the driver that plays the guest; blkback: the whole daemon, which busy-polls while I/O is in flight; "
          "a spinning floor counts its spinning).")
    print()
    print("| path | qd1 p50 / p99 µs | qd1 added p50 µs | qd1 CPU µs/read | qd32 IOPS | qd32 µs/read | qd32 added µs/read | qd32 CPU µs/read | qd1 p50 each round; qd32 IOPS each round |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p, label in NAMES:
        s1 = med(samples(f, 1, p), "p50_us")
        s32 = med(samples(f, 32, p), "iops") if p != "pread" else None
        if not s1 and not s32:
            if samples(f, 1, p) or samples(f, 32, p):
                print("| %s | FAILED | | | | | | | |" % label)
            continue
        c = []
        if s1:
            c += ["%.1f / %.1f" % (float(s1["p50_us"]), float(s1["p99_us"])),
                  "%+.1f" % (float(s1["p50_us"]) - float(floor1["p50_us"])) if floor1 and p != "uring" else "—",
                  "%.1f" % cpu(s1, p)]
        else:
            c += ["—", "—", "—"]
        if s32:
            us = 1e6 / float(s32["iops"])
            c += ["%.0f" % float(s32["iops"]), "%.2f" % us,
                  "%+.2f" % (us - 1e6 / float(floor32["iops"])) if floor32 and p != "uring" else "—",
                  "%.1f" % cpu(s32, p)]
        elif p == "pread":
            c += ["— (synchronous)", "", "", ""]
        else:
            c += ["—", "—", "—", "—"]
        each = ", ".join("%.1f" % float(s["p50_us"]) for s in samples(f, 1, p) if "p50_us" in s)
        e32 = ", ".join("%.0f" % float(s["iops"]) for s in samples(f, 32, p) if "iops" in s)
        print("| %s | %s | %s |" % (label, " | ".join(c), each + ("; " + e32 if e32 else "")))
    print()

print("Where the NVMe model's time goes (the median samples above; per read): the controller "
      "thread's wake-ups from poll() (`nvme_get_stats`), doorbell writes that reached `nvme_mmio`, "
      "doorbell eventfd writes the driver made (shadow mode: KVM's ioeventfd's part), the time of one "
      "SQ tail and one CQ head doorbell write as the guest's side sees it (median; a write whose "
      "wake-up lets the controller's thread take the driver's CPU counts until the driver runs again), "
      "voluntary context switches (sleeps) of the model's threads, and CPU per read of the model's "
      "threads beside the engine's alone (model-inline: the whole process, its spinning included).")
print()
print("| file | path | qd | wake-ups/cmd | MMIO doorbells/cmd | eventfd doorbells/cmd | SQ doorbell p50 ns | CQ doorbell p50 ns | sleeps (vcsw)/cmd | model CPU µs/cmd | engine alone CPU µs/read |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
blk = []
for f, fname in FILES:
    for qd in (1, 32):
        key = "p50_us" if qd == 1 else "iops"
        eng = med(samples(f, qd, "engine"), key)
        for p in ("model", "model-shadow", "model-inline"):
            s = med(samples(f, qd, p), key)
            if not s:
                continue
            print("| %s | %s | %d | %.2f | %.2f | %.2f | %s | %s | %.2f | %.1f | %s |" % (
                f, p, qd, float(s["wakeups"]), float(s["mmio_db"]), float(s["efd_db"]),
                s["sq_db_p50_ns"], s["cq_db_p50_ns"], float(s["vcsw"]), float(s["cpu_us"]),
                "%.1f" % float(eng["cpu_us"]) if eng else "—"))
        b = med(samples(f, qd, "blkback"), key)
        if b:
            n, bn = max(float(b["requests"]), 1), max(float(b["be_requests"]), 1)
            blk.append("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f |" % (
                f, qd, float(b["kicks"]) / n, float(b["sleeps"]) / n, float(b["be_kicks"]) / bn,
                float(b["be_notifies"]) / bn, float(b["fe_cpu_us"]), float(b["be_cpu_us"])))
if blk:
    print()
    print("The PV path's counts (the median blkback samples; blkback_fake_bench's keys): the fake "
          "frontend's kicks and sleeps per request, the daemon's kicks taken and notifications sent "
          "per request, CPU per request of the frontend thread and of the whole daemon (which spins "
          "while I/O is in flight: not all of it is work).")
    print()
    print("| file | qd | fe kicks/req | fe sleeps/req | be kicks/req | be notifications/req | fe CPU µs/req | daemon CPU µs/req |")
    print("|---|---|---|---|---|---|---|---|")
    for l in blk:
        print(l)
if failed:
    print()
    print("Failed samples: " + ", ".join("%s qd%s %s round %s" % (r["file"], r["qd"], r["path"], r["round"])
                                         for r in failed))
sys.exit(1 if failed else 0)
PY

#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has no /dev/kvm)
# Block I/O: the host's limit (fio, io_uring, O_DIRECT) against a guest
# (app=blkbench over blkfront + tandem-blkback) on the same backing file,
# in one run, case by case (host then guest, so drift hits both): 4k
# randread qd=1 and qd=32, 4k randwrite qd=32, 128k sequential read and
# write qd=8. The guest's memory is a file on a tmpfs mounted
# huge=within_size (config mem_path, 2 MiB pages); each case also runs the
# guest on plain 4 KiB-page memory (the memfd default) for comparison.
# Prints markdown tables (figures, targets, per-request
# breakdown from blkfront's counters) and writes the bar chart to
# docs/benchmarks-blk.svg (BLK_CHART_OUT to change; the TSV stays in
# $BUILD/bench/blk.tsv). Each case runs BLK_BENCH_ROUNDS (default 3)
# interleaved host/guest pairs and shows each side's median sample.
# BLK_BENCH_SECONDS per sample (default 5),
# BLK_BENCH_QUEUES blkfront queues (default 1), BLK_BENCH_CASES a regex
# of the case names to run (default all), BLK_BENCH_NO_4K=1 skips the
# 4 KiB-page guest runs (quicker runs while measuring one change),
# BLK_BENCH_GUEST_ARGS extra blkbench options.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf
SECS=${BLK_BENCH_SECONDS:-5}
QUEUES=${BLK_BENCH_QUEUES:-1}   # blkfront queues (rings) the guest asks for
CHART=${BLK_CHART_OUT:-$ROOT/docs/benchmarks-blk.svg}
CASES_RE=${BLK_BENCH_CASES:-.}
NO_4K=${BLK_BENCH_NO_4K:-${BLK_BENCH_NO_BATCH:-0}}
GUEST_ARGS=${BLK_BENCH_GUEST_ARGS:-}   # extra blkbench options, e.g. poll-us=500
ROUNDS=${BLK_BENCH_ROUNDS:-3}   # interleaved host/guest pairs per case; medians are shown
unset XENSTORED_PATH TANDEM_VMM TANDEM_XENSTORED TANDEM_BLKBACK
. "$ROOT/tests/bench/fio_host.inc"

if [ ! -w /dev/kvm ]; then
    echo "SKIP: block benchmark: /dev/kvm is missing or not writable"
    exit 0
fi
for f in "$BIN/tandem" "$BIN/tandem-vmm" "$BIN/tandem-blkback" "$BIN/xenstored" "$KERNEL"; do
    [ -e "$f" ] || { echo "block benchmark: $f is not built" >&2; exit 1; }
done
command -v fio >/dev/null || { echo "block benchmark: fio is not installed" >&2; exit 1; }

mkdir -p "$ROOT/$BUILD/bench"
export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-blkbench.XXXXXX)
# The backing file lives on the build tree's file system (a real disk),
# not in /tmp (which may be tmpfs, where O_DIRECT behaves differently).
DISK=$(mktemp "$ROOT/$BUILD/bench/blk-disk.XXXXXX")
TSV=$ROOT/$BUILD/bench/blk.tsv

stop_pidfile() {
    local p
    [ -s "$1" ] || return 0
    p=$(cat "$1")
    kill -TERM "$p" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
}
cleanup() {
    stop_pidfile "$TANDEM_RUNDIR/blkback/pid"
    stop_pidfile "$TANDEM_RUNDIR/xenstored/pid"
    [ -n "${MEMDIR:-}" ] && { umount "$MEMDIR" 2>/dev/null || umount -l "$MEMDIR" 2>/dev/null; }
    [ -n "${HUGE_SAVED:-}" ] && echo "$HUGE_SAVED" > /proc/sys/vm/nr_hugepages
    rm -rf "$TANDEM_RUNDIR"
    rm -f "$DISK"
}
trap cleanup EXIT

# Guest memory in 2 MiB pages: on these hosts the disk reads into 4 KiB
# pages at about half the speed (docs/benchmarks-blk.md). A tmpfs mounted
# huge=within_size gives them; without one (not root) the guest runs on
# the memfd default and the table says so.
MEMDIR=$TANDEM_RUNDIR/guestmem
mkdir -p "$MEMDIR"
if mount -t tmpfs -o huge=within_size,size=1G,mode=0700 tandem-bench "$MEMDIR" 2>/dev/null; then
    MEMNOTE="guest memory on a tmpfs mounted huge=within_size (mem_path, 2 MiB pages)"
else
    MEMDIR=
    MEMNOTE="guest memory in a memfd (4 KiB pages: could not mount a huge=within_size tmpfs)"
fi
# The host's fio on 2 MiB pages too (--iomem=mmaphuge: a few hugetlb pages,
# reserved for the run and given back), so both sides read into the same
# kind of memory; fio's malloc buffer lands in fast or slow memory at
# random (1.35-2.6 GB/s for 128k reads here, 2.85-2.95 on huge pages).
HUGE_SAVED= HOST_IOMEM=malloc
if [ -n "$MEMDIR" ] && [ -w /proc/sys/vm/nr_hugepages ]; then
    HUGE_SAVED=$(cat /proc/sys/vm/nr_hugepages)
    echo $((HUGE_SAVED + 4)) > /proc/sys/vm/nr_hugepages 2>/dev/null
    if [ "$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)" -ge 4 ]; then
        HOST_IOMEM=mmaphuge
    else
        echo "$HUGE_SAVED" > /proc/sys/vm/nr_hugepages
        HUGE_SAVED=
    fi
fi
[ "$HOST_IOMEM" = mmaphuge ] && MEMNOTE="$MEMNOTE; host fio buffers in 2 MiB hugetlb pages (--iomem=mmaphuge)" ||
    MEMNOTE="$MEMNOTE; host fio buffers from malloc (4 KiB pages)"

# A fully allocated 512 MiB file: reads of holes would never reach the disk.
fio --name=layout --filename="$DISK" --size=512M --rw=write --bs=1M --direct=1 \
    --ioengine=io_uring --iodepth=8 --output-format=terse > /dev/null || exit 1

# host_run RW BS QD [fio options] -> "iops=N mbps=N p50_us=N p99_us=N"
# (blkbench's keys, so that field() and median() read both sides)
host_run() { fio_run "$DISK" "$HOST_IOMEM" "$SECS" "$@"; }

# guest_run PATTERN BS QD [MEMDIR] -> the blkbench line (empty on failure)
guest_run() {
    local cfg=$TANDEM_RUNDIR/bench.cfg
    cat > "$cfg" <<CFG
name = "blkbench"
kernel = "$KERNEL"
memory = 256
${4:+mem_path = \"$4\"}
cmdline = "app=blkbench dev=xvda pattern=$1 bs=$2 qd=$3 seconds=$SECS warmup-ms=300 queues=$QUEUES $GUEST_ARGS"
disk = [ 'target=$DISK, vdev=xvda, access=rw, format=raw' ]
CFG
    timeout $((SECS + 60)) "$BIN/tandem" run "$cfg" 2> "$TANDEM_RUNDIR/guest.err" < /dev/null |
        grep "^blkbench: pattern="
}

printf 'case\tmetric\thost\tguest\ttarget\n' > "$TSV"
echo "## Block I/O: guest (blkfront + tandem-blkback) vs host fio"
echo
echo "One 512 MiB file on $(df -T "$DISK" | awk 'NR==2 {print $2}'), ${ROUNDS} interleaved rounds of ${SECS} s per side and case (the median sample of each side is shown), host fio (io_uring, O_DIRECT) then guest blkbench ($QUEUES queue(s); $MEMNOTE), $(nproc) host CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the start."
echo
echo "| case | host IOPS | guest IOPS | host MB/s | guest MB/s | host p50/p99 µs | guest p50/p99 µs | guest/host | target | met | guest on 4 KiB pages: IOPS, MB/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
BREAKDOWN=()
while read -r name pattern fio_rw bs qd metric target; do
    [[ $name =~ $CASES_RE ]] || continue
    # ROUNDS interleaved pairs (host, guest, host, guest, ...) and the
    # median sample of each side by the case's metric: drift between the
    # host's seconds and the guest's hits both, and one odd sample does
    # not decide the ratio.
    hosts=() guests=()
    for _ in $(seq "$ROUNDS"); do
        hosts+=("$(host_run "$fio_rw" "$bs" "$qd")")
        g=$(guest_run "$pattern" "$bs" "$qd" "$MEMDIR")
        [ -n "$g" ] || { guests=(); break; }
        guests+=("$g")
    done
    key=$metric
    [ "$key" = p50 ] && key=p50_us
    hline=$(median "$key" "${hosts[@]}")
    hi=$(field "$hline" iops) hm=$(field "$hline" mbps) hp50=$(field "$hline" p50_us) hp99=$(field "$hline" p99_us)
    line=
    [ ${#guests[@]} -gt 0 ] && line=$(median "$key" "${guests[@]}")
    # The same guest on the memfd default (4 KiB pages), for comparison.
    bi=- bm=-
    if [ "$NO_4K" != 1 ] && [ -n "$MEMDIR" ]; then
        l4=$(guest_run "$pattern" "$bs" "$qd")
        [ -n "$l4" ] && bi=$(field "$l4" iops) bm=$(field "$l4" mbps)
    fi
    if [ -z "$line" ]; then
        echo "| $name | $hi | FAILED | $hm | - | $hp50/$hp99 | - | - | - | no | $bi, $bm |"
        tail -5 "$TANDEM_RUNDIR/guest.err" >&2
        continue
    fi
    gi=$(field "$line" iops) gm=$(field "$line" mbps) gp50=$(field "$line" p50_us) gp99=$(field "$line" p99_us)
    case $metric in
        iops) h=$hi g=$gi ;;
        mbps) h=$hm g=$gm ;;
        p50) h=$hp50 g=$gp50 ;;
    esac
    read -r ratio met tgt <<< "$(blk_verdict "$metric" "$h" "$g" "$target")"
    tgt=${tgt//_/ }
    echo "| $name | $hi | $gi | $hm | $gm | $hp50/$hp99 | $gp50/$gp99 | ${ratio//_/ } | $tgt | $met | $bi, $bm |"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$metric" "$h" "$g" "$target" >> "$TSV"
    sub=$(field "$line" submits) db=$(field "$line" doorbells) up=$(field "$line" upcalls)
    pf=$(field "$line" polls_found) sl=$(field "$line" sleeps)
    BREAKDOWN+=("$(python3 -c "
s, d, u, p, z = (max(float(x), 1) for x in ('$sub', '$db', '$up', '$pf', '$sl'))
print(f'| $name | {int(s)} | {d / s:.3f} | {s / d:.1f} | {u / s:.3f} | {p / s:.3f} | {z / s:.3f} |')")")
done <<< "$BLK_CASES"
echo
echo "Per request in the guest (blkfront counters): doorbells sent, requests per doorbell,"
echo "upcalls taken, busy-poll rounds that found responses, waits that slept on the upcall."
echo
echo "| case | requests | doorbells/req | req/doorbell | upcalls/req | polls found/req | sleeps/req |"
echo "|---|---|---|---|---|---|---|"
for b in "${BREAKDOWN[@]}"; do echo "$b"; done
if python3 "$ROOT/tests/bench/blk_chart.py" "$TSV" "$CHART"; then
    echo
    echo "Chart: ${CHART#"$ROOT"/}"
fi

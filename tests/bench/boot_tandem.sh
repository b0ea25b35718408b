#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has no /dev/kvm)
# Boot benchmarks (run by `make bench`), each the median of $BOOT_RUNS (10):
#  - time from `tandem run` start to the guest's hello line (and the same
#    for tandem-vmm alone, to show what the toolstack adds);
#  - tandem-vmm's resident memory beyond guest RAM while an app=idle guest
#    runs: from /proc/PID/smaps, Rss of every mapping except the guest
#    memfd's (/memfd:...), i.e. VmRSS minus the guest pages touched.
# Targets: < 50 ms to hello, < 4 MiB of overhead per domain.
# Prints a markdown table.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf
RUNS=${BOOT_RUNS:-10}

for f in "$BIN/tandem" "$BIN/tandem-vmm" "$BIN/xenstored" "$KERNEL"; do
    [ -e "$f" ] || { echo "boot bench: $f is missing"; exit 1; }
done
if [ ! -w /dev/kvm ]; then
    echo "boot bench: skipped: /dev/kvm is not available"
    exit 0
fi

unset XENSTORED_PATH TANDEM_VMM TANDEM_XENSTORED TANDEM_VMM_ARGS
export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-bench.XXXXXX)
cleanup() {
    local pidf=$TANDEM_RUNDIR/xenstored/pid p
    for p in $(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)"); do kill -KILL "$p"; done
    [ -s "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
    rm -rf "$TANDEM_RUNDIR"
}
trap cleanup EXIT

export BENCH_BIN=$BIN BENCH_KERNEL=$KERNEL BENCH_RUNS=$RUNS BENCH_LIB=$(cd "$(dirname "$0")" && pwd)
python3 - <<'PY'
import os, signal, statistics, subprocess, sys, time
sys.path.insert(0, os.environ["BENCH_LIB"])
import benchlib

BIN, KERNEL, RUNS = os.environ["BENCH_BIN"], os.environ["BENCH_KERNEL"], int(os.environ["BENCH_RUNS"])
RUNDIR = os.environ["TANDEM_RUNDIR"]
TIMEOUT = 30.0

def cfg(path, name, cmdline):
    with open(path, "w") as f:
        f.write('name = "%s"\nkernel = "%s"\nmemory = 64\nvcpus = 1\ncmdline = "%s"\n' % (name, KERNEL, cmdline))
    return path

def time_to_line(argv, needle):
    """ms from spawning argv to the first stdout line containing needle."""
    t0 = time.monotonic_ns()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, bufsize=0)
    got = None
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    while got is None and time.monotonic() < deadline:
        chunk = p.stdout.read1(4096) if hasattr(p.stdout, "read1") else os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if needle in buf:
            got = (time.monotonic_ns() - t0) / 1e6
    # Read to the end: closing the pipe early kills what still writes
    # (tandem's closing line) with SIGPIPE.
    while got is not None and time.monotonic() < deadline and os.read(p.stdout.fileno(), 4096):
        pass
    p.stdout.close()
    rc = p.wait(timeout=TIMEOUT)
    if got is None or rc != 0:
        sys.exit("boot bench: %s did not print %r (status %s)" % (argv[0], needle, rc))
    return got

def smaps_overhead(pid):
    """(total Rss KiB, guest memfd Rss KiB) of a process."""
    return benchlib.rss_kib(pid)

def vmm_pid_of(run_pid):
    out = subprocess.run(["pgrep", "-P", str(run_pid), "-f", "tandem-vmm"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None

def idle_memory(path):
    p = subprocess.Popen([BIN + "/tandem", "run", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, bufsize=0)
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    # Any "idle:" line means the guest booted and sits idle (also when its
    # xenstore connection failed and it sleeps until destroyed).
    while b"idle: " not in buf and time.monotonic() < deadline:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
    pid = vmm_pid_of(p.pid)
    if b"idle: " not in buf or pid is None:
        p.terminate()   # tandem destroys the domain
        sys.exit("boot bench: idle guest did not come up")
    total, guest = smaps_overhead(pid)
    p.send_signal(signal.SIGTERM)
    p.stdout.close()
    p.wait(timeout=TIMEOUT)
    return total, guest

hello = cfg(os.path.join(RUNDIR, "bench-hello.cfg"), "bench-hello", "app=hello")
idle = cfg(os.path.join(RUNDIR, "bench-idle.cfg"), "bench-idle", "app=idle")
needle = b"hello from tandem guest"

time_to_line([BIN + "/tandem", "run", hello], needle)   # warm-up: starts xenstored, fills caches
tandem_ms = [time_to_line([BIN + "/tandem", "run", hello], needle) for _ in range(RUNS)]
vmm_ms = [time_to_line([BIN + "/tandem-vmm", "--kernel", KERNEL, "--memory", "64",
                        "--cmdline", "app=hello", "--name", "bench", "--domid", "9",
                        "--run-dir", RUNDIR], needle) for _ in range(RUNS)]
mem = [idle_memory(idle) for _ in range(RUNS)]
over = [(t - g) / 1024.0 for t, g in mem]
tot = [t / 1024.0 for t, g in mem]
gst = [g / 1024.0 for t, g in mem]

def row(what, xs, unit, target, fmt="%.1f"):
    med = statistics.median(xs)
    ok = "" if target is None else ("yes" if med < target else "**no**")
    tgt = "" if target is None else "< %g %s" % (target, unit)
    print("| %s | %s %s | %s | %s | %s | %s |" % (what, fmt % med, unit, fmt % min(xs), fmt % max(xs), tgt, ok))

print("## Boot (median of %d runs, %s)" % (RUNS, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
print()
print("| metric | median | min | max | target | met |")
print("|---|---|---|---|---|---|")
row("`tandem run` start → hello line", tandem_ms, "ms", 50)
row("tandem-vmm alone start → hello line (no xenstore)", vmm_ms, "ms", None)
row("tandem-vmm RSS beyond guest RAM (idle guest, smaps)", over, "MiB", 4, "%.2f")
row("tandem-vmm VmRSS total (idle guest)", tot, "MiB", None, "%.2f")
row("guest memfd pages touched (idle guest)", gst, "MiB", None, "%.2f")
PY

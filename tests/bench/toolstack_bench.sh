#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has none)
# Toolstack benchmarks (run by `make bench`; issue 12 §6), every guest an
# app=echo of 32 MiB started with `tandem create` (detached, consoled
# serving its console):
#  - `tandem create` start -> the guest's "echo: ready" in its console log
#    (tandem-consoled's RUNDIR/consoled/guest-NAME.log), median of
#    $TOOLSTACK_RUNS (5) one at a time;
#  - domains created per second: $TOOLSTACK_N (50) `tandem create`s started
#    at once, until every console says ready;
#  - with those N running: every one answers a line sent to its console pty
#    (/local/domain/N/console/tty), and the host memory each costs beyond
#    its RAM: the VMM's smaps Rss outside the guest memfd, plus the growth
#    of xenstored's and tandem-consoled's Rss, divided by N (target
#    < 4 MiB);
#  - `tandem destroy` of all N (in parallel) until `tandem list` shows only
#    Domain-0, and create + destroy of all N end to end.
# Prints a markdown table.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf
for f in "$BIN/tandem" "$BIN/tandem-vmm" "$BIN/xenstored" "$BIN/tandem-consoled" "$KERNEL"; do
    [ -e "$f" ] || { echo "toolstack bench: $f is missing"; exit 1; }
done
if [ ! -w /dev/kvm ]; then
    echo "toolstack bench: skipped: /dev/kvm is not available"
    exit 0
fi

unset XENSTORED_PATH TANDEM_VMM TANDEM_XENSTORED TANDEM_VMM_ARGS
export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-bench.XXXXXX)
cleanup() {
    local p
    # created domains' supervisors (by the pids that hold their locks), then
    # any VMM of this run directory, then the services
    for p in $(fuser "$TANDEM_RUNDIR"/dom*.lock 2> /dev/null); do kill -TERM "$p" 2> /dev/null; done
    for p in $(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)"); do kill -KILL "$p" 2> /dev/null; done
    "$BIN/tandem" services stop > /dev/null 2>&1
    for s in consoled xenstored; do
        [ -s "$TANDEM_RUNDIR/$s/pid" ] && kill "$(cat "$TANDEM_RUNDIR/$s/pid")" 2> /dev/null
    done
    rm -rf "$TANDEM_RUNDIR"
}
trap cleanup EXIT

export BENCH_BIN=$BIN BENCH_KERNEL=$KERNEL BENCH_LIB=$(cd "$(dirname "$0")" && pwd)
export BENCH_RUNS=${TOOLSTACK_RUNS:-5} BENCH_N=${TOOLSTACK_N:-50}
python3 - <<'PY'
import os, statistics, subprocess, sys, time
sys.path.insert(0, os.environ["BENCH_LIB"])
import benchlib
from concurrent.futures import ThreadPoolExecutor

BIN, KERNEL = os.environ["BENCH_BIN"], os.environ["BENCH_KERNEL"]
RUNS, N = int(os.environ["BENCH_RUNS"]), int(os.environ["BENCH_N"])
RUNDIR = os.environ["TANDEM_RUNDIR"]
TANDEM = BIN + "/tandem"
XS = dict(os.environ, XENSTORED_PATH=RUNDIR + "/xenstored/socket")
TIMEOUT = 60.0 + 6 * N     # generous: under emulation a boot takes seconds

def die(why):
    sys.exit("toolstack bench: " + why)

def cfg(name):
    path = os.path.join(RUNDIR, name + ".cfg")
    with open(path, "w") as f:
        f.write('name = "%s"\nkernel = "%s"\nmemory = 32\nvcpus = 1\ncmdline = "app=echo timeout=3600"\n'
                % (name, KERNEL))
    return path

def log_of(name):
    return os.path.join(RUNDIR, "consoled", "guest-%s.log" % name)

def ready(name):
    try:
        with open(log_of(name), "rb") as f:
            return b"echo: ready" in f.read()
    except FileNotFoundError:
        return False

def wait_until(pred, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            die("timed out waiting for " + what)
        time.sleep(0.002)

def create(name):
    r = subprocess.run([TANDEM, "create", cfg(name)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    if r.returncode != 0:
        logs = ""
        for l in sorted(os.listdir(os.path.join(RUNDIR, "log"))):
            with open(os.path.join(RUNDIR, "log", l), errors="replace") as f:
                tail = f.read().splitlines()[-4:]
            if any(name in t for t in tail) or l.startswith("dom"):
                logs += "\n  %s: %s" % (l, " | ".join(tail))
        die("create %s: status %d: %s%s" % (name, r.returncode, r.stderr.strip(), logs))

def destroy(name):
    r = subprocess.run([TANDEM, "destroy", name], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    if r.returncode != 0:
        die("destroy %s: status %d: %s" % (name, r.returncode, r.stderr.strip()))

def listed():
    r = subprocess.run([TANDEM, "list"], capture_output=True, text=True, timeout=TIMEOUT)
    return [l.split()[0] for l in r.stdout.splitlines()[1:] if l.strip()]

def only_dom0():
    return listed() == ["Domain-0"]

def xs_read(path):
    r = subprocess.run(["/usr/bin/xenstore-read", path], capture_output=True, text=True, env=XS)
    return r.stdout.strip() if r.returncode == 0 else None

def domid(name):
    r = subprocess.run([TANDEM, "domid", name], capture_output=True, text=True)
    if r.returncode != 0:
        die("domid %s: %s" % (name, r.stderr.strip()))
    return int(r.stdout.strip())

def service_pid(s):
    with open(os.path.join(RUNDIR, s, "pid")) as f:
        return int(f.read().strip())

def vmm_pids():
    r = subprocess.run(["pgrep", "-f", "tandem-vmm .*--run-dir %s( |$)" % RUNDIR],
                       capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]

def answers(name):
    """Sends a line to the guest's console pty; True when it is echoed."""
    tty = xs_read("/local/domain/%d/console/tty" % domid(name))
    if not tty:
        die("%s has no console/tty" % name)
    word = "ping-%s" % name
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, (word + "\n").encode())
        want = ("echo: " + word).encode()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                with open(log_of(name), "rb") as f:
                    if want in f.read():
                        return True
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        return False
    finally:
        os.close(fd)

# Warm-up: starts xenstored and tandem-consoled, fills the page cache.
create("warm"); wait_until(lambda: ready("warm"), "warm-up guest"); destroy("warm")
wait_until(only_dom0, "the warm-up guest to go")

one = []
for i in range(RUNS):
    name = "one%d" % i
    t0 = time.monotonic()
    create(name)
    wait_until(lambda: ready(name), name + " ready")
    one.append((time.monotonic() - t0) * 1000)
    destroy(name)
    wait_until(only_dom0, name + " to go")

base = {s: benchlib.rss_kib(service_pid(s))[0] for s in ("xenstored", "consoled")}
names = ["g%02d" % i for i in range(N)]
t0 = time.monotonic()
with ThreadPoolExecutor(max_workers=min(N, 16)) as ex:
    list(ex.map(create, names))
t_created = time.monotonic() - t0
wait_until(lambda: all(ready(n) for n in names), "all %d guests ready" % N)
t_ready = time.monotonic() - t0
if len(listed()) != N + 1:
    die("tandem list shows %d domains, not %d" % (len(listed()) - 1, N))
with ThreadPoolExecutor(max_workers=8) as ex:
    ok = list(ex.map(answers, names))
if not all(ok):
    die("%d of %d guests did not answer on their console" % (ok.count(False), N))
pids = vmm_pids()
if len(pids) != N:
    die("%d tandem-vmm processes, not %d" % (len(pids), N))
vmm_over = [(t - m) / 1024.0 for t, m in map(benchlib.rss_kib, pids)]
shared = sum(benchlib.rss_kib(service_pid(s))[0] - base[s] for s in base) / 1024.0 / N
per_guest = statistics.mean(vmm_over) + shared
t1 = time.monotonic()
with ThreadPoolExecutor(max_workers=min(N, 16)) as ex:
    list(ex.map(destroy, names))
wait_until(only_dom0, "every guest to go")
t_destroy = time.monotonic() - t1
t_all = time.monotonic() - t0

print("## Toolstack (%s; %d guests of 32 MiB, app=echo)" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), N))
print()
print("| metric | value | target | met |")
print("|---|---|---|---|")
print("| `tandem create` → console ready, one at a time (median of %d; min–max) | %.0f ms (%.0f–%.0f) | | |"
      % (RUNS, statistics.median(one), min(one), max(one)))
print("| %d `tandem create`s at once: all returned | %.2f s | | |" % (N, t_created))
print("| domains created per second (%d at once, until every console is ready) | %.1f /s | | |" % (N, N / t_ready))
print("| %d guests running, every one answering on its console pty | %d of %d | all | %s |" % (N, ok.count(True), N, "yes"))
print("| host memory per guest beyond its RAM (VMM Rss outside the guest memfd %.2f MiB + xenstored/consoled growth %.2f MiB) | %.2f MiB | < 4 MiB | %s |"
      % (statistics.mean(vmm_over), shared, per_guest, "yes" if per_guest < 4 else "**no**"))
print("| `tandem destroy` of all %d at once, until `tandem list` shows only Domain-0 | %.2f s | | |" % (N, t_destroy))
print("| create + destroy of %d guests end to end | %.2f s | | |" % (N, t_all))
PY

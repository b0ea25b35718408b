#!/usr/bin/env python3
"""A stand-in for tandem-vmm, for testing tandem's process handling without
KVM (tests/integration/cli_process.sh). It takes tandem-vmm's options,
registers the domain in xenstore the way the VMM does (with Debian's
xenstore-utils), serves the control socket (info, pause, unpause, destroy,
shutdown) and behaves per its command line:

  app=hello            print a line, power off (0)
  app=exit code=N      exit N
  app=idle             wait for control/shutdown (poweroff 0, reboot 3)
  app=die              SIGKILL itself without cleaning up
  app=stubborn         ignore SIGTERM and `destroy`
  app=deaf             a guest without PV control: never reads control/shutdown
  app=echo             console: "echo: ready", then "echo: LINE" per input line;
                       "quit" -> "echo: bye" and power off
  app=chatty n=N       console: N numbered lines, then as app=idle
  app=hostile          console ring indices scribbled, then as app=idle
  bind_eagain=K        the first K evtchn-bind requests get EAGAIN (a guest that
                       has not placed shared_info yet)
With --console-daemon the guest's console output goes to a real console ring
(struct xencons_interface in a memfd, served with `memory` and
`evtchn-bind port=2` as tandem-vmm does), else to stdout. --paused: the
"guest" waits for `unpause`. Every start is logged as one line of arguments
to $FAKE_VMM_LOG.
"""
import ctypes
import mmap
import select
import struct
import os
import signal
import socket
import subprocess
import sys
import threading
import time

opts = {}
args = sys.argv[1:]
i = 0
while i < len(args):
    a = args[i]
    if a.startswith("--") and "=" in a:
        k, v = a[2:].split("=", 1)
        opts[k] = v
    elif a.startswith("--"):
        if a in ("--stats", "--console-daemon", "--paused"):
            opts[a[2:]] = "1"
        else:
            opts[a[2:]] = args[i + 1]
            i += 1
    i += 1

domid = opts["domid"]
uuid = opts["uuid"]
name = opts["name"]
rundir = opts["run-dir"]
sock_path = os.path.join(rundir, "dom%s.ctl" % domid)
xs_env = dict(os.environ, XENSTORED_PATH=opts.get("xenstore", ""))
cmd = dict(kv.split("=", 1) for kv in opts.get("cmdline", "").split() if "=" in kv)
app = cmd.get("app", "hello")
state = "paused" if "paused" in opts else "running"
running = threading.Event()
if state == "running":
    running.set()
dom = "/local/domain/%s" % domid
console_daemon = "console-daemon" in opts
bind_eagain = [int(cmd.get("bind_eagain", "0"))]

# Guest memory as tandem-vmm lays it out: RAM, then the 2 MiB platform
# region whose page 2 is the console ring and page 0x100 shared_info.
RAM = int(opts["memory"]) << 20
REGION_GPA, REGION_SIZE = 0xFC000000, 0x200000
RING_OFF, SHARED_OFF = RAM + 0x2000, RAM + 0x100000
memfd = os.memfd_create("fake-guest")
os.ftruncate(memfd, RAM + REGION_SIZE)
ring = mmap.mmap(memfd, 4096, offset=RING_OFF)
shared = mmap.mmap(memfd, 4096, offset=SHARED_OFF)
kick = os.eventfd(0, os.EFD_NONBLOCK)      # guest -> dom0 (the doorbell's ioeventfd)
irq = os.eventfd(0, os.EFD_NONBLOCK)       # dom0 -> guest (the upcall's irqfd)
IN_CONS, IN_PROD, OUT_CONS, OUT_PROD = 3072, 3076, 3080, 3084

with open(os.environ["FAKE_VMM_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")


def xs(*argv):
    return subprocess.run(["/usr/bin/xenstore-" + argv[0]] + list(argv[1:]), env=xs_env,
                          capture_output=True, text=True)


def register():
    xs("write", dom + "/name", name, dom + "/domid", domid, dom + "/vm", "/vm/" + uuid,
       dom + "/memory/target", str(int(opts["memory"]) * 1024),
       dom + "/cpu/0/availability", "online", dom + "/control/shutdown", "",
       "/vm/" + uuid + "/name", name, "/vm/" + uuid + "/uuid", uuid,
       dom + "/console/ring-ref", str((REGION_GPA + 0x2000) >> 12), dom + "/console/port", "2")
    for n in range(1, int(opts["vcpus"])):
        xs("write", dom + "/cpu/%d/availability" % n, "online")


watchers = []
exiting = threading.Event()


def start_watch(path):
    """xenstore-watch PATH, killed when we end (also by SIGKILL)."""
    libc = ctypes.CDLL(None, use_errno=True)
    w = subprocess.Popen(["/usr/bin/xenstore-watch", path], env=xs_env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         preexec_fn=lambda: libc.prctl(1, signal.SIGKILL))   # PR_SET_PDEATHSIG
    watchers.append(w)
    return w


def cleanup_and_exit(status):
    exiting.set()
    for w in list(watchers):
        w.kill()
        w.wait()
    xs("rm", dom)
    xs("rm", "/vm/" + uuid)
    try:
        os.unlink(sock_path)
    except OSError:
        pass
    sys.stdout.flush()
    os._exit(status)


def serve(conn):
    global state
    f = conn.makefile("rwb", buffering=0)
    for raw in f:
        words = raw.decode().split()
        if not words:
            f.write(b"ERR EINVAL empty\n")
            continue
        op = words[0]
        if op == "info":
            f.write(("OK domid=%s name=%s uuid=%s state=%s vcpus=%s memory_kib=%d cpu_mode=plain\n"
                     % (domid, name, uuid, state, opts["vcpus"], int(opts["memory"]) * 1024)).encode())
        elif op in ("pause", "unpause"):
            state = "paused" if op == "pause" else "running"
            (running.clear if op == "pause" else running.set)()
            f.write(b"OK\n")
        elif op == "memory":
            socket.send_fds(conn, [("OK ram_size=%d region_gpa=0x%x region_offset=%d region_size=%d "
                                    "shared_info_gpa=0x%x\n" % (RAM, REGION_GPA, RAM, REGION_SIZE,
                                                                REGION_GPA + 0x100000)).encode()],
                            [memfd])
        elif op == "evtchn-bind" and words[1:] == ["port=2"]:
            if bind_eagain[0] > 0:
                bind_eagain[0] -= 1
                f.write(b"ERR EAGAIN the guest has not set up event delivery yet\n")
            else:
                socket.send_fds(conn, [b"OK port=2 vcpu=0 shared_info_offset=%d\n" % SHARED_OFF],
                                [memfd, kick, irq])
        elif op == "evtchn-unbind":
            f.write(b"OK\n")
        elif op == "destroy":
            f.write(b"OK\n")
            if app != "stubborn":
                cleanup_and_exit(8)
        elif op == "shutdown":
            reason = words[1].split("=", 1)[1] if len(words) > 1 else "poweroff"
            f.write(b"OK\n")
            cleanup_and_exit({"poweroff": 0, "reboot": 3, "suspend": 4, "crash": 5}.get(reason, 0))
        else:
            f.write(b"ERR EINVAL unknown op\n")


def ring_u32(off):
    return struct.unpack_from("<I", ring, off)[0]


def wait_irq(timeout):
    """Waits for dom0's notification (the irqfd), then acknowledges it as a
    guest's upcall handler does (2-level ABI: vcpu_info[0] upcall_pending and
    pending_sel, the port's bit in evtchn_pending at 2048), or dom0's next
    notification would find the bits set and raise no interrupt."""
    if select.select([irq], [], [], timeout)[0]:
        try:
            os.eventfd_read(irq)
        except BlockingIOError:
            pass
    shared[0] = 0
    struct.pack_into("<Q", shared, 8, 0)
    word = struct.unpack_from("<Q", shared, 2048)[0]
    struct.pack_into("<Q", shared, 2048, word & ~(1 << 2))


def guest_print(text):
    """The guest's console output: the ring (waiting for room, and at the
    end for dom0 to have taken it all, as Tandem's guest flushes), or stdout."""
    if not console_daemon:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    data = text.encode()
    while data:
        prod, cons = ring_u32(OUT_PROD), ring_u32(OUT_CONS)
        room = 2048 - (prod - cons)
        if room == 0:
            wait_irq(0.2)
            continue
        for b in data[:room]:
            ring[1024 + prod % 2048] = b
            prod += 1
        struct.pack_into("<I", ring, OUT_PROD, prod & 0xffffffff)
        data = data[room:]
        os.eventfd_write(kick, 1)
    while ring_u32(OUT_CONS) != ring_u32(OUT_PROD):
        wait_irq(0.2)


def guest_read_line():
    line = b""
    while True:
        cons, prod = ring_u32(IN_CONS), ring_u32(IN_PROD)
        while cons != prod:
            c = ring[cons % 1024]
            cons += 1
            struct.pack_into("<I", ring, IN_CONS, cons & 0xffffffff)
            os.eventfd_write(kick, 1)
            if c in (10, 13):
                if line:
                    return line.decode(errors="replace")
            else:
                line += bytes([c])
        wait_irq(0.2)


def listen():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(sock_path)
    except OSError:
        pass
    s.bind(sock_path)
    os.chmod(sock_path, 0o600)
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def on_term(signum, frame):
    if app != "stubborn":
        cleanup_and_exit(8)


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
threading.Thread(target=listen, daemon=True).start()
while not os.path.exists(sock_path):     # the control socket first, as tandem-vmm
    time.sleep(0.005)
register()
print("fake-vmm: domain %s (%s) app=%s" % (domid, name, app), flush=True)

running.wait()
if app == "hello":
    guest_print("hello from tandem guest\n")
    cleanup_and_exit(0)
elif app == "echo":
    guest_print("echo: ready\n")
    while True:
        line = guest_read_line()
        if line == "quit":
            guest_print("echo: bye\n")
            cleanup_and_exit(0)
        guest_print("echo: %s\n" % line)
elif app == "exit":
    cleanup_and_exit(int(cmd.get("code", "0")))
elif app == "die":
    os.kill(os.getpid(), signal.SIGKILL)
elif app == "hostile":
    # A guest that scribbles the ring's indices: a producer far ahead.
    struct.pack_into("<I", ring, OUT_PROD, (ring_u32(OUT_CONS) + 100000) & 0xffffffff)
    struct.pack_into("<I", ring, IN_CONS, 0xfffff000)
    os.eventfd_write(kick, 1)
    app = "idle"
if app in ("idle", "stubborn", "chatty"):
    for n in range(int(cmd.get("n", "0")) if app == "chatty" else 0):
        guest_print("chatty line %d\n" % n)
    # The guest side of Xen's protocol, on a watch (xenstore-watch prints
    # the path on every change; polling with a process a read would load
    # the host when many fakes run at once).
    watch = start_watch(dom + "/control/shutdown")
    while True:
        r = xs("read", dom + "/control/shutdown")
        v = r.stdout.strip()
        if v in ("poweroff", "reboot"):
            xs("write", dom + "/control/shutdown", "")
            cleanup_and_exit(0 if v == "poweroff" else 3)
        if watch.stdout.readline():
            continue
        # The watch ended: we are exiting (another thread), or xenstored
        # went away (look again now and then, as the old polling fake did).
        watch.wait()
        while exiting.is_set():
            time.sleep(3600)
        time.sleep(0.2)
        watchers.remove(watch)
        watch = start_watch(dom + "/control/shutdown")
elif app == "deaf":
    while True:
        time.sleep(3600)
cleanup_and_exit(1)

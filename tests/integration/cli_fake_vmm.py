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
Every start is logged as one line of arguments to $FAKE_VMM_LOG.
"""
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
        if a == "--stats":
            opts["stats"] = "1"
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
state = "running"
dom = "/local/domain/%s" % domid

with open(os.environ["FAKE_VMM_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")


def xs(*argv):
    return subprocess.run(["/usr/bin/xenstore-" + argv[0]] + list(argv[1:]), env=xs_env,
                          capture_output=True, text=True)


def register():
    xs("write", dom + "/name", name, dom + "/domid", domid, dom + "/vm", "/vm/" + uuid,
       dom + "/memory/target", str(int(opts["memory"]) * 1024),
       dom + "/cpu/0/availability", "online", dom + "/control/shutdown", "",
       "/vm/" + uuid + "/name", name, "/vm/" + uuid + "/uuid", uuid)
    for n in range(1, int(opts["vcpus"])):
        xs("write", dom + "/cpu/%d/availability" % n, "online")


def cleanup_and_exit(status):
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
register()
threading.Thread(target=listen, daemon=True).start()
print("fake-vmm: domain %s (%s) app=%s" % (domid, name, app), flush=True)

if app == "hello":
    print("hello from tandem guest", flush=True)
    cleanup_and_exit(0)
elif app == "exit":
    cleanup_and_exit(int(cmd.get("code", "0")))
elif app == "die":
    os.kill(os.getpid(), signal.SIGKILL)
elif app in ("idle", "stubborn"):
    # The guest side of Xen's protocol; a fake may poll.
    while True:
        r = xs("read", dom + "/control/shutdown")
        v = r.stdout.strip()
        if v in ("poweroff", "reboot"):
            xs("write", dom + "/control/shutdown", "")
            cleanup_and_exit(0 if v == "poweroff" else 3)
        time.sleep(0.02)
elif app == "deaf":
    while True:
        time.sleep(3600)
cleanup_and_exit(1)

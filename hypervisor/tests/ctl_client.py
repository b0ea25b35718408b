#!/usr/bin/env python3
"""Control-socket checks for tests/integration/vmm_control.sh.

usage: ctl_client.py SOCKET RAM_BYTES
Prints PASS:/FAIL: lines; ends with a 'destroy' request.
"""
import os
import socket
import stat
import sys

path, ram = sys.argv[1], int(sys.argv[2])
REGION = 2 << 20


def result(name, ok, why=""):
    print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}", flush=True)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def request(s, line):
    s.sendall(line.encode() + b"\n")
    buf, fds = b"", []
    while not buf.endswith(b"\n"):
        msg, got, _, _ = socket.recv_fds(s, 4096, 4)
        if not msg:
            raise EOFError("connection closed")
        buf += msg
        fds += got
    return buf.decode().rstrip("\n"), fds


def kv(reply):
    return dict(t.split("=", 1) for t in reply.split()[1:] if "=" in t)


mode = stat.S_IMODE(os.stat(path).st_mode)
result("vmm_ctl_mode_0600", mode == 0o600, f"mode {mode:o}")

s = connect()
reply, fds = request(s, "info")
d = kv(reply)
result("vmm_ctl_info", reply.startswith("OK ") and d.get("domid") == "7" and d.get("name") == "ctltest"
       and d.get("state") == "running" and d.get("vcpus") == "1"
       and d.get("memory_kib") == str(ram // 1024) and d.get("cpu_mode") in ("pvm", "plain")
       and d.get("uuid") == "12345678-1234-1234-1234-123456789abc", reply)

reply, fds = request(s, "memory")
d = kv(reply)
ok = reply.startswith("OK ") and len(fds) == 1 and int(d.get("ram_size", -1)) == ram \
    and int(d.get("region_offset", -1)) == ram and int(d.get("region_gpa", "0"), 16) == 0xFC000000
size = os.fstat(fds[0]).st_size if fds else -1
result("vmm_ctl_memory", ok and size == ram + REGION, f"{reply} fds={len(fds)} size={size}")
for f in fds:
    os.close(f)

reply, fds = request(s, "xenstore-ring")
d = kv(reply)
ok = reply.startswith("OK ") and len(fds) == 3 and int(d.get("gpa", "0"), 16) == 0xFC001000 \
    and int(d.get("offset", -1)) == ram + 0x1000 and d.get("port") == "1"
if ok:  # the ring page is reachable through the memfd at that offset
    import mmap
    m = mmap.mmap(fds[0], 4096, offset=ram + 0x1000)
    m.close()
result("vmm_ctl_xenstore_ring", ok, f"{reply} fds={len(fds)}")
for f in fds:
    os.close(f)

reply, _ = request(s, "frobnicate")
result("vmm_ctl_unknown", reply.startswith("ERR EINVAL"), reply)
reply, _ = request(s, "info now")
result("vmm_ctl_extra_args", reply.startswith("ERR EINVAL"), reply)
reply, _ = request(s, "shutdown reason=later")
result("vmm_ctl_bad_shutdown", reply.startswith("ERR EINVAL"), reply)
reply, _ = request(s, "")
result("vmm_ctl_empty", reply.startswith("ERR EINVAL"), reply)

reply, _ = request(s, "pause")
state = kv(request(s, "info")[0]).get("state")
result("vmm_ctl_pause", reply == "OK" and state == "paused", f"{reply} state={state}")
reply, _ = request(s, "unpause")
state = kv(request(s, "info")[0]).get("state")
result("vmm_ctl_unpause", reply == "OK" and state == "running", f"{reply} state={state}")

# An over-long line is refused and the connection dropped; the VMM lives on.
s2 = connect()
try:
    reply, _ = request(s2, "x" * 2000)
    result("vmm_ctl_long_line", reply.startswith("ERR EINVAL"), reply)
except (EOFError, ConnectionError) as e:
    result("vmm_ctl_long_line", False, str(e))
s2.close()
reply, _ = request(s, "info")
result("vmm_ctl_survives", reply.startswith("OK "), reply)

# Event channels for dom0 services (docs/evtchn-gnttab.md).
svc = connect()
reply, fds = request(svc, "evtchn-bind port=2")
d = kv(reply)
ok = reply.startswith("OK ") and len(fds) == 3 and d.get("port") == "2" and d.get("vcpu") == "0" \
    and "shared_info_offset" in d and int(d["shared_info_offset"]) >= ram \
    and int(d["shared_info_offset"]) % 4096 == 0
result("vmm_ctl_evtchn_bind", ok, f"{reply} fds={len(fds)}")
for f in fds:
    os.close(f)
reply, fds = request(s, "evtchn-bind port=2")
result("vmm_ctl_evtchn_bind_busy", reply.startswith("ERR EBUSY") and not fds, reply)
reply, _ = request(s, "evtchn-unbind port=2")
result("vmm_ctl_evtchn_unbind_not_owner", reply.startswith("ERR EINVAL"), reply)
for bad, want in (("evtchn-bind port=0", "ERR EINVAL"), ("evtchn-bind port=5000", "ERR EINVAL"),
                  ("evtchn-bind port=900", "ERR ENOENT"), ("evtchn-bind port=x", "ERR EINVAL"),
                  ("evtchn-bind", "ERR EINVAL")):
    reply, fds = request(s, bad)
    result("vmm_ctl_" + bad.replace(" ", "_").replace("=", "_"), reply.startswith(want) and not fds, reply)
svc.close()  # its binding goes with it
reply, fds = request(s, "evtchn-bind port=2")
result("vmm_ctl_evtchn_rebind_after_close", reply.startswith("OK ") and len(fds) == 3, reply)
for f in fds:
    os.close(f)
reply, _ = request(s, "evtchn-unbind port=2")
result("vmm_ctl_evtchn_unbind", reply == "OK", reply)

reply, _ = request(s, "gnttab")
d = kv(reply)
n = int(d.get("nr_frames", -1))
frames = [f for f in d.get("frames", "").split(",") if f]
ok = reply.startswith("OK ") and d.get("version") == "1" and n >= 0 and len(frames) == n \
    and all(int(f, 16) % 4096 == 0 for f in frames)
result("vmm_ctl_gnttab", ok, reply)

reply, _ = request(s, "destroy")
result("vmm_ctl_destroy_reply", reply == "OK", reply)

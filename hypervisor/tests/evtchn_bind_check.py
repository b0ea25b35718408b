#!/usr/bin/env python3
"""End-to-end check of `evtchn-bind` for tests/integration/vmm_xenstore.sh.

usage: evtchn_bind_check.py CTL_SOCKET RAM_BYTES XENSTORE_WRITE DOMID
Binds the console port (2) like a dom0 console service, asks the guest
(app=idle) to power off through xenstore, and expects the guest's console
doorbell on the kick eventfd (a KVM ioeventfd: no VMM involvement) and the
guest's words in the console ring read through the memfd.
"""
import mmap
import os
import select
import socket
import struct
import subprocess
import sys

path, ram, xs_write, domid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall(b"evtchn-bind port=2\n")
msg, fds, _, _ = socket.recv_fds(s, 4096, 4)
if not msg.startswith(b"OK ") or len(fds) != 3:
    print(f"FAIL: vmm_evtchn_bind_console: reply {msg!r}, {len(fds)} fds")
    sys.exit(0)
memfd, kick, irqfd = fds
subprocess.run([xs_write, f"/local/domain/{domid}/control/shutdown", "poweroff"], check=True)
ready, _, _ = select.select([kick], [], [], 10)
if not ready:
    print("FAIL: vmm_evtchn_bind_kick: no doorbell on the kick eventfd within 10 s")
    sys.exit(0)
print("PASS: vmm_evtchn_bind_kick")
m = mmap.mmap(memfd, 4096, offset=ram + 0x2000)  # console ring page
out_cons, out_prod = struct.unpack_from("<II", m, 3072 + 8)
text = bytes(m[1024 + (i % 2048)] for i in range(out_cons, out_prod))
ok = b"shutdown request" in text
print("PASS: vmm_evtchn_bind_ring" if ok else f"FAIL: vmm_evtchn_bind_ring: ring holds {text[-80:]!r}")

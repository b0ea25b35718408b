#!/usr/bin/env python3
"""dom0 side of the evtchn-bind end-to-end check (tests/integration/vmm_control.sh).

usage: evtchn_e2e.py CTL_SOCKET PORT
Binds the guest's port like a dom0 service, raises it the 2-level way
(pending bit, selector, upcall flag in shared_info through the memfd) and
writes the irqfd; then expects the guest's doorbell on the kick eventfd.
"""
import mmap
import os
import select
import socket
import struct
import sys

path, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall(f"evtchn-bind port={port}\n".encode())
msg, fds, _, _ = socket.recv_fds(s, 4096, 4)
reply = msg.decode().strip()
if not reply.startswith("OK ") or len(fds) != 3:
    print(f"FAIL: vmm_evtchn_e2e_bind: {reply!r} with {len(fds)} fds")
    sys.exit(0)
print("PASS: vmm_evtchn_e2e_bind")
kv = dict(t.split("=", 1) for t in reply.split()[1:])
memfd, kick, irqfd = fds
si = mmap.mmap(memfd, 4096, offset=int(kv["shared_info_offset"]))
vcpu = int(kv["vcpu"])
word, bit = port // 64, 1 << (port % 64)
pend = 2048 + 8 * word
struct.pack_into("<Q", si, pend, struct.unpack_from("<Q", si, pend)[0] | bit)
vi = 64 * vcpu
struct.pack_into("<Q", si, vi + 8, struct.unpack_from("<Q", si, vi + 8)[0] | (1 << word))
si[vi] = 1  # evtchn_upcall_pending
os.write(irqfd, struct.pack("<Q", 1))
ready, _, _ = select.select([kick], [], [], 20)
print("PASS: vmm_evtchn_e2e_roundtrip" if ready
      else "FAIL: vmm_evtchn_e2e_roundtrip: no doorbell from the guest on the kick eventfd")

#!/usr/bin/env python3
"""Reads the guest's console input ring through the control socket's memfd.

usage: console_ring.py CTL_SOCKET EXPECTED
Prints PASS/FAIL for vmm_console_stdin: EXPECTED must be in in[] between
in_cons and in_prod (waits up to 10 s for it to arrive).
"""
import mmap
import socket
import struct
import sys
import time

path, want = sys.argv[1], sys.argv[2].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall(b"memory\n")
msg, fds, _, _ = socket.recv_fds(s, 4096, 2)
kv = dict(t.split("=", 1) for t in msg.decode().split()[1:])
ring = mmap.mmap(fds[0], 4096, offset=int(kv["region_offset"]) + 0x2000)
deadline = time.monotonic() + 10
got = b""
while time.monotonic() < deadline:
    in_cons, in_prod = struct.unpack_from("<II", ring, 3072)
    got = bytes(ring[i % 1024] for i in range(in_cons, in_prod))
    if want in got:
        break
    time.sleep(0.05)
print("PASS: vmm_console_stdin" if want in got
      else f"FAIL: vmm_console_stdin: input ring holds {got!r}")

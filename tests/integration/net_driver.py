#!/usr/bin/env python3
"""Host side of the network tests (netback_netns.sh, net_*.sh): run inside
the host namespace the test made, against one address on its bridge.

  net_driver.py ping ADDR COUNT [until-lost] [interval]
      ICMP echo requests (a raw socket; ping(8) is not needed), one after
      another, each answered within 2 s by a reply with its id, sequence
      number and payload.  Prints sent=N lost=N.
  net_driver.py udp ADDR COUNT
      UDP datagrams of sizes 1..1472 (all of them first, then random) to
      ADDR port 7; each echo must come back within 2 s, byte for byte.
      Prints sent=N lost=N corrupted=N.
  net_driver.py serve ADDR PORT
      A UDP echo server on ADDR:PORT until SIGTERM (the benchmarks' host
      peer); prints "serving" once bound.
Exit 0 when nothing was lost or corrupted, else 1."""
import os
import random
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ping(addr, n, until_lost=False, interval=0.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    ident = os.getpid() & 0xFFFF
    lost = 0
    for seq in range(n):
        payload = struct.pack("!I", seq) * 14
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq & 0xFFFF) + payload
        s.sendto(pkt, (addr, 0))
        end = time.monotonic() + 2
        while True:
            try:
                got = s.recv(2048)
            except socket.timeout:
                lost += 1
                break
            ihl = (got[0] & 15) * 4
            t, _, _, gid, gseq = struct.unpack("!BBHHH", got[ihl:ihl + 8])
            if t == 0 and gid == ident and gseq == seq & 0xFFFF and got[ihl + 8:] == payload:
                break
            if time.monotonic() > end:
                lost += 1
                break
        if lost and until_lost:
            break
        if interval:
            time.sleep(interval)   # pacing between requests, not synchronisation
    print(f"sent={n} lost={lost}")
    return lost == 0


def udp(addr, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    rng = random.Random(11)
    bad = lost = 0
    for i in range(n):
        size = 1 + (i % 1472) if i < 1472 else rng.randint(1, 1472)
        data = rng.randbytes(size)
        s.sendto(data, (addr, 7))
        try:
            got, _ = s.recvfrom(2048)
        except socket.timeout:
            lost += 1
            continue
        if got != data:
            bad += 1
    print(f"sent={n} lost={lost} corrupted={bad}")
    return lost == 0 and bad == 0


def serve(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((addr, port))
    print("serving", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        serve(argv[2], int(argv[3]))
    if len(argv) < 4 or argv[1] not in ("ping", "udp"):
        print(__doc__, file=sys.stderr)
        return 2
    addr, n = argv[2], int(argv[3])
    if argv[1] == "ping":
        ok = ping(addr, n, len(argv) > 4 and argv[4] == "until-lost",
                  float(argv[5]) if len(argv) > 5 else 0.0)
    else:
        ok = udp(addr, n)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

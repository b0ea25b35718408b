#!/usr/bin/env python3
"""A xenstored that lies, for the client tests: listens on a unix socket
and answers DIRECTORY according to the mode, READ with "v", anything
else with EINVAL.  Modes:
  empty  - every directory has one child with an empty name
  same   - every directory has one child "a" (an endless a/a/a/...)
  dup    - every directory lists "a" twice
  deep   - every directory has a child named after its depth (never repeats)
Serves until killed (the test stops it by pid)."""
import os
import socket
import struct
import sys

XS_DIRECTORY, XS_READ, XS_ERROR = 1, 2, 16
HDR = struct.Struct("<IIII")


def reply_for(mode, mtype, body):
    if mtype == XS_READ:
        return XS_READ, b"v"
    if mtype != XS_DIRECTORY:
        return XS_ERROR, b"EINVAL\0"
    path = body.rstrip(b"\0")
    if mode == "empty":
        return XS_DIRECTORY, b"\0"
    if mode == "same":
        return XS_DIRECTORY, b"a\0"
    if mode == "dup":
        return XS_DIRECTORY, b"a\0a\0"
    depth = path.count(b"/")
    return XS_DIRECTORY, b"n%d\0" % depth


def serve(conn, mode):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= HDR.size:
            mtype, req_id, tx_id, length = HDR.unpack_from(buf)
            if len(buf) < HDR.size + length:
                break
            body = buf[HDR.size:HDR.size + length]
            buf = buf[HDR.size + length:]
            rtype, payload = reply_for(mode, mtype, body)
            conn.sendall(HDR.pack(rtype, req_id, tx_id, len(payload)) + payload)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    while True:
        conn, _ = srv.accept()
        try:
            serve(conn, mode)
        except OSError:
            pass
        conn.close()


if __name__ == "__main__":
    main()

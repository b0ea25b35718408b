#!/usr/bin/env python3
"""Drives an interactive command (tandem console, tandem run) through
pipes, step by step, each step bounded by a timeout (no sleeps):

  console_driver.py TIMEOUT STEP... -- CMD [ARGS...]
    expect:TEXT   wait until TEXT has appeared in the output (since the last expect)
    send:TEXT     write TEXT to its stdin (\\r, \\n, \\x1d escapes)
    exit:CODE     wait for it to exit with CODE

Exits 0 when every step passed; otherwise 1 with what was seen on stderr.
"""
import codecs
import os
import select
import subprocess
import sys
import time

timeout = float(sys.argv[1])
sep = sys.argv.index("--")
steps, cmd = sys.argv[2:sep], sys.argv[sep + 1:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out = b""
seen = 0


def fail(why):
    sys.stderr.write("console_driver: %s; output so far: %r\n" % (why, out[-2000:]))
    p.kill()
    p.wait()
    sys.exit(1)


def read_some(deadline):
    global out
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    r, _, _ = select.select([p.stdout], [], [], left)
    if r:
        data = os.read(p.stdout.fileno(), 65536)
        if not data:
            return None
        out += data
    return True


for step in steps:
    kind, _, arg = step.partition(":")
    deadline = time.monotonic() + timeout
    if kind == "expect":
        want = codecs.decode(arg, "unicode_escape").encode()
        while want not in out[seen:]:
            r = read_some(deadline)
            if r is False:
                fail("timed out waiting for %r" % want)
            if r is None and want not in out[seen:]:
                fail("output ended without %r" % want)
        seen = out.index(want, seen) + len(want)
    elif kind == "send":
        p.stdin.write(codecs.decode(arg, "unicode_escape").encode())
        p.stdin.flush()
    elif kind == "exit":
        while read_some(deadline):
            pass
        try:
            rc = p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            fail("did not exit")
        if rc != int(arg):
            fail("exit status %d, expected %s" % (rc, arg))
    else:
        fail("bad step %r" % step)
sys.stdout.buffer.write(out)

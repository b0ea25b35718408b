#!/bin/bash
# python3-pyxs (a pure-Python xenstore client, Debian package) against our
# xenstored: node operations, permissions, transactions and a watch.
set -u
. "$(dirname "$0")/xenstore_daemon.inc"
PY=/usr/bin/python3
if ! $PY -c 'import pyxs' 2> /dev/null; then
    echo "SKIP: pyxs: python3-pyxs not installed"
    exit 0
fi
xsd_start
$PY - "$XENSTORED_PATH" <<'PY'
import sys, threading, queue
from pyxs import Client, PyXSError

sock = sys.argv[1]

def check(name, cond, why=""):
    print(("PASS: pyxs: %s" % name) if cond else ("FAIL: pyxs: %s: %s" % (name, why)))

def errno_of(fn):
    try:
        fn()
    except PyXSError as e:
        return e.args[0]
    return 0

with Client(unix_socket_path=sock) as c:
    c.write(b"/pyxs/a", b"hello")
    v = c.read(b"/pyxs/a")
    check("write-read", v == b"hello", repr(v))
    c.mkdir(b"/pyxs/d")
    names = sorted(c.list(b"/pyxs"))
    check("list", names == [b"a", b"d"], repr(names))
    check("exists", c.exists(b"/pyxs/a") and not c.exists(b"/pyxs/none"))
    check("read missing", errno_of(lambda: c.read(b"/pyxs/none")) == 2)
    c.set_perms(b"/pyxs/a", [b"n0", b"r3"])
    p = c.get_perms(b"/pyxs/a")
    check("perms", p == [b"n0", b"r3"], repr(p))
    c.delete(b"/pyxs/d")
    check("delete", not c.exists(b"/pyxs/d"))
    check("domain path", c.get_domain_path(7) == b"/local/domain/7", repr(c.get_domain_path(7)))
    check("dom0 introduced", c.is_domain_introduced(0))

    c.transaction()
    c.write(b"/pyxs/tx", b"1")
    check("transaction commit", c.commit() and c.read(b"/pyxs/tx") == b"1")

    with Client(unix_socket_path=sock) as other:
        c.transaction()
        c.read(b"/pyxs/tx")
        other.write(b"/pyxs/tx", b"2")
        c.write(b"/pyxs/tx", b"3")
        ok = c.commit()
        check("transaction conflict", ok is False and c.read(b"/pyxs/tx") == b"2",
              "commit=%r value=%r" % (ok, c.read(b"/pyxs/tx")))

    events = queue.Queue()
    m = c.monitor()
    m.watch(b"/pyxs/w", b"tok")
    t = threading.Thread(target=lambda: [events.put(e) for e in m.wait()], daemon=True)
    t.start()
    try:
        first = events.get(timeout=10)
        c.write(b"/pyxs/w/x", b"1")
        second = events.get(timeout=10)
        check("watch", (first[0], first[1]) == (b"/pyxs/w", b"tok") and
              (second[0], second[1]) == (b"/pyxs/w/x", b"tok"), "%r %r" % (first, second))
    except queue.Empty:
        check("watch", False, "no event within 10 s")
PY

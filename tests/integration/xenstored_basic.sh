#!/bin/bash
# xenstored end to end: starts the daemon in a mktemp dir and exercises it
# with Debian's xenstore-* tools, Xen's test-xenstore, raw bad input from a
# python client, many and stalled clients, and a domain introduced through
# a fake tandem-vmm control socket (the python side plays VMM and guest on
# the real shared page and eventfds).  Prints PASS:/FAIL:/SKIP: lines.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
XSD=${XENSTORED:-$ROOT/$BUILD/bin/xenstored}
TESTXS=/usr/lib/xen-4.17/bin/test-xenstore

if [ ! -x "$XSD" ]; then echo "SKIP: xenstored: $XSD not built"; exit 0; fi
if ! command -v xenstore-write >/dev/null; then echo "SKIP: xenstore-utils: not installed"; exit 0; fi

DIR=$(mktemp -d /tmp/xenstored-it.XXXXXX)
SOCK=$DIR/socket
export XENSTORED_PATH=$SOCK
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; [ -f "$DIR/log" ] && tail -n 5 "$DIR/log" | sed 's/^/    log: /'; }
check() { # name, command...
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
alive() { kill -0 "$PID" 2>/dev/null && xenstore-read /tool/xenstored >/dev/null 2>&1; }
wait_for() { # seconds, command... : polls a state, no fixed sleeps
    local t=$(( $1 * 20 )); shift
    while [ $t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; t=$((t - 1)); done
    return 1
}

# --- start: daemonized with --pid-file, socket from $XENSTORED_PATH --------
"$XSD" --pid-file "$DIR/pid" --log-file "$DIR/log" --vmm-dir "$DIR"
rc=$?
if [ $rc != 0 ] || [ ! -s "$DIR/pid" ]; then fail start "xenstored exited $rc"; exit 1; fi
PID=$(cat "$DIR/pid")
if wait_for 5 test -S "$SOCK"; then pass "start: daemonizes, pid file, \$XENSTORED_PATH socket"; else fail start "no socket"; exit 1; fi

# --- Debian tools ------------------------------------------------------------
t_tools() {
    xenstore-write /it/a 1 /it/b/c "two words" || return 1
    [ "$(xenstore-read /it/a)" = 1 ] || return 1
    [ "$(xenstore-read /it/b/c)" = "two words" ] || return 1
    [ "$(xenstore-list /it | tr '\n' ' ')" = "a b " ] || return 1
    xenstore-exists /it/b || return 1
    ! xenstore-exists /it/nope 2>/dev/null || return 1
    xenstore-chmod /it/a n0 r5 || return 1
    xenstore-ls -p /it | grep -q 'a = "1".*(n0,r5)' || return 1
    xenstore-rm /it/b || return 1
    ! xenstore-read /it/b/c 2>/dev/null || return 1
    xenstore-ls / | grep -q '^tool = ""' || return 1
}
check "xenstore-write/read/list/exists/chmod/ls/rm" t_tools

t_watch() {
    timeout 10 xenstore-watch -n 2 /it/w > "$DIR/watch.out" &
    local wp=$!
    wait_for 5 grep -q /it/w "$DIR/watch.out" || return 1 # the initial event
    xenstore-write /it/w/x 1
    wait $wp || return 1
    [ "$(sed -n 2p "$DIR/watch.out")" = /it/w/x ] || return 1
}
check "xenstore-watch: initial event, then the change" t_watch

if [ -x "$TESTXS" ]; then
    check "test-xenstore (Xen's suite)" timeout 60 "$TESTXS"
    check "test-xenstore x20 iterations" timeout 120 "$TESTXS" -i 20
else
    echo "SKIP: test-xenstore: not installed"
fi
if [ -x /usr/lib/xen-4.17/bin/xenstore-control ]; then
    t_control() {
        /usr/lib/xen-4.17/bin/xenstore-control check | grep -q OK || return 1
        /usr/lib/xen-4.17/bin/xenstore-control quota | grep -q 'nodes *: *1000' || return 1
    }
    check "xenstore-control check, quota" t_control
fi

# --- raw protocol client -------------------------------------------------------
cat > "$DIR/xs.py" <<'EOF'
import os, socket, struct, sys, time, mmap, select

SOCK = os.environ["XENSTORED_PATH"]
HDR = struct.Struct("<IIII")
types = dict(CONTROL=0, DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5, TX_START=6,
             TX_END=7, INTRODUCE=8, RELEASE=9, GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12, RM=13,
             SET_PERMS=14, WATCH_EVENT=15, ERROR=16, IS_INTRODUCED=17)

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    s.settimeout(10)
    return s

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def recv(s):
    t, rid, tx, ln = HDR.unpack(recv_exact(s, 16))
    return t, rid, tx, recv_exact(s, ln)

def call(s, t, payload, rid=1, tx=0):
    s.sendall(HDR.pack(t, rid, tx, len(payload)) + payload)
    while True:
        r = recv(s)
        if r[0] != types["WATCH_EVENT"]:
            return r

def strs(*a):
    return b"".join(x.encode() + b"\0" for x in a)

def expect(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)

def closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return True

def bad_input():
    # a header announcing 4 GiB: dropped
    s = conn(); s.sendall(HDR.pack(2, 1, 0, 0xffffffff)); expect(closed(s), "4GiB header closes")
    # unknown type, missing NUL, over-long path, unknown transaction: XS_ERROR
    s = conn()
    expect(call(s, 99, b"") [3] == b"ENOSYS\0", "unknown type -> ENOSYS")
    expect(call(s, 20, b"") [3] == b"ENOSYS\0", "type 20 -> ENOSYS")
    expect(call(s, types["READ"], b"/tool") [3] == b"EINVAL\0", "missing NUL -> EINVAL")
    expect(call(s, types["READ"], b"/" + b"a" * 3100 + b"\0")[3] == b"ENOENT\0", "dom0: long path fine")
    expect(call(s, types["READ"], b"/a/\0")[3] == b"EINVAL\0", "trailing slash -> EINVAL")
    expect(call(s, types["READ"], strs("/tool"), tx=77)[3] == b"ENOENT\0", "bad tx -> ENOENT")
    expect(call(s, types["WRITE"], b"/a b\0x")[3] == b"EINVAL\0", "bad chars -> EINVAL")
    r = call(s, types["READ"], strs("/tool"), rid=4242)
    expect(r[0] == types["READ"] and r[1] == 4242, "req_id echoed")
    # payload over 4096 bytes: dropped
    s.sendall(HDR.pack(11, 1, 0, 5000) + b"x" * 5000); expect(closed(s), "5000-byte payload closes")
    # disconnect mid-header and mid-payload
    s = conn(); s.sendall(HDR.pack(11, 1, 0, 100)[:9]); s.close()
    s = conn(); s.sendall(HDR.pack(11, 1, 0, 100) + b"/half\0"); s.close()
    # garbage: the daemon may hang up before all of it is sent (it should)
    s = conn()
    try:
        s.sendall(os.urandom(65536))
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.close()
    print("ok")

def slow_client():
    # A watches / and never reads; B's requests must not be held up.
    a = conn()
    a.sendall(HDR.pack(types["WATCH"], 1, 0, 6) + strs("/", "t"))
    b = conn()
    t0 = time.time()
    for i in range(3000):
        r = call(b, types["WRITE"], b"/slow/n%d\0" % i + b"v" * 200, rid=i)
        expect(r[0] == types["WRITE"], "write during stalled reader")
    dt = time.time() - t0
    expect(dt < 30, "3000 writes took %.1fs" % dt)
    r = call(b, types["RM"], strs("/slow"))
    expect(r[0] == types["RM"], "rm")
    print("ok %.0f writes/s" % (3000 / dt))

def overflow_dropped():
    # B watches / with a 4000-byte token, never reads, and keeps sending
    # requests; A's writes pile events on B past the 4 MiB bound: B is
    # dropped while A (and the daemon) carry on.
    b = conn()
    b.setblocking(False)
    b.send(HDR.pack(types["WATCH"], 1, 0, 2 + 4001) + b"/\0" + b"t" * 4000 + b"\0")
    a = conn()
    dropped = False
    for i in range(3000):
        r = call(a, types["WRITE"], b"/ovf/n%d\0v" % (i % 50), rid=i)
        expect(r[0] == types["WRITE"], "write while a watcher overflows")
        try:
            b.send(HDR.pack(types["READ"], 9, 0, 2) + b"/\0")
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
            break
    expect(dropped, "the overflowing watcher was dropped")
    expect(call(a, types["RM"], strs("/ovf"))[0] == types["RM"], "rm")
    print("ok after %d writes" % i)

def many_clients():
    socks = [conn() for _ in range(200)]
    for i, s in enumerate(socks):
        expect(call(s, types["WRITE"], b"/many/c%d\0%d" % (i, i))[0] == types["WRITE"], "write")
    for i, s in enumerate(socks):
        expect(call(s, types["READ"], b"/many/c%d\0" % i)[3] == b"%d" % i, "read back")
    print("ok")

def read_latency():
    s = conn()
    call(s, types["WRITE"], b"/lat\0value")
    n = 5000
    t0 = time.time()
    for i in range(n):
        call(s, types["READ"], b"/lat\0", rid=i)
    print("ok %.1f us/read" % ((time.time() - t0) / n * 1e6))

def fake_vmm(domid, vmm_dir):
    # Plays tandem-vmm: serves xenstore-ring with memfd + kick + notify on
    # <vmm_dir>/dom<domid>.ctl and keeps the connection open, as the VMM
    # does, until xenstored closes it (or the "VMM" is killed).
    mem = os.memfd_create("guest")
    os.ftruncate(mem, 4 * 4096)
    kick = os.eventfd(0, os.EFD_NONBLOCK)
    notify = os.eventfd(0, os.EFD_NONBLOCK)
    path = os.path.join(vmm_dir, "dom%d.ctl" % domid)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path); ls.listen(1)
    pid = os.fork()
    if pid == 0:
        c, _ = ls.accept()
        line = c.recv(64)
        if line == b"xenstore-ring\n":
            socket.send_fds(c, [b"OK gpa=0xfee3000 offset=12288 port=5\n"], [mem, kick, notify])
            c.recv(1)
        os._exit(0)
    ls.close()
    return pid, path, mem, kick, notify

def vmm_domain(domid, vmm_dir):
    domid = int(domid)
    pid, path, mem, kick, notify = fake_vmm(domid, vmm_dir)
    s = conn()
    home = "/local/domain/%d" % domid
    expect(call(s, types["MKDIR"], strs(home))[0] == types["MKDIR"], "mkdir home")
    expect(call(s, types["SET_PERMS"], strs(home, "n%d" % domid))[0] == types["SET_PERMS"], "perms")
    r = call(s, types["INTRODUCE"], strs(str(domid), str(0xfee3), "5"))
    os.unlink(path)
    expect(r[3] == b"OK\0", "INTRODUCE via fake VMM: %r" % r[3])
    expect(call(s, types["IS_INTRODUCED"], strs(str(domid)))[3] == b"T\0", "introduced")
    page = mmap.mmap(mem, 4096, offset=12288)
    def u32(off): return struct.unpack_from("<I", page, off)[0]
    def set32(off, v): struct.pack_into("<I", page, off, v & 0xffffffff)
    expect(u32(2068) == 0, "connection = XENSTORE_CONNECTED")
    expect(u32(2064) & 3 == 3, "server features")
    def guest_call(t, payload, rid):
        msg = HDR.pack(t, rid, 0, len(payload)) + payload
        prod = u32(2052)
        for i, byte in enumerate(msg):
            page[(prod + i) % 1024] = byte
        set32(2052, prod + len(msg))
        os.eventfd_write(kick, 1)
        buf = b""
        deadline = time.time() + 5
        while time.time() < deadline:
            select.select([notify], [], [], 0.2)
            try: os.eventfd_read(notify)
            except BlockingIOError: pass
            cons, rprod = u32(2056), u32(2060)
            while cons != rprod:
                buf += bytes([page[1024 + cons % 1024]]); cons += 1
            set32(2056, cons)
            os.eventfd_write(kick, 1)
            if len(buf) >= 16 and len(buf) >= 16 + HDR.unpack(buf[:16])[3]:
                return HDR.unpack(buf[:16]), buf[16:16 + HDR.unpack(buf[:16])[3]]
        expect(False, "guest reply timeout")
    h, body = guest_call(types["WRITE"], b"data/hello\0from-guest", 7)
    expect(h[0] == types["WRITE"] and h[1] == 7, "guest write: %r" % body)
    expect(call(s, types["READ"], strs(home + "/data/hello"))[3] == b"from-guest", "dom0 sees it")
    h, body = guest_call(types["READ"], b"/tool\0", 8)
    expect(body == b"EACCES\0", "guest cannot read /tool")
    # garbage indexes from the guest: error flagged, daemon fine
    set32(2052, u32(2048) + 4000); os.eventfd_write(kick, 1)
    deadline = time.time() + 5
    while u32(2072) != 2 and time.time() < deadline: time.sleep(0.01)
    expect(u32(2072) == 2, "XENSTORE_ERROR_RINGIDX set")
    expect(call(s, types["READ"], strs("/tool"))[0] == types["READ"], "daemon fine")
    expect(call(s, types["RELEASE"], strs(str(domid)))[3] == b"OK\0", "RELEASE")
    expect(call(s, types["IS_INTRODUCED"], strs(str(domid)))[3] == b"F\0", "released")
    expect(call(s, types["READ"], strs(home))[3] == b"ENOENT\0", "its nodes are gone")
    os.waitpid(pid, 0) # the "VMM" saw xenstored hang up
    print("ok")

def vmm_dies(domid, vmm_dir):
    # A VMM that exits without RELEASE: xenstored notices the hang-up of its
    # control connection, fires @releaseDomain and drops the domain's nodes.
    domid = int(domid)
    pid, path, mem, kick, notify = fake_vmm(domid, vmm_dir)
    s = conn()
    home = "/local/domain/%d" % domid
    call(s, types["MKDIR"], strs(home)); call(s, types["SET_PERMS"], strs(home, "n%d" % domid))
    w = conn()
    expect(call(w, types["WATCH"], strs("@releaseDomain", "rel"))[0] == types["WATCH"], "watch")
    expect(recv(w)[3] == b"@releaseDomain\0rel\0", "initial event")
    expect(call(s, types["INTRODUCE"], strs(str(domid), "1", "5"))[3] == b"OK\0", "INTRODUCE")
    os.unlink(path)
    os.kill(pid, 9); os.waitpid(pid, 0)
    expect(recv(w)[3] == b"@releaseDomain\0rel\0", "@releaseDomain fired")
    expect(call(s, types["IS_INTRODUCED"], strs(str(domid)))[3] == b"F\0", "gone")
    expect(call(s, types["READ"], strs(home))[3] == b"ENOENT\0", "its nodes are gone")
    print("ok")

def introduce_missing_vmm():
    s = conn()
    r = call(s, types["INTRODUCE"], strs("42", "1", "3"))
    expect(r[3] == b"EINVAL\0", "INTRODUCE without VMM -> EINVAL, got %r" % r[3])
    print("ok")

globals()[sys.argv[1]](*sys.argv[2:])
EOF

pyt() { # name, function, args...
    local name=$1; shift
    local out
    out=$(timeout 120 python3 "$DIR/xs.py" "$@" 2>&1)
    if [ $? = 0 ] && alive; then pass "$name${out:+ ($(echo "$out" | tail -n 1))}"
    else fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ') alive=$(alive && echo yes || echo no)"; fi
}
pyt "bad input: 4GiB header, unknown type, no NUL, long path, >4096 payload, hang-ups, garbage" bad_input
pyt "a stalled reader does not hold up another client" slow_client
pyt "a client past the 4 MiB output bound is dropped, others carry on" overflow_dropped
pyt "200 concurrent clients" many_clients
pyt "read round trip" read_latency
pyt "INTRODUCE without a VMM socket is EINVAL" introduce_missing_vmm
pyt "domain via fake tandem-vmm: ring, kick/notify, perms, bad indexes, RELEASE" vmm_domain 7 "$DIR"
pyt "a VMM that dies releases its domain (@releaseDomain, nodes removed)" vmm_dies 8 "$DIR"
check "store consistent (CONTROL check)" python3 -c "
import sys; sys.argv=['x','nothing']
exec(open('$DIR/xs.py').read().replace('globals()[sys.argv[1]](*sys.argv[2:])',''))
s=conn(); r=call(s, types['CONTROL'], strs('check')); sys.exit(0 if r[3]==b'OK\0' else 1)"

# --- shutdown ----------------------------------------------------------------
kill "$PID"
if wait_for 5 sh -c "! kill -0 $PID 2>/dev/null" && [ ! -e "$SOCK" ]; then pass "SIGTERM: exits, removes socket"; PID=
else fail shutdown "still running or socket left"; fi

# --- socket resolution: $XENSTORED_RUNDIR, --socket, --foreground -------------
mkdir -p "$DIR/run"
env -u XENSTORED_PATH XENSTORED_RUNDIR="$DIR/run" "$XSD" --foreground --log-file "$DIR/log2" &
PID=$!
if wait_for 5 test -S "$DIR/run/socket" && XENSTORED_PATH="$DIR/run/socket" xenstore-read /tool/xenstored >/dev/null; then
    pass "\$XENSTORED_RUNDIR/socket with --foreground"
else fail rundir "no socket in \$XENSTORED_RUNDIR"; fi
kill "$PID"; wait "$PID" 2>/dev/null; PID=
"$XSD" --foreground --socket "$DIR/explicit.sock" --entry-nb 3 -Q watches=2 &
PID=$!
if wait_for 5 test -S "$DIR/explicit.sock" &&
   XENSTORED_PATH="$DIR/explicit.sock" /usr/lib/xen-4.17/bin/xenstore-control quota 2>/dev/null | grep -q 'nodes *: *3$\|nodes *: *3 '; then
    pass "--socket and quota options"
else fail options "--socket/--entry-nb/-Q not honoured"; fi
kill "$PID"; wait "$PID" 2>/dev/null; PID=
"$XSD" --foreground --socket "$DIR/rot.sock" --log-file "$DIR/rot.log" --verbose &
PID=$!
t_rotate() {
    wait_for 5 test -S "$DIR/rot.sock" || return 1
    mv "$DIR/rot.log" "$DIR/rot.log.1"
    kill -HUP "$PID"
    wait_for 5 test -e "$DIR/rot.log" || return 1
    XENSTORED_PATH="$DIR/rot.sock" xenstore-read /tool >/dev/null || return 1
    wait_for 5 grep -q READ "$DIR/rot.log" && kill -0 "$PID"
}
check "SIGHUP reopens the log file" t_rotate
kill "$PID"; wait "$PID" 2>/dev/null; PID=
"$XSD" --foreground --bogus-option 2>/dev/null && fail "bad option" "accepted" || pass "bad option rejected"
exit 0

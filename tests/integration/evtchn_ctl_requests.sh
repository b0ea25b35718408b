#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# The control socket's evtchn-alloc / evtchn-bind dom0_port= requests on a
# real tandem-vmm (docs/control-socket.md): replies for good and malformed
# input, ownership per connection, a closed connection frees its ports.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm evtchn_ctl_requests
GUEST=$GUESTDIR/tandem-guest.elf
need_file evtchn_ctl_requests "$GUEST" || exit 1
"$VMM" --kernel "$GUEST" --cmdline app=idle --memory 32 --domid 4 --run-dir "$TMP/run" \
    --console "file:$TMP/con" > /dev/null 2> "$TMP/vmm.err" < /dev/null &
PIDS+=($!)
wait_sock "$TMP/run/dom4.ctl" 10 || { fail evtchn_ctl_requests "no control socket: $(cat "$TMP/vmm.err")"; exit 1; }
python3 - "$TMP/run/dom4.ctl" <<'PY'
import socket, sys

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s

def req(s, line):
    s.sendall(line.encode() + b"\n")
    msg, _, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(3 * 4))
    return msg.decode().strip()

def check(name, got, want):
    ok = got.startswith(want)
    print(("PASS: evtchn_ctl_%s" % name) if ok else
          ("FAIL: evtchn_ctl_%s: got %r, want %r..." % (name, got, want)))

a, b = conn(), conn()
check("alloc", req(a, "evtchn-alloc"), "OK port=1")
check("alloc_second", req(a, "evtchn-alloc"), "OK port=2")
check("alloc_takes_no_args", req(a, "evtchn-alloc port=3"), "ERR EINVAL")
check("bind_before_guest", req(a, "evtchn-bind dom0_port=1"), "ERR EAGAIN")
check("bind_other_connection", req(b, "evtchn-bind dom0_port=1"), "ERR EINVAL")
check("bind_never_allocated", req(a, "evtchn-bind dom0_port=77"), "ERR EINVAL")
for bad in ["dom0_port=", "dom0_port=-1", "dom0_port=+1", "dom0_port=1x",
            "dom0_port=" + "0" * 25 + "1zzz", "dom0_port=99999999999"]:
    check("bind_malformed", req(a, "evtchn-bind " + bad), "ERR EINVAL")
check("bind_zero", req(a, "evtchn-bind dom0_port=0"), "ERR EINVAL")
a.close()
# a's ports are free again once the VMM saw the hang-up (its main loop
# may serve b's request first): b gets port 1 within a few requests
import time
deadline, got = time.time() + 5, ""
while time.time() < deadline and got != "OK port=1":
    got = req(b, "evtchn-alloc")
check("closed_connection_frees_ports", got, "OK port=1")
PY
exit 0

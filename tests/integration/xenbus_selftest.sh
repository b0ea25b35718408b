#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# app=xenbus-selftest against the real xenstored, this script playing dom0:
# the guest announces each step in /local/domain/<id>/data/xbst/step and
# waits for the answer node this script writes (a watched node, a
# transaction conflict, a backend stepping through XenbusState, a grant
# "mapped" through the VMM's memfd by setting GTF_reading as a dom0 map
# does). Checks the guest's one result line and that it powered off (0).
#
# Second case (xenbus_selftest_late_xenstored): xenstored is stopped
# (SIGSTOP) while the domain boots and resumed only once the guest's ring
# shows an unconsumed request, i.e. the guest's first request and doorbell
# came before the VMM's INTRODUCE. The guest never rings again, so this
# passes only because xenstored serves requests queued before INTRODUCE
# and then notifies the guest.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm xenbus_selftest
GUEST=$GUESTDIR/tandem-guest.elf
XSD=$BIN/xenstored
need_file xenbus_selftest "$GUEST" || exit 1
need_file xenbus_selftest "$XSD" || exit 1
export XENSTORED_PATH=$TMP/xs/socket
mkdir -p "$TMP/xs"
"$XSD" -N -s "$XENSTORED_PATH" --vmm-dir "$TMP/run" > "$TMP/xsd.log" 2>&1 &
XSD_PID=$!
PIDS+=($XSD_PID)
wait_sock "$XENSTORED_PATH" 10 || { fail xenbus_selftest "xenstored did not start"; exit 1; }

CASE=xenbus_selftest
STATUS=0
rd() { "$BIN/xenstore-read" "$1" 2>/dev/null; }
wr() { "$BIN/xenstore-write" "$1" "$2"; }
die() {
    fail $CASE "$1 (guest: $(tail -n 3 "$TMP/con.$DOMID" 2>/dev/null | tr '\n' '|'))"
    STATUS=1
    return 1
}

# wait_value PATH VALUE TIMEOUT_S: waits until the node holds VALUE (or the VMM is gone).
wait_value() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ] && kill -0 $VPID 2>/dev/null; do
        [ "$(rd "$1")" = "$2" ] && return 0
        sleep 0.02
    done
    return 1
}

# guest_mem MODE [REF GFRAME]: looks at guest memory through the VMM's
# control socket (`memory` memfd, `gnttab` frame list).
#   ring:  waits (20 s) until the xenstore ring holds an unconsumed request.
#   map:   checks the grant REF (permit, writable, domid 0, frame GFRAME, the
#          page holds the guest's pattern), then sets GTF_reading as a dom0
#          map does.
#   unmap: checks it is still granted and mapped, then clears GTF_reading.
guest_mem() {
    python3 - "$TMP/run/dom$DOMID.ctl" "$@" <<'EOF'
import mmap, socket, struct, sys, time
ctl, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(ctl)

def request(line):
    s.sendall(line.encode() + b"\n")
    buf, fds = b"", []
    while not buf.endswith(b"\n"):
        msg, got, _, _ = socket.recv_fds(s, 4096, 4)
        if not msg:
            sys.exit("control socket closed")
        buf += msg
        fds += got
    reply = buf.decode().strip()
    if not reply.startswith("OK"):
        sys.exit(f"{line}: {reply}")
    return dict(t.split("=", 1) for t in reply.split()[1:] if "=" in t), fds

mem, fds = request("memory")
ram, region_gpa, region_off = int(mem["ram_size"]), int(mem["region_gpa"], 16), int(mem["region_offset"])
m = mmap.mmap(fds[0], 0)

def off(gpa):
    return gpa if gpa < ram else region_off + gpa - region_gpa

if mode == "ring":
    ring = off(0xFC001000)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cons, prod = struct.unpack_from("<II", m, ring + 2048)  # req_cons, req_prod
        if prod != cons:
            sys.exit(0)
        time.sleep(0.01)
    sys.exit("no request on the xenstore ring after 20 s")

ref, gframe = int(sys.argv[3]), int(sys.argv[4])
gt, _ = request("gnttab")
frames = [int(f, 16) for f in gt.get("frames", "").split(",") if f]
if ref // 512 >= len(frames):
    sys.exit(f"ref {ref} beyond the {len(frames)} grant frames the VMM reports")
e = off(frames[ref // 512] + (ref % 512) * 8)
flags, domid, frame = struct.unpack_from("<HHI", m, e)
reading = 8 if mode == "unmap" else 0
if flags != (1 | reading) or domid != 0 or frame != gframe:
    sys.exit(f"entry {ref}: flags {flags:#x} domid {domid} frame {frame:#x}; want "
             f"{1 | reading:#x}, dom0, frame {gframe:#x}")
page = m[frame * 4096:(frame + 1) * 4096]
if any(page[i] != (i * 7 + 1) & 0xFF for i in range(4096)):
    sys.exit("granted page does not hold the guest's pattern")
struct.pack_into("<H", m, e, flags | 8 if mode == "map" else flags & ~8)
EOF
}

# The device directories a toolstack would write (libxl's layout), with a
# backend directory the guest may read; then the backend's side of the
# handshake.
make_device() {
    local fe=$D/device/xbtest/0 be=/local/domain/0/backend/xbtest/$DOMID/0
    wr $be/frontend $fe && wr $be/frontend-id $DOMID && wr $be/state 1 &&
        wr $fe/backend $be && wr $fe/backend-id 0 && wr $fe/state 1 &&
        "$BIN/xenstore-chmod" -r $be n0 r$DOMID && "$BIN/xenstore-chmod" -r $D/device/xbtest n$DOMID r0 &&
        wr $be/state 2 || return 1
    wr $X/device-ready 1
    # the guest says Initialised once it saw InitWait: connect
    wait_value $fe/state 3 30 || return 1
    wr $be/state 4
}

grant_step() { # map | unmap
    guest_mem $1 "$(rd $X/gref)" "$(rd $X/gframe)"
}

serve() {
    local last= step deadline=$((SECONDS + 90))
    while [ $SECONDS -lt $deadline ] && kill -0 $VPID 2>/dev/null; do
        step=$(rd $X/step)
        if [ -z "$step" ] || [ "$step" = "$last" ]; then
            sleep 0.02
            continue
        fi
        last=$step
        case $step in
        wait) wr $X/later yes ;;
        watch) wr $X/ping hello ;;
        tx) wr $X/counter 100 && wr $X/tx-done 1 ;;
        device) make_device || { die "device step failed"; return 1; } ;;
        grant) grant_step map && wr $X/grant-mapped 1 || { die "grant step failed"; return 1; } ;;
        unmap) grant_step unmap && wr $X/grant-unmapped 1 || { die "unmap step failed"; return 1; } ;;
        done | failed) return 0 ;;
        *) die "unknown step '$step'"; return 1 ;;
        esac
    done
}

# run_case NAME DOMID LATE: boots the guest (LATE=1: with xenstored stopped
# until the guest's first request is on the ring), serves its steps and
# checks its result line and exit status.
run_case() {
    CASE=$1 DOMID=$2
    local late=$3 rc line
    D=/local/domain/$DOMID
    X=$D/data/xbst
    [ "$late" = 1 ] && kill -STOP $XSD_PID
    "$VMM" --kernel "$GUEST" --cmdline "app=xenbus-selftest xs-features=0" --domid $DOMID \
        --name xbst$DOMID --vcpus 1 --memory 64 --run-dir "$TMP/run" --xenstore "$XENSTORED_PATH" \
        --console "file:$TMP/con.$DOMID" > "$TMP/vmm.$DOMID.out" 2> "$TMP/vmm.$DOMID.err" < /dev/null &
    VPID=$!
    PIDS+=($VPID)
    if [ "$late" = 1 ]; then
        local early=0
        wait_sock "$TMP/run/dom$DOMID.ctl" 10 && guest_mem ring && early=1
        kill -CONT $XSD_PID
        [ $early = 1 ] || { die "no request queued before xenstored resumed"; return; }
    fi
    serve || return
    local deadline=$((SECONDS + 30))
    while kill -0 $VPID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    kill -0 $VPID 2>/dev/null && { die "guest did not power off"; return; }
    wait $VPID
    rc=$?
    line=$(grep -a '^xenbus-selftest: ' "$TMP/con.$DOMID" | tail -n 1)
    echo "${line:-<no result line>}"
    case "$line" in
    "xenbus-selftest: ok "*) ;;
    *) die "no ok line: ${line:-none} (vmm exit $rc; $(tail -n 2 "$TMP/vmm.$DOMID.err" | tr '\n' '|'))"; return ;;
    esac
    [ $rc = 0 ] || { die "vmm exit $rc, expected 0"; return; }
    pass $CASE
}

run_case xenbus_selftest 5 0
run_case xenbus_selftest_late_xenstored 6 1
exit $STATUS

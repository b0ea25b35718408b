#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# tandem-blkback killed (SIGKILL, by pid) and restarted under load: a
# guest runs blkbench randwrite qd=32 writing self-checking blocks; the
# daemon is killed while requests are in flight and a new one started. The
# restarted daemon makes the frontend reset; blkfront reconnects with a
# fresh ring, grants and event channel, resubmits what was unanswered, and
# the benchmark finishes without an error. A second boot then checks every
# block of the disk: each one is either never written or a complete block
# with its own number and a valid checksum. Then the same under a
# backend-initiated close: the toolstack writes online=0 (backend Closing,
# the frontend closes, backend Closed) and online=1 again; the guest
# reconnects and finishes.
. "$(dirname "$0")/blk_lib.bash"
need_blk

D=$WORK/r.img
new_disk "$D" 32
DISK="disk = [ $(disk_item "$D" xvda) ]"
# Both scenarios act while the load runs: under emulation the device takes
# seconds to connect and a 4 s load can end before the test sees it flow.
LOAD_S=4
emulated && LOAD_S=15
# ---- online=0 / online=1 under load (run last, and also when the kill
# scenario below cannot run) ----
# The toolstack sets online=0 (backend closes) then online=1 while a
# guest writes: the guest reconnects and finishes without errors.
online_scenario() {
    BE=/local/domain/0/backend/vbd/1/51712
    write_cfg "$WORK/off.cfg" off "app=blkbench dev=xvda pattern=randwrite bs=4096 qd=16 seconds=$LOAD_S verify=1 warmup-ms=0" "$DISK"
    start_bg off "$WORK/off.cfg"
    GUEST=$LAST_PID
    be_state() { [ "$(xs read "$BE/state" 2>/dev/null)" = "$1" ]; }
    if wait_for 300 be_state 4; then
        xs write "$BE/online" 0
        if wait_for 100 be_state 6; then
            pass backend_closed_by_toolstack
        else
            fail backend_closed_by_toolstack "backend state $(xs read "$BE/state" 2>&1)"
        fi
        xs write "$BE/online" 1
    else
        fail backend_closed_by_toolstack "never connected: $(show off)"
    fi
    wait_rc "$GUEST" $((600 + LOAD_S * 20 * $(emulation_factor)))
    line=$(grep "^blkbench:" "$WORK/off.out")
    if [ $RC = 0 ] && [[ $line =~ errors=0\ reconnects=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 1 ]; then
        pass guest_reconnects_after_online_1
    else
        fail guest_reconnects_after_online_1 "status $RC: $(show off)"
    fi
}

write_cfg "$WORK/load.cfg" load "app=blkbench dev=xvda pattern=randwrite bs=4096 qd=32 seconds=$LOAD_S verify=1 warmup-ms=0" "$DISK"
start_bg load "$WORK/load.cfg"
GUEST=$LAST_PID

if ! wait_for 300 grep -q "vbd 1/51712: connected" "$BLKBACK_LOG"; then
    fail kill_under_load "the device never connected: $(show load)"
    online_scenario
    finish
fi
# Requests must be flowing: the file grows allocated blocks.
wait_for 100 eval 'test "$(du -k "$D" | cut -f1)" -gt 64'   # eval: du again each try
old=$(blkback_pid)
kill -KILL "$old"
wait_gone "$old" 50 && pass blkback_killed_by_pid || fail blkback_killed_by_pid "pid $old still alive"

XENSTORED_PATH=$TANDEM_RUNDIR/xenstored/socket "$TANDEM_BIN/tandem-blkback" --run-dir "$TANDEM_RUNDIR" \
    2>> "$BLKBACK_LOG" < /dev/null &
echo $! > "$BLKBACK_PIDF"

wait_rc "$GUEST" $((600 + LOAD_S * 20 * $(emulation_factor)))
line=$(grep "^blkbench:" "$WORK/load.out")
if [ $RC = 0 ] && [[ $line =~ errors=0\ reconnects=([0-9]+)\ resubmitted=([0-9]+) ]] &&
    [ "${BASH_REMATCH[1]}" -ge 1 ]; then
    pass guest_finishes_after_reconnect
    echo "# $line"
else
    fail guest_finishes_after_reconnect "status $RC: $(show load)"
fi
grep -q "reconnecting" "$WORK/load.out" && pass frontend_saw_the_backend_go ||
    fail frontend_saw_the_backend_go "$(show load)"

boot check "app=blkverify dev=xvda mode=check" "$DISK"
if [ $RC = 0 ] && [[ $(grep "^blkverify: dev=xvda ok" "$WORK/check.out") =~ unwritten=([0-9]+) ]] &&
    [ "${BASH_REMATCH[1]}" -lt 8192 ]; then
    pass every_block_intact_after_restart
else
    fail every_block_intact_after_restart "status $RC: $(show check)"
fi
online_scenario
finish

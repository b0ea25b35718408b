# Helpers sourced by tests/integration/blk_*.sh (not a test itself: the
# runner only runs *.sh). On top of cli_lib.bash: the tandem-blkback that
# `tandem run` starts for the run directory is stopped by the pid in
# rundir/blkback/pid at exit; boot/start run a guest with disks.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.bash"

BLKBACK_PIDF=$TANDEM_RUNDIR/blkback/pid
BLKBACK_LOG=$TANDEM_RUNDIR/blkback/log

blkback_pid() { [ -s "$BLKBACK_PIDF" ] && cat "$BLKBACK_PIDF"; }

stop_blkback() {
    local p
    p=$(blkback_pid) || return 0
    kill -TERM "$p" 2>/dev/null && { wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; }
}

blk_cleanup() {
    local rc=$?
    # Guests first (they hold the devices), then the daemon, then the rest.
    local p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; done
    BG_PIDS=()
    stop_blkback
    cleanup
    exit $rc
}
trap blk_cleanup EXIT

need_blk() {
    need_kvm
    need_tandem
    need_file "$TANDEM_BIN/tandem-vmm"
    need_file "$TANDEM_BIN/xenstored"
    need_file "$TANDEM_BIN/tandem-blkback"
    need_file "$KERNEL"
}

# disk_line PATH VDEV [ACCESS]: one item of disk = [ ... ]
disk_item() { echo "'target=$1, vdev=$2, access=${3:-rw}, format=raw'"; }

# boot NAME CMDLINE [config lines]: runs to the end; status in $RC,
# output in $WORK/NAME.out/.err.
boot() {
    local name=$1 cmdline=$2
    shift 2
    write_cfg "$WORK/$name.cfg" "$name" "$cmdline" "$@"
    timeout 120 "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null
    RC=$?
}

show() { tail -n 12 "$WORK/$1.out" "$WORK/$1.err" "$BLKBACK_LOG" 2>/dev/null | tr '\n' '|'; }

# new_disk PATH MIB: a zero-filled raw disk (sparse).
new_disk() { rm -f "$1"; truncate -s "${2}M" "$1"; }

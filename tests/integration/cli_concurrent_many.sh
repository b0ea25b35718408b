#!/bin/bash
# 20 domains created at the same moment (`tandem create` in parallel, in an
# empty run directory, every other one with a disk), the others given a
# disk by block-attach at the same moment, and then all destroyed at the
# same moment leave nothing behind: no domain, /vm, backend or
# frontend entry in xenstore, no control socket or lock in the run
# directory, no VMM or supervisor in the process table, no backing file
# held by tandem-blkback. Domids are distinct and names unique. Uses the
# fake VMM (no KVM needed); pv_concurrent.sh runs it with a few real
# guests (CONCURRENT_REAL=1 CONCURRENT_N=K).
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-blkback"
N=${CONCURRENT_N:-20}
REAL=${CONCURRENT_REAL:-0}
if [ "$REAL" = 1 ]; then
    need_kvm
    need_file "$TANDEM_BIN/tandem-vmm"
    need_file "$KERNEL"
else
    use_fake_vmm
fi
trap 'stop_service blkback; cleanup' EXIT

for ((i = 1; i <= N; i++)); do
    disk=()
    if ((i % 2 == 0)); then
        truncate -s 64K "$WORK/d$i.img"
        disk=("disk = [ 'target=$WORK/d$i.img,vdev=xvda,access=rw' ]")
    fi
    write_cfg "$WORK/m$i.cfg" "m$i" "app=idle" "${disk[@]}"
done

# at_once STEP FIRST STRIDE CMD...: CMD for i = FIRST, FIRST+STRIDE, ... <= N,
# all started at once, "@" in its arguments standing for i (stderr in
# $WORK/m<i>.STEP); waits for all; the failures in $BAD.
at_once() {
    local step=$1 first=$2 stride=$3 i k=0
    shift 3
    local pids=() idx=()
    for ((i = first; i <= N; i += stride)); do
        "$TANDEM" "${@//@/$i}" > /dev/null 2> "$WORK/m$i.$step" < /dev/null &
        pids+=($!)
        idx+=("$i")
    done
    BAD=""
    for p in "${pids[@]}"; do
        wait "$p" || BAD="$BAD m${idx[$k]}($(head -c 200 "$WORK/m${idx[$k]}.$step"))"
        k=$((k + 1))
    done
}

at_once create 1 1 create "$WORK/m@.cfg"
[ -z "$BAD" ] && pass all_created || fail all_created "$BAD"

ids=$(for ((i = 1; i <= N; i++)); do "$TANDEM" domid "m$i" 2>/dev/null; done | sort -n | uniq)
[ "$(echo "$ids" | grep -c .)" = "$N" ] && pass distinct_domids ||
    fail distinct_domids "got $(echo "$ids" | tr '\n' ' ')"
if [ "$REAL" = 1 ]; then   # every guest kernel up (its PV control)
    up=0
    F=$(emulation_factor)
    for id in $ids; do
        wait_for $((300 * F)) xs exists "/local/domain/$id/control/feature-reboot" && up=$((up + 1))
    done
    [ "$up" = "$N" ] && pass all_guests_up || fail all_guests_up "$up of $N"
fi
[ "$("$TANDEM" list | grep -cE '^m[0-9]+ ')" = "$N" ] && pass all_listed ||
    fail all_listed "$("$TANDEM" list)"
n_vbd=$(xs ls /local/domain/0/backend/vbd 2>/dev/null | grep -c '^[0-9]')
[ "$n_vbd" = $((N / 2)) ] && pass disks_written || fail disks_written "$n_vbd domains with disks"
[ "$(pgrep -fc -- "xenstored --foreground --socket $TANDEM_RUNDIR/xenstored/socket")" = 1 ] &&
    [ "$(pgrep -fc -- "tandem-blkback --run-dir $TANDEM_RUNDIR\$")" = 1 ] && pass one_of_each_service ||
    fail one_of_each_service "$(pgrep -fa -- "$TANDEM_RUNDIR" | grep -v fake-vmm)"

# Hotplug at the same moment too: every odd domain gets a disk.
for ((i = 1; i <= N; i += 2)); do truncate -s 64K "$WORK/h$i.img"; done
at_once attach 1 2 block-attach m@ "target=$WORK/h@.img,vdev=xvdb"
n_vbd=$(xs ls /local/domain/0/backend/vbd 2>/dev/null | grep -c '^[0-9]')
[ -z "$BAD" ] && [ "$n_vbd" = "$N" ] && pass all_attached ||
    fail all_attached "$n_vbd domains with disks;$BAD"

at_once destroy 1 1 destroy m@
[ -z "$BAD" ] && pass all_destroyed || fail all_destroyed "$BAD"

# What is left, once the supervisors have finished (they hold the locks).
no_lock_held() { ! fuser "$TANDEM_RUNDIR"/dom*.lock > /dev/null 2>&1; }
wait_for 200 no_lock_held
left=""
for id in $ids; do
    why=$(nothing_left "$id" "") || left="$left $why"
done
doms=$(xs ls /local/domain 2>/dev/null | grep -vE '^0( |$)' | grep -E '^[0-9]+ ')
[ -n "$doms" ] && left="$left domains in xenstore: $doms;"
vms=$(xs ls /vm 2>/dev/null | grep -c .)
[ "$vms" != 0 ] && left="$left $vms /vm entries;"
for k in vbd vif; do
    be=$(xs ls "/local/domain/0/backend/$k" 2>/dev/null | grep -c '^[0-9]')
    [ "$be" != 0 ] && left="$left $be domains under backend/$k;"
done
files=$(ls "$TANDEM_RUNDIR" | grep -vE '^(xenstored|consoled|blkback|log|create\.lock|record\.lock)$')
[ -n "$files" ] && left="$left run dir: $(echo "$files" | tr '\n' ' ');"
procs=$(pgrep -fa -- "$TANDEM_RUNDIR" | grep -vE 'xenstored|tandem-consoled|tandem-blkback')
[ -n "$procs" ] && left="$left processes: $procs;"
bb=$(cat "$TANDEM_RUNDIR/blkback/pid" 2>/dev/null)
held=$(ls -l "/proc/$bb/fd" 2>/dev/null | grep -c "$WORK/d")
[ "$held" != 0 ] && left="$left blkback holds $held backing files;"
[ -z "$left" ] && pass nothing_left || fail nothing_left "$left"
finish

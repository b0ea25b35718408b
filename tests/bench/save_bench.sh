#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has no /dev/kvm)
# Save and restore of a 64 MiB guest (docs/save-restore.md), the median of
# $SAVE_RUNS (5) rounds on one app=echo domain, saved and restored again
# and again:
#  - save: `tandem save` from its start until it returns (the guest's
#    acknowledgement and suspend, the VMM writing the file, the domain gone);
#  - restore: `tandem restore` from its start until the restored guest has
#    rebuilt its platform and says so on its console ("suspend: resumed as
#    domid N"), i.e. until it runs again;
#  - the file's size (untouched guest pages are not written) and, measured
#    in the same run for scale, `cp` of the same file.
# Prints a markdown table.
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
KERNEL=$ROOT/$BUILD/guest/tandem-guest.elf
RUNS=${SAVE_RUNS:-5}

for f in "$BIN/tandem" "$BIN/tandem-vmm" "$BIN/xenstored" "$BIN/tandem-consoled" "$KERNEL"; do
    [ -e "$f" ] || { echo "save bench: $f is missing"; exit 1; }
done
if [ ! -w /dev/kvm ]; then
    echo "save bench: skipped: /dev/kvm is not available"
    exit 0
fi

unset XENSTORED_PATH TANDEM_VMM TANDEM_XENSTORED TANDEM_VMM_ARGS
export TANDEM_RUNDIR
TANDEM_RUNDIR=$(mktemp -d /tmp/tandem-bench.XXXXXX)
WORK=$TANDEM_RUNDIR.work
mkdir -p "$WORK"
cleanup() {
    local p f
    for p in $(fuser "$TANDEM_RUNDIR"/dom*.lock 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    for p in $(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)"); do kill -KILL "$p" 2>/dev/null; done
    for f in consoled xenstored; do
        [ -s "$TANDEM_RUNDIR/$f/pid" ] && kill "$(cat "$TANDEM_RUNDIR/$f/pid")" 2>/dev/null
    done
    rm -rf "$TANDEM_RUNDIR" "$WORK"
}
trap cleanup EXIT
. "$ROOT/hypervisor/tests/emulation.sh"
F=$(emulation_factor)
T=$BIN/tandem

now_ns() { date +%s%N; }
# wait_for TENTHS CMD...: true as soon as CMD succeeds.
wait_for() {
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do "$@" > /dev/null 2>&1 && return 0; sleep 0.1; done
    "$@" > /dev/null 2>&1
}
xs() { XENSTORED_PATH=$TANDEM_RUNDIR/xenstored/socket "/usr/bin/xenstore-$1" "${@:2}"; }
ready() { local id; id=$("$T" domid sb) && [ "$(xs read "/local/domain/$id/control/feature-suspend")" = 1 ]; }
resumed() { local id; id=$("$T" domid sb) && grep -q "suspend: resumed as domid $id" "$TANDEM_RUNDIR/consoled/guest-sb.log"; }
gone() { ! "$T" domid sb; }

printf 'name = "sb"\nkernel = "%s"\nmemory = 64\nvcpus = 1\ncmdline = "app=echo timeout=3600"\n' \
    "$KERNEL" > "$WORK/sb.cfg"
"$T" create "$WORK/sb.cfg" > /dev/null || { echo "save bench: create failed"; exit 1; }
wait_for $((300 * F)) ready || { echo "save bench: the guest never advertised feature-suspend"; exit 1; }

saves=() restores=() copies=()
for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ns)
    "$T" save sb "$WORK/sb.save" > /dev/null || { echo "save bench: save failed"; exit 1; }
    t1=$(now_ns)
    wait_for $((100 * F)) gone || { echo "save bench: the saved domain stayed"; exit 1; }
    c0=$(now_ns)
    cp "$WORK/sb.save" "$WORK/copy.save" && sync -f "$WORK/copy.save"
    c1=$(now_ns)
    rm -f "$WORK/copy.save"
    t2=$(now_ns)
    "$T" restore "$WORK/sb.save" > /dev/null || { echo "save bench: restore failed"; exit 1; }
    wait_for $((300 * F)) resumed || { echo "save bench: the restored guest never said it resumed"; exit 1; }
    t3=$(now_ns)
    wait_for $((300 * F)) ready || { echo "save bench: the restored guest never advertised feature-suspend"; exit 1; }
    saves+=($(((t1 - t0) / 1000)))
    restores+=($(((t3 - t2) / 1000)))
    copies+=($(((c1 - c0) / 1000)))
done
size=$(stat -c %s "$WORK/sb.save")
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
echo "| save / restore, 64 MiB guest (app=echo), median of $RUNS | ms |"
echo "|---|---|"
echo "| tandem save (suspend, write, domain gone) | $(ms "$(median "${saves[@]}")") |"
echo "| tandem restore (to the guest running again) | $(ms "$(median "${restores[@]}")") |"
echo "| cp + sync of the same file, for scale | $(ms "$(median "${copies[@]}")") |"
echo "| file size | $((size / 1024)) KiB |"

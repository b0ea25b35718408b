#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# A guest that floods xenstore or doorbells (app=flood) must not slow dom0's
# other clients beyond a bound: drivers/flood_probe measures, idle and then
# while the guest runs, a dom0 xenstore client's read latency, an unrelated
# event-channel round trip (to a second guest, the bounce test guest) and
# the flooding domain's own VMM control socket (`info`).
#
# Bound (FLOOD_BOUND, default 3): for each figure, the median while the
# guest floods must be under 3x the larger of (a) the same figure idle and
# (b) the same figure while the guest merely spins (mode=spin, measured
# first in the same run). Why (b): this host has 2 CPUs, and any CPU-bound
# guest already slows the others ~2-4x (measured: unrelated event round
# trip 17 -> 39 us, the VMM's `info` 11 -> 48 us); judging the flood
# against idle alone would judge the host's CPU count. Why 3x: a daemon
# that serves the flooder ahead of others (no per-connection fairness or
# quota) or a VMM main loop that stalls behind doorbell exits shows up as
# 10x and more; 3x leaves room for this host's noise (a cross-CPU vs a
# same-CPU wakeup alone moves a median up to ~4x, mostly in idle runs).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm flood_dom0
GUEST=${GUEST_ELF:-$GUESTDIR/tandem-guest.elf}
BOUNCE=$GUESTDIR/vmm-ctest-bounce.elf
DRV=$ROOT/$BUILD/tests/drivers/flood_probe
for f in "$GUEST" "$BOUNCE" "$BIN/xenstored" "$DRV"; do need_file flood_dom0 "$f" || exit 1; done

export XENSTORED_PATH=$TMP/xs/socket
mkdir -p "$TMP/xs"
"$BIN/xenstored" -N -s "$XENSTORED_PATH" --vmm-dir "$TMP/run" > "$TMP/xsd.log" 2>&1 &
PIDS+=($!)
wait_sock "$XENSTORED_PATH" 10 || { fail flood_dom0 "xenstored did not start"; exit 1; }

"$VMM" --kernel "$BOUNCE" --domid 3 --memory 32 --run-dir "$TMP/run" --xenstore "$XENSTORED_PATH" \
    --console "file:$TMP/bounce.con" > /dev/null 2> "$TMP/bounce.err" < /dev/null &
PIDS+=($!)
wait_for "$TMP/bounce.con" '^bounce: port=' 20 || { fail flood_dom0 "bounce guest: $(cat "$TMP/bounce.err")"; exit 1; }
BPORT=$(sed -n 's/^bounce: port=\([0-9]*\).*/\1/p' "$TMP/bounce.con")
burst=20000   # the bounce guest's doorbell burst, collected by the first probe
# Under `make asan` (SAN=1) the VMM and xenstored run sanitized code,
# several times slower, while the kernel's part of each figure is not: the
# flooding VMM's main loop (it relays every xenstored reply to the guest)
# then competes far more for the 2 CPUs. The bound is 6x there.
default_bound=3
[ "${SAN:-}" = 1 ] && default_bound=6
bound=${FLOOD_BOUND:-$default_bound}
for mode in spin xenstore doorbell; do
    "$VMM" --kernel "$GUEST" --cmdline "app=flood mode=$mode" --domid 9 --memory 64 --run-dir "$TMP/run" \
        --xenstore "$XENSTORED_PATH" --console "file:$TMP/$mode.con" > /dev/null 2> "$TMP/$mode.err" < /dev/null &
    VPID=$!
    PIDS+=($VPID)
    if ! wait_sock "$TMP/run/dom9.ctl" 10; then
        fail "flood_${mode}_ran" "no control socket: $(cat "$TMP/$mode.err")"
        kill -KILL $VPID 2> /dev/null; wait $VPID 2> /dev/null   # domid 9 free for the next mode
        continue
    fi
    # Each probe binds the bounce guest's port anew (the previous binding
    # went with the previous probe's connection).
    timeout -k 5 180 "$DRV" --flood-domid 9 --bounce-domid 3 --bounce-port "$BPORT" --bounce-burst $burst \
        --n "${FLOOD_N:-5000}" --run-dir "$TMP/run" > "$TMP/$mode.probe" 2> "$TMP/$mode.drv.err"
    DRC=$?
    deadline=$((SECONDS + 20))
    while kill -0 $VPID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    kill -0 $VPID 2>/dev/null && kill -KILL $VPID
    wait $VPID 2>/dev/null
    VRC=$?
    echo "# $mode: $(tr '\n' ' ' < "$TMP/$mode.probe")$(grep "^flood:" "$TMP/$mode.con" | tail -n 1)"
    burst=0
    if [ $DRC != 0 ] || ! grep -q "^flood: $mode ops=" "$TMP/$mode.con" || [ $VRC != 0 ]; then
        fail "flood_${mode}_ran" "probe $DRC ($(tail -n 2 "$TMP/$mode.drv.err" | tr '\n' '|')), guest $VRC: $(tail -n 2 "$TMP/$mode.con" | tr '\n' '|')"
        continue
    fi
    pass "flood_${mode}_ran"
    for fig in xenstore_read evtchn_rtt vmm_info; do
        idle=$(sed -n "s/^${fig}_idle_ns=//p" "$TMP/$mode.probe")
        busy=$(sed -n "s/^${fig}_flood_ns=//p" "$TMP/$mode.probe")
        if [ $mode = spin ]; then
            eval "spin_$fig=\$busy"
            continue
        fi
        eval "base=\${spin_$fig:-0}"
        [ "$idle" -gt "$base" ] && base=$idle
        name="flood_${mode}_${fig}_under_${bound}x"
        if emulated; then
            # Under emulation a 3x bound on medians of a few hundred us is
            # the emulator's scheduling; the flood is survived (_ran) and
            # the figures are shown.
            skip_timing "$name" "median $busy ns flooding vs $idle ns idle, $(eval echo \${spin_$fig:-?}) ns spinning"
        elif host_shared; then
            echo "SKIP: $name: timing not judged: the test machines share this host's cores (median $busy ns flooding vs $idle ns idle, $(eval echo \${spin_$fig:-?}) ns spinning)"
        elif awk -v a="$busy" -v b="$base" -v k="$bound" 'BEGIN { exit !(a < k * b) }'; then
            pass "$name"
        else
            fail "$name" "median $busy ns flooding vs $idle ns idle, $(eval echo \${spin_$fig:-?}) ns with a spinning guest"
        fi
    done
done
exit 0

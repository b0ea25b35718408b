#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Event-channel ping-pong between a real guest (app=pingpong) and a dom0
# program using tdm_evtchn (drivers/evtchn_pingpong): N round trips led by
# dom0 on a guest-allocated port, a mask/unmask step (pending, no upcall,
# then exactly one), N round trips led by the guest on a port dom0
# allocated (`evtchn-alloc`) and the guest bound (bind_interdomain to dom0).
# Finally the guest's EVTCHNOP_reset: its ports closed, dom0's port
# unbound again, xenstore still working. Steps through xenstore nodes under
# the guest's data/pingpong/.
# PINGPONG_N overrides N (default 100000), PINGPONG_GUEST_ARGS adds to the
# guest command line (deadlines=0), GUEST_ELF picks the guest kernel,
# PINGPONG_VMM_CPUS / PINGPONG_DRV_CPUS pin the VMM / the driver (taskset
# lists; the benchmark uses them).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm evtchn_pingpong
GUEST=${GUEST_ELF:-$GUESTDIR/tandem-guest.elf}
DRV=$ROOT/$BUILD/tests/drivers/evtchn_pingpong
N=${PINGPONG_N:-100000}
for f in "$GUEST" "$BIN/xenstored" "$DRV"; do need_file evtchn_pingpong "$f" || exit 1; done

export XENSTORED_PATH=$TMP/xs/socket
mkdir -p "$TMP/xs"
"$BIN/xenstored" -N -s "$XENSTORED_PATH" --vmm-dir "$TMP/run" > "$TMP/xsd.log" 2>&1 &
PIDS+=($!)
wait_sock "$XENSTORED_PATH" 10 || { fail evtchn_pingpong "xenstored did not start"; exit 1; }

vmm_pin=() drv_pin=()
[ -n "${PINGPONG_VMM_CPUS:-}" ] && vmm_pin=(taskset -c "$PINGPONG_VMM_CPUS")
[ -n "${PINGPONG_DRV_CPUS:-}" ] && drv_pin=(taskset -c "$PINGPONG_DRV_CPUS")
"${vmm_pin[@]}" "$VMM" --stats --kernel "$GUEST" --cmdline "app=pingpong n=$N ${PINGPONG_GUEST_ARGS:-}" --domid 7 --memory 64 --run-dir "$TMP/run" \
    --xenstore "$XENSTORED_PATH" --console "file:$TMP/con" > "$TMP/vmm.out" 2> "$TMP/vmm.err" < /dev/null &
VPID=$!
PIDS+=($VPID)
wait_sock "$TMP/run/dom7.ctl" 10 || { fail evtchn_pingpong "no control socket: $(tail -n 3 "$TMP/vmm.err")"; exit 1; }

timeout -k 5 300 "${drv_pin[@]}" "$DRV" --domid 7 --n "$N" --run-dir "$TMP/run" > "$TMP/drv.out" 2> "$TMP/drv.err"
DRC=$?
deadline=$((SECONDS + 30))
while kill -0 $VPID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
kill -0 $VPID 2>/dev/null && kill -KILL $VPID
wait $VPID
VRC=$?
why="driver $DRC: $(tail -n 3 "$TMP/drv.err" | tr '\n' '|') guest $VRC: $(grep pingpong "$TMP/con" | tail -n 2 | tr '\n' '|')"
if [ $DRC = 0 ] && [ $VRC = 0 ] && grep -q "^pingpong: ok n=$N " "$TMP/con"; then
    pass "evtchn_pingpong_${N}_both_directions"
    echo "# $(tail -n 1 "$TMP/drv.out"); guest: $(grep 'phase 2' "$TMP/con")"
else
    fail "evtchn_pingpong_${N}_both_directions" "$why"
fi
# The guest rang 2N+1 doorbells on bound ports: KVM's ioeventfd must have
# served every one without an exit to the VMM (--stats counts doorbell exits).
exits=$(sed -n 's/.* doorbells=\([0-9]*\) .*/\1/p' "$TMP/vmm.err" | head -n 1)
if [ $DRC = 0 ] && [ -n "$exits" ] && [ "$exits" -lt 16 ]; then
    pass evtchn_pingpong_doorbells_without_vmm_exit
else
    fail evtchn_pingpong_doorbells_without_vmm_exit "doorbell exits to the VMM: '${exits}' for $((2 * N + 1)) doorbells (driver $DRC)"
fi
if grep -q "^pingpong: mask ok" "$TMP/drv.out"; then
    pass evtchn_pingpong_mask_unmask_exactly_one
else
    fail evtchn_pingpong_mask_unmask_exactly_one "$why"
fi
if grep -q "^pingpong: reset ok" "$TMP/drv.out"; then
    pass evtchn_pingpong_reset
else
    fail evtchn_pingpong_reset "$why"
fi
exit 0

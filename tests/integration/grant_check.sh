#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Grants end to end with a real guest: app=granttest grants pages and
# publishes the refs under its data/granttest/; drivers/grant_check (dom0,
# tdm_gnttab) maps, reads and writes through them, is refused a ref never
# granted, a ref granted to another domain, write access to a read-only
# grant and refs beyond the table; the guest's end_access fails while
# dom0 has the page mapped and succeeds after the unmap. One PASS/FAIL
# line per check comes from the driver. GRANT_BENCH=N also times N map+unmap
# pairs (tests/bench/grant_bench.sh).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm grant_check
GUEST=${GUEST_ELF:-$GUESTDIR/tandem-guest.elf}
DRV=$ROOT/$BUILD/tests/drivers/grant_check
for f in "$GUEST" "$BIN/xenstored" "$DRV"; do need_file grant_check "$f" || exit 1; done

export XENSTORED_PATH=$TMP/xs/socket
mkdir -p "$TMP/xs"
"$BIN/xenstored" -N -s "$XENSTORED_PATH" --vmm-dir "$TMP/run" > "$TMP/xsd.log" 2>&1 &
PIDS+=($!)
wait_sock "$XENSTORED_PATH" 10 || { fail grant_check "xenstored did not start"; exit 1; }

"$VMM" --kernel "$GUEST" --cmdline "app=granttest" --domid 8 --memory 64 --run-dir "$TMP/run" \
    --xenstore "$XENSTORED_PATH" --console "file:$TMP/con" > "$TMP/vmm.out" 2> "$TMP/vmm.err" < /dev/null &
VPID=$!
PIDS+=($VPID)
wait_sock "$TMP/run/dom8.ctl" 10 || { fail grant_check "no control socket: $(tail -n 3 "$TMP/vmm.err" "$TMP/con")"; exit 1; }

timeout -k 5 120 ${DRV_WRAP:-} "$DRV" --domid 8 --run-dir "$TMP/run" ${GRANT_BENCH:+--bench "$GRANT_BENCH"} 2> "$TMP/drv.err"
DRC=$?
deadline=$((SECONDS + 20))
while kill -0 $VPID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
kill -0 $VPID 2>/dev/null && kill -KILL $VPID
wait $VPID
VRC=$?
if [ $DRC = 0 ] && [ $VRC = 0 ] && grep -q "^granttest: ok" "$TMP/con"; then
    pass grant_guest_verdict
else
    fail grant_guest_verdict "driver $DRC ($(tail -n 2 "$TMP/drv.err" | tr '\n' '|')), guest $VRC: $(grep granttest "$TMP/con" | tail -n 2 | tr '\n' '|')"
fi
exit 0

#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# tandem-vmm registers the domain in xenstore as libxl does, introduces it
# to xenstored (the guest's xenstore ring works), follows the guest's
# shutdown (control/shutdown, Xen's protocol) and removes everything.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm vmm_xenstore
GUEST=$GUESTDIR/tandem-guest.elf
XSD=$BIN/xenstored
need_file vmm_xenstore "$GUEST" || exit 0
need_file vmm_xenstore "$XSD" || exit 0
export XENSTORED_PATH=$TMP/xs/socket
mkdir -p "$TMP/xs"
"$XSD" -N -s "$XENSTORED_PATH" --vmm-dir "$TMP/run" > "$TMP/xsd.log" 2>&1 &
PIDS+=($!)
wait_sock "$XENSTORED_PATH" 10 || { fail vmm_xenstore "xenstored did not start"; exit 0; }

UUID=0badc0de-1111-2222-3333-444455556666
"$VMM" --kernel "$GUEST" --cmdline app=idle --domid 4 --name xsguest --uuid $UUID --vcpus 2 \
    --memory 64 --run-dir "$TMP/run" --xenstore "$XENSTORED_PATH" --console "file:$TMP/con" \
    > "$TMP/vmm.out" 2> "$TMP/vmm.err" < /dev/null &
VPID=$!
PIDS+=($VPID)
if ! wait_for "$TMP/con" '^idle: waiting for control/shutdown' 20; then
    fail vmm_xenstore_guest_ring "guest never used xenstore: $(tail -n 2 "$TMP/con" "$TMP/vmm.err")"
    exit 0
fi
pass vmm_xenstore_guest_ring

rd() { "$BIN/xenstore-read" "$1" 2>/dev/null; }
D=/local/domain/4
bad=
[ "$(rd $D/name)" = xsguest ] || bad="$bad name"
[ "$(rd $D/domid)" = 4 ] || bad="$bad domid"
[ "$(rd $D/vm)" = /vm/$UUID ] || bad="$bad vm"
[ "$(rd $D/memory/target)" = 65536 ] || bad="$bad memory/target"
[ "$(rd $D/cpu/1/availability)" = online ] || bad="$bad cpu/1"
[ "$(rd $D/store/port)" = 1 ] || bad="$bad store/port"
[ "$(rd $D/store/ring-ref)" = $((0xFC001)) ] || bad="$bad store/ring-ref"
[ "$(rd $D/console/port)" = 2 ] || bad="$bad console/port"
[ "$(rd $D/console/ring-ref)" = $((0xFC002)) ] || bad="$bad console/ring-ref"
[ "$(rd /vm/$UUID/uuid)" = $UUID ] || bad="$bad /vm/uuid"
[ "$(rd /vm/$UUID/name)" = xsguest ] || bad="$bad /vm/name"
[ -z "$bad" ] && pass vmm_xenstore_nodes || fail vmm_xenstore_nodes "wrong or missing:$bad"

perms() { "$BIN/xenstore-ls" -p "$(dirname "$1")" 2>/dev/null | grep -E "^$(basename "$1") = " | sed 's/.*(\(.*\))$/\1/'; }
p_dom=$(perms $D)
p_shut=$(perms $D/control/shutdown)
p_name=$(perms $D/name)
if [ "$p_dom" = "n0,r4" ] && [ "$p_shut" = "n4" ] && [ "$p_name" = "n0,r4" ]; then
    pass vmm_xenstore_perms
else
    fail vmm_xenstore_perms "domain dir '$p_dom' (want n0,r4), control/shutdown '$p_shut' (want n4), name '$p_name'"
fi

# A dom0 console service binds port 2 (docs/control-socket.md) and asks for
# the poweroff itself: the guest's console doorbell reaches its eventfd.
python3 "$ROOT/hypervisor/tests/evtchn_bind_check.py" "$TMP/run/dom4.ctl" $((64 << 20)) \
    "$BIN/xenstore-write" 4
deadline=$((SECONDS + 20))
while kill -0 $VPID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
if kill -0 $VPID 2>/dev/null; then
    fail vmm_xenstore_shutdown "guest did not act on control/shutdown"
    exit 0
fi
wait $VPID
rc=$?
[ $rc = 0 ] && pass vmm_xenstore_shutdown || fail vmm_xenstore_shutdown "exit $rc, expected 0"
if "$BIN/xenstore-exists" $D 2>/dev/null || "$BIN/xenstore-exists" /vm/$UUID 2>/dev/null; then
    fail vmm_xenstore_cleanup "domain nodes left behind"
else
    pass vmm_xenstore_cleanup
fi

# A domain that powers off at its first instruction stops while its VMM is
# still introducing it: xenstored's INTRODUCE calls back on the VMM's
# control socket, which must still be answered (else xenstored, serving
# every domain, waits its 2 s timeout and the introduction fails).
PO=$GUESTDIR/vmm-test-poweroff.elf
if need_file vmm_xenstore_early_poweroff "$PO"; then
    XS2=$TMP/xs2/socket
    mkdir -p "$TMP/xs2"
    "$XSD" -N -s "$XS2" --vmm-dir "$TMP/run2" --log-file "$TMP/xsd2.log" > /dev/null 2>&1 &
    PIDS+=($!)
    wait_sock "$XS2" 10 || fail vmm_xenstore_early_poweroff "xenstored did not start"
    bad=
    for d in 21 22 23; do
        timeout -k 5 30 "$VMM" --kernel "$PO" --domid $d --memory 32 --run-dir "$TMP/run2" \
            --xenstore "$XS2" --console "file:$TMP/po$d.con" > /dev/null 2> "$TMP/po$d.err" < /dev/null
        rc=$?
        [ $rc = 0 ] || bad="$bad dom$d:exit$rc($(tr '\n' '|' < "$TMP/po$d.err"))"
        grep -q "domain $d introduced" "$TMP/xsd2.log" || bad="$bad dom$d:not-introduced"
        grep -q "domain $d released" "$TMP/xsd2.log" || bad="$bad dom$d:not-released"
    done
    if [ -z "$bad" ]; then
        pass vmm_xenstore_early_poweroff
    else
        fail vmm_xenstore_early_poweroff "$bad; xenstored: $(grep -E 'domain 2[123]' "$TMP/xsd2.log" | tr '\n' '|')"
    fi
    [ -n "$(XENSTORED_PATH=$XS2 "$BIN/xenstore-list" /local/domain 2> /dev/null)" ] &&
        fail vmm_xenstore_early_poweroff_cleanup "nodes left: $(XENSTORED_PATH=$XS2 "$BIN/xenstore-list" /local/domain)" ||
        pass vmm_xenstore_early_poweroff_cleanup
fi
exit 0

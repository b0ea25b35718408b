#!/bin/bash
# tandem-test: guest
# The PC's NIC on the host side (tandem-vmm --nic, dev/e1000.c; docs/hvm.md
# "e1000"), in a network namespace the test makes: the VMM creates the tap,
# gives it dom0's MAC (fe:ff:ff:ff:ff:ff), brings it up and attaches it to
# the bridge; SeaBIOS finds the 82540EM at 00:03.0 (and the NVMe beside it
# at 00:04.0); the tap goes with the VMM; a bridge that is not there is
# refused at start with the reason, and leaves no tap. What drives the
# e1000 from inside (iPXE, Linux) is pc_net.sh, in the test machine on a
# PVM host. Needs /dev/kvm (real-mode firmware).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
need_file pc_e1000 "$VMM" || exit 1
need_file pc_e1000 "$ROM" || exit 1
NS=tdm-pce1k-$$
ip netns add "$NS" 2>/dev/null || { echo "SKIP: pc_e1000: cannot make a network namespace"; exit 77; }
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; ip netns del "$NS" 2>/dev/null; cleanup' EXIT
# (foreground only: in the background a function is a subshell, and $! its pid)
inns() { ip netns exec "$NS" "$@"; }
inns ip link add pbr0 type bridge && inns ip link set pbr0 up
truncate -s 1M "$TMP/d.img"

ip netns exec "$NS" "$VMM" --firmware "$ROM" --memory 32 --nic tap=pe0,bridge=pbr0,mac=00:16:3e:11:22:33 \
    --disk "$TMP/d.img" --name e1k --run-dir "$TMP/run" --console stdio < /dev/null \
    > "$TMP/a.con" 2> "$TMP/a.err" &
VPID=$!
PIDS+=("$VPID")
if wait_for "$TMP/a.err" "firmware: PCI: init bdf=00:03.0 id=8086:100e" 60; then
    pass pc_e1000_seen_by_seabios
else
    fail pc_e1000_seen_by_seabios "$(grep 'PCI: init' "$TMP/a.err" | tr '\n' '|')"
fi
grep -q "firmware: PCI: init bdf=00:04.0 id=1b36:0010" "$TMP/a.err" && pass pc_e1000_beside_nvme ||
    fail pc_e1000_beside_nvme "$(grep 'PCI: init' "$TMP/a.err" | tr '\n' '|')"
link=$(inns ip -o link show pe0 2>&1)
if echo "$link" | grep -q "master pbr0" && echo "$link" | grep -q "link/ether fe:ff:ff:ff:ff:ff" &&
   echo "$link" | grep -qE "<[^>]*UP"; then
    pass pc_e1000_tap_up_on_bridge
else
    fail pc_e1000_tap_up_on_bridge "$link"
fi
kill -TERM "$VPID"
wait "$VPID"
st=$?
[ "$st" = 8 ] && pass pc_e1000_stops || fail pc_e1000_stops "status $st"
grep -qE "e1000 0: tx [0-9]+ frames" "$TMP/a.err" && pass pc_e1000_counters_on_exit ||
    fail pc_e1000_counters_on_exit "$(tail -n 3 "$TMP/a.err" | tr '\n' '|')"
inns ip link show pe0 > /dev/null 2>&1 && fail pc_e1000_tap_gone "pe0 is still there" ||
    pass pc_e1000_tap_gone

# A bridge that is not there: the start fails, saying so, and no tap is left.
ip netns exec "$NS" "$VMM" --firmware "$ROM" --memory 32 --nic tap=pe1,bridge=nosuchbr --name e1k2 \
    --run-dir "$TMP/run2" --console stdio < /dev/null > "$TMP/b.con" 2> "$TMP/b.err"
st=$?
if [ "$st" != 0 ] && grep -q "NIC 0: tap pe1: attaching pe1 to bridge nosuchbr" "$TMP/b.err"; then
    pass pc_e1000_missing_bridge_refused
else
    fail pc_e1000_missing_bridge_refused "status $st: $(tail -n 2 "$TMP/b.err" | tr '\n' '|')"
fi
inns ip link show pe1 > /dev/null 2>&1 && fail pc_e1000_no_tap_left "pe1 is still there" ||
    pass pc_e1000_no_tap_left

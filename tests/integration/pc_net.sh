#!/bin/bash
# tandem-test: guest hw-kvm (iPXE and Linux on the emulated PC: KVM that runs guest code on the CPU; in the test machine on a PVM host)
# tandem-test-vm-seconds: 200 (in the test machine; tests/run.sh shares files out by it)
# tandem-test-timeout: 900
# The PC's e1000 (tandem-vmm --nic, dev/e1000.c on the network engine)
# driven by software no one here wrote, on a bridge in a network namespace
# the test makes (10.0.2.2/24 on the bridge; nothing outside it):
#   - iPXE (Debian's ipxe.lkrn, loaded by SeaBIOS through the firmware's
#     -kernel path, its script as the initrd) gets a lease from the
#     namespace's DHCP server (dnsmasq, or busybox's udhcpd where dnsmasq
#     is not installed: the test machine), fetches a second script over
#     HTTP and prints the random token in it; while it waits, the host
#     pings its leased address. (Debian's iPXE has no ping command.)
#   - Debian's kernel (direct boot) with its own e1000 driver: an address,
#     10 pings of the host, a 1 MiB random file over HTTP with its sum.
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
need_kvm
need_file pc_net "$VMM" || exit 1
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
IPXE=${TANDEM_IPXE_LKRN:-$ROOT/$BUILD/firmware/ipxe.lkrn}
BB=$(command -v busybox) || { echo "SKIP: pc_net: no busybox (busybox-static)"; exit 77; }
F=$(emulation_factor)
NS=tdm-pcnet-$$
ip netns add "$NS" 2>/dev/null || { echo "SKIP: pc_net: cannot make a network namespace"; exit 77; }
cleanup_ns() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
    ip netns del "$NS" 2>/dev/null
}
trap 'cleanup_ns; cleanup' EXIT
# (foreground only: in the background a function is a subshell, and $! its pid)
inns() { ip netns exec "$NS" "$@"; }
inns ip link set lo up
inns ip link add br0 type bridge
inns ip addr add 10.0.2.2/24 dev br0
inns ip link set br0 up
mkdir -p "$TMP/www"
head -c $((1 << 20)) /dev/urandom > "$TMP/www/blob"
blob_sum=$(sha256sum < "$TMP/www/blob" | cut -d' ' -f1)
TOKEN=TDM-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
printf '#!ipxe\necho IPXE-TOKEN %s\nsleep %d\n' "$TOKEN" $((60 * F)) > "$TMP/www/second.ipxe"
ip netns exec "$NS" "$BB" httpd -f -p 10.0.2.2:80 -h "$TMP/www" &
PIDS+=("$!")
PATH=$PATH:/usr/sbin:/sbin   # dnsmasq (dnsmasq-base, in the test machine's image) lives in sbin
if command -v dnsmasq > /dev/null; then
    DHCPD=dnsmasq
    ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --interface=br0 --bind-interfaces --port=0 \
        --dhcp-range=10.0.2.15,10.0.2.20,255.255.255.0 --dhcp-leasefile="$TMP/leases" \
        --log-dhcp > "$TMP/dhcpd.log" 2>&1 &
else
    DHCPD="busybox udhcpd"
    cat > "$TMP/udhcpd.conf" <<EOF
start 10.0.2.15
end 10.0.2.20
interface br0
lease_file $TMP/leases
option subnet 255.255.255.0
EOF
    : > "$TMP/leases"
    ip netns exec "$NS" "$BB" udhcpd -f "$TMP/udhcpd.conf" > "$TMP/dhcpd.log" 2>&1 &
fi
PIDS+=("$!")

# ---- iPXE ----
if [ ! -f "$IPXE" ]; then
    skip pc_net_ipxe "no $IPXE (make fetches Debian's ipxe package with apt-get download)"
elif [ ! -f "$ROM" ]; then
    skip pc_net_ipxe "no SeaBIOS at $ROM"
else
    printf '#!ipxe\ndhcp || dhcp || echo IPXE-NO-LEASE\necho IPXE-IP ${ip}\nchain http://10.0.2.2/second.ipxe || echo IPXE-NO-HTTP\n' > "$TMP/first.ipxe"
    ip netns exec "$NS" "$VMM" --firmware "$ROM" --kernel "$IPXE" --ramdisk "$TMP/first.ipxe" --memory 128 \
        --nic tap=pce0,bridge=br0,mac=00:16:3e:5a:00:01 --name ipxe --run-dir "$TMP/run-ipxe" \
        --console stdio < /dev/null > "$TMP/ipxe.con" 2> "$TMP/ipxe.err" &
    VPID=$!
    PIDS+=("$VPID")
    if wait_for "$TMP/ipxe.con" "IPXE-TOKEN $TOKEN" 40; then
        pass "pc_net_ipxe_dhcp_and_http ($DHCPD)"
    else
        fail pc_net_ipxe_dhcp_and_http "$(tr -d '\r' < "$TMP/ipxe.con" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -c 500 | tr '\n' '|') | $(tail -n 3 "$TMP/dhcpd.log" | tr '\n' '|')"
    fi
    ip=$(tr -d '\r' < "$TMP/ipxe.con" | sed -n 's/.*IPXE-IP \(10\.0\.2\.[0-9]*\).*/\1/p' | head -n 1)
    if [ -n "$ip" ] && inns ping -c 3 -W 5 "$ip" > "$TMP/ping" 2>&1; then
        pass "pc_net_host_pings_ipxe ($ip)"
    else
        fail pc_net_host_pings_ipxe "address '$ip': $(tail -n 2 "$TMP/ping" | tr '\n' '|')"
    fi
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
    grep -qE "e1000 0: tx [1-9][0-9]* frames .* rx [1-9][0-9]* frames" "$TMP/ipxe.err" &&
        pass pc_net_ipxe_counters || fail pc_net_ipxe_counters "$(grep 'e1000 0' "$TMP/ipxe.err")"
    inns ip link show pce0 > /dev/null 2>&1 && fail pc_net_tap_gone_with_vmm "pce0 still there" ||
        pass pc_net_tap_gone_with_vmm
fi

# ---- Linux ----
KERNEL=${TANDEM_LINUX_KERNEL:-/boot/vmlinuz-$(uname -r)}
MODULES=${TANDEM_LINUX_MODULES:-/lib/modules/$(uname -r)}
LT=$ROOT/tests/integration/linux
if [ ! -f "$KERNEL" ] || [ ! -d "$MODULES" ]; then
    skip pc_net_linux "no Linux kernel at $KERNEL with modules at $MODULES"
elif ! out=$(bash "$ROOT/tests/lib/linux-initramfs.sh" -o "$TMP/initrd.gz" -i "$LT/init" -M "$MODULES" \
                 --no-default-modules -m e1000 -f "$LT/lt-run:/lt-run" 2>&1); then
    fail pc_net_linux_initramfs "$out"
else
    EXTRA=
    [ "$F" -gt 1 ] && EXTRA=nohz=off
    ip netns exec "$NS" "$VMM" --machine pc --kernel "$KERNEL" --ramdisk "$TMP/initrd.gz" --memory 256 --vcpus 2 \
        --cmdline "console=ttyS0 panic=-1 quiet $EXTRA lt.run=pcnet lt.ip=10.0.2.30/24 lt.host=10.0.2.2" \
        --nic tap=pce1,bridge=br0,mac=00:16:3e:5a:00:02 --name lx --run-dir "$TMP/run-lx" \
        --console stdio < /dev/null > "$TMP/lx.con" 2> "$TMP/lx.err" &
    VPID=$!
    PIDS+=("$VPID")
    lt() { sed -n "s/^LT: $1 //p" "$TMP/lx.con" | tr -d '\r' | head -n 1; }
    if wait_for "$TMP/lx.con" "^LT: done" 70; then
        pass pc_net_linux_runs
    else
        fail pc_net_linux_runs "$(tail -c 600 "$TMP/lx.con" | tr '\r\n' '||') | $(tail -n 4 "$TMP/lx.err" | tr '\n' '|')"
    fi
    [ "$(lt driver)" = e1000 ] && pass pc_net_linux_e1000_driver || fail pc_net_linux_e1000_driver "'$(lt driver)'"
    [ "$(lt ping)" = 10 ] && pass pc_net_linux_pings_host || fail pc_net_linux_pings_host "'$(lt ping)' of 10"
    [ "$(lt http)" = "1048576 $blob_sum" ] && pass pc_net_linux_http_1mib_exact ||
        fail pc_net_linux_http_1mib_exact "'$(lt http)'"
    inns ping -c 3 -W 5 10.0.2.30 > "$TMP/ping" 2>&1 && pass pc_net_host_pings_linux ||
        fail pc_net_host_pings_linux "$(tail -n 2 "$TMP/ping" | tr '\n' '|')"
    kill -TERM "$VPID" 2>/dev/null
    wait "$VPID"
fi
# (the VMMs' status 8 from the waits above is theirs, not the test's: the PASS/FAIL lines are)
exit 0

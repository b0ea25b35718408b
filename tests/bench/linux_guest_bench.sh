#!/bin/bash
# tandem-bench: guest kvm-xen (boots Linux: KVM with Xen support; in the test machine where the host has none)
# Debian's own kernel as a PVH guest (issue 13 §5), measured with the tools
# its users run: fio inside the guest on /dev/xvda (xen-blkfront ->
# tandem-blkback) against fio on the host on the same file in the same run
# (the block cases of tests/bench/fio_host.inc, the block issue's targets),
# iperf3 guest <-> host namespace (xen-netfront -> tandem-netback -> tap ->
# bridge) against iperf3 between two host namespaces on the same bridge
# (veth to veth), and the boot time to the guest's first userspace line.
# One guest boot runs every guest case; the host's fio runs before and
# after it and the better sample is shown (drift hits both sides).
# LINUX_BENCH_SECONDS per case (default 5), LINUX_BENCH_MEMORY (MiB, 768:
# the initramfs carries fio and iperf3 with their libraries),
# LINUX_BENCH_DISK_MIB (512; 256 in the test machine).
# Inside the test machine tests/bench/run.sh marks every row "not
# comparable: emulated".
set -u
SECS=${LINUX_BENCH_SECONDS:-5}
if [ ! -w /dev/kvm ] || [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
    echo "SKIP: Linux guest benchmark: needs /dev/kvm, root and /dev/net/tun"
    exit 0
fi
for t in fio iperf3; do
    command -v $t > /dev/null || { echo "Linux guest benchmark: $t is not installed (make deps)" >&2; exit 1; }
done
. "$(dirname "$0")/../integration/linux_lib.bash"
. "$TANDEM_ROOT/tests/bench/fio_host.inc"
# A missing prerequisite (KVM without Xen support, no kernel) is a skip
# with its reason, not a failed benchmark.
skip_all() { echo "SKIP: Linux guest benchmark: ${1#SKIP: }"; exit 0; }
LINUX_INITRAMFS_ARGS=(-x fio -x iperf3)
need_linux > /dev/null
need_file "$TANDEM_BIN/tandem-blkback" > /dev/null
linux_net > /dev/null

# The floor's client: a third namespace on br0 by its own veth pair.
PEERNS=tdm-gp-$NS_ID PEER_IP=10.99.0.2 GUEST_IP=10.99.0.20
bench_cleanup() {
    local rc=$?
    ip netns del "$PEERNS" 2>/dev/null
    rm -f "${DISK:-}"
    (exit $rc)
    linux_cleanup
}
trap bench_cleanup EXIT
ip netns add "$PEERNS" || { echo "Linux guest benchmark: cannot make a namespace" >&2; exit 1; }
insw ip link add veth-p type veth peer name veth-q netns "$PEERNS"
insw ip link set veth-p master br0 up
ip netns exec "$PEERNS" ip link set lo up
ip netns exec "$PEERNS" ip addr add "$PEER_IP/24" dev veth-q
ip netns exec "$PEERNS" ip link set veth-q up

inhost iperf3 -s -B "$HOST_IP" > "$WORK/iperf3-server.log" 2>&1 &
BG_PIDS+=("$!")
iperf_listening() { inhost ss -ltn 2>/dev/null | grep -q "$HOST_IP:5201 "; }
wait_for 100 iperf_listening ||
    { echo "Linux guest benchmark: the host's iperf3 server did not start: $(cat "$WORK/iperf3-server.log")" >&2; exit 1; }

# The disk: a fully allocated file (reads of holes never reach the disk)
# in /var/tmp, on a disk's file system (/tmp may be a tmpfs, the work tree
# in the test machine is 9p: neither is a disk under O_DIRECT).
# 512 MiB; 256 in the test machine, whose root file system has ~390 MiB free.
DISK_MIB=${LINUX_BENCH_DISK_MIB:-$(emulated && echo 256 || echo 512)}
DISK=$(mktemp /var/tmp/tandem-linux-disk.XXXXXX)
fio --name=layout --filename="$DISK" --size=${DISK_MIB}M --rw=write --bs=1M --direct=1 \
    --ioengine=io_uring --iodepth=8 --output-format=terse > /dev/null ||
    { echo "Linux guest benchmark: cannot lay out $DISK" >&2; exit 1; }

# iperf3's JSON -> "mbit=N retrans=N" (the receiver's rate; "" if not such JSON).
iperf_summary() {
    python3 -c '
import json, sys
try:
    e = json.load(sys.stdin)["end"]
    print("mbit=%.0f retrans=%d" % (e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"].get("retransmits", 0)))
except (ValueError, KeyError, TypeError):
    pass'
}

fio_list=
declare -A host1 host2 guest
while read -r name _ rw bs qd _ _; do
    fio_list=${fio_list:+$fio_list,}$name:$rw:$bs:$qd
    host1[$name]=$(fio_run "$DISK" malloc "$SECS" "$rw" "$bs" "$qd")
done <<< "$BLK_CASES"
floor_tx=$(ip netns exec "$PEERNS" iperf3 -c "$HOST_IP" -t "$SECS" -i 0 -J 2>/dev/null | iperf_summary)
floor_rx=$(ip netns exec "$PEERNS" iperf3 -c "$HOST_IP" -R -t "$SECS" -i 0 -J 2>/dev/null | iperf_summary)

LINUX_MEMORY=${LINUX_BENCH_MEMORY:-768}
t0=$(date +%s%N)
linux_start lbench "lt.run=bench lt.ip=$GUEST_IP/24 lt.host=$HOST_IP lt.secs=$SECS lt.iperf=1 lt.fio=$fio_list" \
    'on_poweroff = "destroy"' "disk = [ '$DISK,raw,xvda,rw' ]" "vif = [ $(vif_item $GUEST_IP) ]"
GPID=$LAST_PID
boot_ms=
limit=$((SECONDS + 120 * $(emulation_factor)))
while [ $SECONDS -lt $limit ] && kill -0 "$GPID" 2>/dev/null; do
    if grep -q "^LT: userspace" "$WORK/lbench.out" 2>/dev/null; then
        boot_ms=$((($(date +%s%N) - t0) / 1000000))
        break
    fi
    sleep 0.02
done
wait_rc "$GPID" $(((120 + 10 * SECS) * $(emulation_factor)))
uptime_s=$(lt lbench userspace)
while read -r name _ rw bs qd _ _; do
    guest[$name]=$(lt lbench "fio $name" | fio_summary)
    host2[$name]=$(fio_run "$DISK" malloc "$SECS" "$rw" "$bs" "$qd")
done <<< "$BLK_CASES"
g_tx=$(lt lbench "iperf3 tx" | iperf_summary)
g_rx=$(lt lbench "iperf3 rx" | iperf_summary)

echo "## Linux guest (Debian $(basename "$LINUX_KERNEL" | sed 's/^vmlinuz-//')): fio and iperf3 inside it vs the host"
echo
echo "Command: \`BENCH_FILTER=linux make bench\`. One boot of Debian's kernel as a PVH guest ($LINUX_MEMORY MiB, ${LINUX_VCPUS:-2} vCPUs) on a $DISK_MIB MiB file (fio, io_uring, O_DIRECT, ${SECS} s a case, on /dev/xvda through xen-blkfront and tandem-blkback) and one eth0 (xen-netfront, tandem-netback, a tap on a bridge); the host's fio on the same file before and after the guest (the better sample shown); iperf3 (TCP, ${SECS} s) against a server in a host namespace on the same bridge, beside iperf3 from a second host namespace (veth to veth). Guest exit status $RC."
echo
echo "| case | host IOPS | guest IOPS | host MB/s | guest MB/s | host p50/p99 µs | guest p50/p99 µs | guest/host | target | met |"
echo "|---|---|---|---|---|---|---|---|---|---|"
while read -r name _ _ _ _ metric target; do
    key=$metric
    [ "$key" = p50 ] && key=p50_us
    hl=$(better "$key" "${host1[$name]}" "${host2[$name]}")
    gl=${guest[$name]}
    hi=$(field "$hl" iops) hm=$(field "$hl" mbps) hp50=$(field "$hl" p50_us) hp99=$(field "$hl" p99_us)
    if [ -z "$gl" ]; then
        echo "| $name | $hi | FAILED: $(lt lbench "fio $name" | cut -c1-80) | $hm | - | $hp50/$hp99 | - | - | - | no |"
        continue
    fi
    gi=$(field "$gl" iops) gm=$(field "$gl" mbps) gp50=$(field "$gl" p50_us) gp99=$(field "$gl" p99_us)
    case $metric in
        iops) h=$hi g=$gi ;;
        mbps) h=$hm g=$gm ;;
        p50) h=$hp50 g=$gp50 ;;
    esac
    read -r ratio met tgt <<< "$(blk_verdict "$metric" "$h" "$g" "$target")"
    echo "| $name | $hi | $gi | $hm | $gm | $hp50/$hp99 | $gp50/$gp99 | ${ratio//_/ } | ${tgt//_/ } | $met |"
done <<< "$BLK_CASES"
echo
echo "| network (iperf3, TCP) | floor: namespace → namespace (veth) | Linux guest | guest/floor |"
echo "|---|---|---|---|"
nrow() { # label floor guest
    local f g
    f=$(field "$2" mbit) g=$(field "$3" mbit)
    echo "| $1 | ${f:-FAILED} Mbit/s | ${g:-FAILED} Mbit/s$([ -n "$g" ] && echo ", $(field "$3" retrans) retransmits") |" \
        "$(awk -v a="${g:-0}" -v b="${f:-0}" 'BEGIN { printf (a > 0 && b > 0) ? "%.0f %%" : "-", 100 * a / b }') |"
}
nrow "guest → host (tx)" "$floor_tx" "$g_tx"
nrow "host → guest (rx)" "$floor_rx" "$g_rx"
echo
echo "| boot | time |"
echo "|---|---|"
echo "| \`tandem run\` to the guest's first userspace line (host wall clock) | ${boot_ms:-FAILED} ms |"
echo "| the guest's own uptime at that line (/proc/uptime) | ${uptime_s:-FAILED} s |"
[ "$RC" = 0 ] && [ -n "$boot_ms" ] || { echo "Linux guest benchmark: the guest failed: $(lshow lbench)" >&2; exit 1; }
exit 0

#!/bin/bash
# tandem-bench: guest (boots guests; in the test machine where the host has no /dev/kvm)
# Network benchmark, guest half (issue 11 §5): app=netbench in a guest
# over netfront + tandem-netback, udp-stream and udp-pingpong, against
# (a) a UDP echo server in a host namespace on the same bridge
# (net_driver.py serve) and (b) app=netecho in a second guest. 64-byte and
# 1472-byte payloads. Namespaces, bridge and veth as the guest tests make
# them (tests/integration/net_lib.bash). NET_GUEST_BENCH_SECONDS (5) per
# case. Prints a markdown table; inside the test machine tests/bench/run.sh
# marks every row "not comparable: emulated".
SECS=${NET_GUEST_BENCH_SECONDS:-5}
if [ ! -w /dev/kvm ] || [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
    echo "SKIP: guest network benchmark: needs /dev/kvm, root and /dev/net/tun"
    exit 0
fi
. "$(dirname "$0")/../integration/net_lib.bash"
need_net > /dev/null

inhost python3 "$NETDRV" serve "$HOST_IP" 7 > "$WORK/serve.out" 2>&1 &
SERVE=$!
BG_PIDS+=("$SERVE")
wait_for 100 grep -q serving "$WORK/serve.out" || { echo "guest network benchmark: host echo server did not start" >&2; exit 1; }
start_guest peer "app=netecho" "vif = [ $(vif_item 10.99.0.3) ]"
wait_line peer "^netecho: ready" 600 || { echo "guest network benchmark: echo guest: $(show peer)" >&2; exit 1; }

echo "| path | mode | payload | datagrams/s | Mbit/s | p50 µs | p99 µs | lost / sent |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
n=0
for target in host guest; do
    peer=$HOST_IP
    [ $target = guest ] && peer=10.99.0.3
    for mode in udp-pingpong udp-stream; do
        for size in 64 1472; do
            n=$((n + 1))
            name=b$n
            start_guest $name "app=netbench mode=$mode peer=$peer size=$size seconds=$SECS" \
                "vif = [ $(vif_item 10.99.0.$((10 + n))) ]"
            wait_rc "$LAST_PID" $(((SECS * 10 + 600) * $(emulation_factor)))
            l=$(grep "^netbench:" "$WORK/$name.out")
            v() { [[ $l =~ \ $1=([0-9.]+) ]] && echo "${BASH_REMATCH[1]}"; }
            if [ $RC = 0 ] && [ -n "$l" ]; then
                echo "| guest → $target → guest | $mode | $size B | $(v pps) | $(v mbps) | $(v p50_us) | $(v p99_us) | $(v lost) / $(v sent) |"
            else
                echo "| guest → $target → guest | $mode | $size B | failed (status $RC) | | | | |"
            fi
        done
    done
done
FAILS=0

# Helpers sourced by tests/integration/net_*.sh (not a test itself). On top
# of cli_lib.bash: a "switch" network namespace with bridge br0 in which
# `tandem run` (and so the tandem-netback it starts) runs, and a "host"
# namespace joined to br0 by a veth pair, address 10.99.0.1/24. Names are
# unique per run; at exit the guests, netback (by the pid in
# rundir/netback/pid) and both namespaces are removed. No address outside
# these namespaces is used.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.bash"

NB_PIDF=$TANDEM_RUNDIR/netback/pid
NB_LOG=$TANDEM_RUNDIR/netback/log
NETDRV=$TANDEM_ROOT/tests/integration/net_driver.py
NS_ID=$$$RANDOM
SW=tdm-gsw-$NS_ID
HOSTNS=tdm-gh-$NS_ID
HOST_IP=10.99.0.1

netback_pid() { [ -s "$NB_PIDF" ] && cat "$NB_PIDF"; }

# nb_state: every vif's counters and ring indexes (netback's stats files,
# docs/netback.md) and the end of netback's log, on one line for a FAIL.
nb_state() {
    local f
    for f in "$TANDEM_RUNDIR"/netback/[0-9]*.[0-9]*; do
        case $f in *.tmp) continue;; esac   # one netback is writing just now
        [ -f "$f" ] || continue
        printf '[%s: %s] ' "${f##*/}" "$(grep -E '^(state|tx_packets|rx_packets|rx_drops|kicks|notifications|fatal|queue) ' "$f" | tr '\n' ' ')"
    done
    tail -n 5 "$NB_LOG" 2>/dev/null | tr '\n' '|'
}

net_cleanup() {
    local rc=$? p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait_gone "$p" 100 || kill -KILL "$p" 2>/dev/null; done
    BG_PIDS=()
    p=$(netback_pid) && { kill -TERM "$p" 2>/dev/null; wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; }
    ip netns del "$SW" 2>/dev/null
    ip netns del "$HOSTNS" 2>/dev/null
    cleanup
    exit $rc
}
trap net_cleanup EXIT

need_net() {
    need_kvm
    need_tandem
    need_file "$TANDEM_BIN/tandem-vmm"
    need_file "$TANDEM_BIN/xenstored"
    need_file "$TANDEM_BIN/tandem-netback"
    need_file "$KERNEL"
    [ "$(id -u)" = 0 ] || skip_all "SKIP: needs root (network namespaces)"
    command -v ip > /dev/null || skip_all "SKIP: ip(8) is missing"
    [ -c /dev/net/tun ] || skip_all "SKIP: /dev/net/tun is missing"
    command -v python3 > /dev/null || { echo "FAIL: setup: python3 missing"; exit 1; }
    ip netns add "$SW" && ip netns add "$HOSTNS" || skip_all "SKIP: cannot make network namespaces"
    insw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    insw ip link set lo up
    insw ip link add br0 type bridge
    insw ip link set br0 up
    insw ip link add veth-s type veth peer name veth-h netns "$HOSTNS"
    insw ip link set veth-s master br0 up
    inhost ip link set lo up
    inhost ip addr add "$HOST_IP/24" dev veth-h
    inhost ip link set veth-h up
}

insw() { ip netns exec "$SW" "$@"; }
inhost() { ip netns exec "$HOSTNS" "$@"; }

# vif_item IP [MAC]: one item of vif = [ ... ] on br0.
vif_item() { echo "'bridge=br0, ip=$1/24${2:+, mac=$2}'"; }

# start_guest NAME CMDLINE [config lines]: `tandem run` in the switch
# namespace in the background (ip execs it: $! is tandem's pid).
start_guest() {
    local name=$1 cmdline=$2
    shift 2
    write_cfg "$WORK/$name.cfg" "$name" "$cmdline" "$@"
    ip netns exec "$SW" "$TANDEM" run "$WORK/$name.cfg" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null &
    LAST_PID=$!
    BG_PIDS+=("$LAST_PID")
}

# wait_line NAME REGEX TENTHS: the guest's console shows a line (scaled
# under emulation).
wait_line() { wait_for $(($3 * $(emulation_factor))) grep -qE -- "$2" "$WORK/$1.out"; }

# restart_netback: a new tandem-netback for the run directory, in the
# switch namespace, its pid in the pid file (as `tandem run` starts it).
restart_netback() {
    ip netns exec "$SW" env XENSTORED_PATH="$TANDEM_RUNDIR/xenstored/socket" \
        "$TANDEM_BIN/tandem-netback" --run-dir "$TANDEM_RUNDIR" >> "$NB_LOG" 2>&1 < /dev/null &
    echo $! > "$NB_PIDF"
}

# host_drv ping|udp ADDR COUNT...: net_driver.py in the host namespace.
host_drv() { inhost python3 "$NETDRV" "$@" 2>&1; }

show() { tail -n 12 "$WORK/$1.out" "$WORK/$1.err" "$NB_LOG" 2>/dev/null | tr '\n' '|'; }

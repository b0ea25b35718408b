#!/bin/bash
# tandem-netback against a fake guest (drivers/net_fakeguest: the fake VMM
# and fake netfront of the unit tests as a process) in network namespaces
# this test makes: a "switch" namespace with a bridge, the vif netback
# creates and attaches, xenstored, netback and the fake guest; a "host"
# namespace joined to the bridge by a veth pair. Names are unique per run
# and everything is removed at the end; no address outside these
# namespaces is used. Checks: 1,000 pings without loss; UDP echo of
# 10,000 datagrams of sizes 1..1472, every byte checked; the counters in
# the stats file; netback SIGKILLed under traffic and restarted (the
# guest reconnects, ping and echo pass again); SIGTERM (exit 0, the tap
# is gone). Needs root, ip(8) and /dev/net/tun, else SKIP.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
DRV=$ROOT/$BUILD/tests/drivers/net_fakeguest
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: netback_netns: $1"; exit 0; }

[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip > /dev/null || skip "ip(8) is missing"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
[ -x "$BIN/tandem-netback" ] && [ -x "$DRV" ] || skip "tandem-netback or net_fakeguest not built"

ID=$$$RANDOM
SW=tdm-nbsw-$ID
HOST=tdm-nbh-$ID
TMP=$(mktemp -d /tmp/tandem-netback-ns.XXXXXX)
XSD_PID= NB_PID= G_PID=
stop_pid() { # pid signal
    [ -n "$1" ] && kill -"$2" "$1" 2>/dev/null && wait "$1" 2>/dev/null
}
cleanup() {
    stop_pid "$G_PID" TERM
    stop_pid "$NB_PID" KILL
    stop_pid "$XSD_PID" TERM
    ip netns del "$SW" 2>/dev/null
    ip netns del "$HOST" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
# (Processes that are stopped by pid are started with `ip netns exec ... &`
# directly: ip execs the command, so $! is its pid.)
insw() { ip netns exec "$SW" "$@"; }
inhost() { ip netns exec "$HOST" "$@"; }

# wait_for SECONDS CMD...: until CMD succeeds (0) or the time is up (1).
wait_for() {
    local end=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.05
    done
}

ip netns add "$SW" && ip netns add "$HOST" || skip "cannot make network namespaces"
insw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
insw ip link add br0 type bridge
insw ip link set br0 up
insw ip link add veth-s type veth peer name veth-h netns "$HOST"
insw ip link set veth-s master br0 up
inhost ip link set lo up
inhost ip addr add 10.99.0.1/24 dev veth-h
inhost ip link set veth-h up

ip netns exec "$SW" "$BIN/xenstored" --foreground --socket "$TMP/xs.sock" > "$TMP/xsd.log" 2>&1 &
XSD_PID=$!
wait_for 10 test -S "$TMP/xs.sock" || { fail setup "xenstored did not start"; exit 1; }
export XENSTORED_PATH=$TMP/xs.sock

ip netns exec "$SW" "$DRV" echo --ip 10.99.0.2 --bridge br0 > "$TMP/guest.out" 2> "$TMP/guest.err" &
G_PID=$!
wait_for 10 grep -q '^rundir ' "$TMP/guest.out" || { fail setup "fake guest: $(cat "$TMP/guest.err")"; exit 1; }
RUNDIR=$(sed -n 's/^rundir //p' "$TMP/guest.out")

start_netback() {
    ip netns exec "$SW" "$BIN/tandem-netback" --run-dir "$RUNDIR" --stats-dir "$TMP/stats" >> "$TMP/netback.log" 2>&1 &
    NB_PID=$!
}
start_netback
if ! wait_for 20 grep -q '^connected' "$TMP/guest.out"; then
    fail connect "the fake guest did not connect: $(tail -3 "$TMP/guest.err") / $(tail -3 "$TMP/netback.log")"
    exit 1
fi
pass connect

# ICMP echo and UDP echo from the host namespace: tests/integration/net_driver.py.
NETDRV=$ROOT/tests/integration/net_driver.py
icmp() { # count [until-lost]
    inhost python3 "$NETDRV" ping 10.99.0.2 "$@" 2>&1
}

ping_test() { # name count
    local out
    if out=$(icmp "$2"); then pass "$1"; else fail "$1" "$out"; fi
}

udp_test() { # name count
    local out
    if out=$(inhost python3 "$NETDRV" udp 10.99.0.2 "$2" 2>&1); then pass "$1"; else fail "$1" "$out"; fi
}

ping_test ping_1000 1000
udp_test udp_echo_10000 10000

# Counters: the stats file is rewritten every second.
stats_ok() {
    awk '$1=="rx_packets"{r=$2} $1=="tx_packets"{t=$2} $1=="fatal"{f=$2}
         END{exit !(r>=11000 && t>=11000 && f=="-")}' "$TMP/stats/3.0" 2>/dev/null
}
if wait_for 5 stats_ok; then pass counters; else fail counters "$(tr '\n' ' ' < "$TMP/stats/3.0" 2>/dev/null)"; fi

# SIGKILL under traffic, restart: the guest reconnects.
icmp 1000000 until-lost > /dev/null &   # traffic during the kill; ends at the first lost echo
PING_PID=$!
before=$(awk '$1=="rx_packets"{print $2}' "$TMP/stats/3.0")
wait_for 10 awk -v b="$before" '$1=="rx_packets"{exit !($2>b+20)}' "$TMP/stats/3.0"
stop_pid "$NB_PID" KILL
NB_PID=
wait "$PING_PID" 2>/dev/null
start_netback
if wait_for 20 grep -q 'reconnecting' "$TMP/guest.err" && \
   wait_for 20 icmp 1 > /dev/null; then
    pass restart_reconnects
else
    fail restart_reconnects "$(tail -3 "$TMP/guest.err") / $(tail -3 "$TMP/netback.log")"
fi
ping_test ping_after_restart 200
udp_test udp_echo_after_restart 1000

# SIGTERM: exit 0, the tap is gone.
kill -TERM "$NB_PID"; wait "$NB_PID"; rc=$?; NB_PID=
if [ $rc = 0 ] && ! insw ip link show vif3.0 > /dev/null 2>&1; then
    pass sigterm
else
    fail sigterm "exit $rc; $(insw ip -br link show vif3.0 2>&1)"
fi

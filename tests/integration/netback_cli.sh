#!/bin/bash
# `tandem run` with vif[] against the fake tandem-vmm (cli_fake_vmm.py),
# in a network namespace this test makes (unique name, removed at the end):
# the device-type table writes the vif directories, starts tandem-netback
# (rundir/netback/pid), which makes the tap and attaches it to the bridge
# before the VMM starts; everything is removed when the domain ends; a
# bridge that does not exist fails the run with netback's reason. Also
# tandem-netback's command-line errors. Needs no KVM; root, ip(8) and
# /dev/net/tun (else SKIP).
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-netback"
NB=$TANDEM_BIN/tandem-netback

# ---- command line ----
nbcheck() { # name want-rc regex args...
    local name=$1 want=$2 re=$3
    shift 3
    XENSTORED_PATH=$WORK/no-such-socket timeout 10 "$NB" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
    local rc=$?
    if [ "$rc" = "$want" ] && grep -qE -- "$re" "$WORK/err"; then
        pass "$name"
    else
        fail "$name" "exit $rc (wanted $want), stderr '$(head -c 300 "$WORK/err")'"
    fi
}
nbcheck nb_poll_not_a_number 2 'poll-us: "x" is not a number' --poll-us x
nbcheck nb_queues_too_many 2 'max-queues: "9" is not a number in 1..8' --max-queues 9
nbcheck nb_unknown_option 2 'usage: tandem-netback' --frobnicate
nbcheck nb_no_xenstored 1 'cannot reach xenstored' --run-dir "$WORK" --stats-dir "$WORK/st"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip > /dev/null; then
    echo "SKIP: netback_cli_run: needs root, ip(8) and /dev/net/tun"
    exit 0
fi
command -v python3 >/dev/null || { echo "FAIL: setup: python3 missing"; exit 1; }
NS=tdm-nbcli-$$$RANDOM
NB_PIDF=$TANDEM_RUNDIR/netback/pid
ns_cleanup() {
    [ -s "$NB_PIDF" ] && kill -TERM "$(cat "$NB_PIDF")" 2>/dev/null && wait_gone "$(cat "$NB_PIDF")" 50
    ip netns del "$NS" 2>/dev/null
    cleanup
}
trap ns_cleanup EXIT
ip netns add "$NS" || { echo "SKIP: netback_cli_run: cannot make a namespace"; exit 0; }
ip netns exec "$NS" ip link add br0 type bridge
ip netns exec "$NS" ip link set br0 up

export TANDEM_VMM=$WORK/fake-vmm FAKE_VMM_LOG=$WORK/vmm.log
cp "$(dirname "$0")/cli_fake_vmm.py" "$TANDEM_VMM"
chmod +x "$TANDEM_VMM"
: > "$FAKE_VMM_LOG"
KERNEL=$WORK/kernel.elf
: > "$KERNEL"

write_cfg "$WORK/net.cfg" net "app=hello" "vif = [ 'bridge=br0, mac=00:16:3e:12:34:56' ]"
ip netns exec "$NS" "$TANDEM" run "$WORK/net.cfg" > "$WORK/net.out" 2> "$WORK/net.err" < /dev/null
rc=$?
LOG=$TANDEM_RUNDIR/netback/log
if [ $rc = 0 ] && grep -q "hello from tandem guest" "$WORK/net.out"; then
    pass run_with_vif
else
    fail run_with_vif "rc=$rc err=$(cat "$WORK/net.err")"
fi
pid=$(cat "$NB_PIDF" 2>/dev/null)
if [ -n "$pid" ] && grep -q '^tandem-netback$' "/proc/$pid/comm" 2>/dev/null; then
    pass netback_started
else
    fail netback_started "no live tandem-netback in $NB_PIDF"
fi
if grep -qE 'vif [0-9]+/0: tap vif[0-9]+\.0 on bridge br0' "$LOG" 2>/dev/null; then
    pass tap_on_bridge
else
    fail tap_on_bridge "log: $(cat "$LOG" 2>/dev/null)"
fi
# Removal is asynchronous (netback follows the directory's removal).
gone() { ! grep -q 'tap vif' <(ip netns exec "$NS" ip -br link 2>/dev/null) &&
         grep -qE 'tap vif[0-9]+\.0 removed' "$LOG"; }
for _ in $(seq 100); do gone && break; sleep 0.05; done
if gone && [ -z "$(xs ls /local/domain/0/backend/vif 2>/dev/null)" ]; then
    pass removed_at_end
else
    fail removed_at_end "links: $(ip netns exec "$NS" ip -br link | tr '\n' ' ') vif dirs: $(xs ls /local/domain/0/backend/vif 2>&1)"
fi

write_cfg "$WORK/bad.cfg" bad "app=hello" "vif = [ 'bridge=nosuchbr' ]"
ip netns exec "$NS" "$TANDEM" run "$WORK/bad.cfg" > "$WORK/bad.out" 2> "$WORK/bad.err" < /dev/null
rc=$?
if [ $rc != 0 ] && grep -q 'network device 00:16:3e:.*the backend refused it: attaching vif[0-9]*\.0 to bridge nosuchbr' "$WORK/bad.err"; then
    pass missing_bridge_refused
else
    fail missing_bridge_refused "rc=$rc err=$(cat "$WORK/bad.err")"
fi

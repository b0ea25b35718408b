#!/bin/bash
# block-attach/-detach/-list on a running domain, against the fake VMM
# (cli_fake_vmm.py), the real xenstored and a real tandem-blkback: the
# directories are written as libxl writes them, blkback takes the device
# (InitWait), a double attach, a missing device, a bad spec and an unknown
# or dead domain are errors that write nothing, detach walks the backend
# to Closed and removes both directories and blkback closes the backing
# file (-f at once; after 10 s forced when the backend does not answer);
# two attaches of one vdev at once: one wins; a disk attached to a domain goes when the domain ends. Then the
# same for network-attach/-detach/-list with a real tandem-netback in a
# network namespace this test makes (root, ip(8), /dev/net/tun; else that
# part is skipped). The fake has no frontend: the guest side is
# pv_hotplug.sh's. Needs no KVM.
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-blkback"
use_fake_vmm
NS=""
trap cleanup_with_backends EXIT

# check NAME WANT-RC REGEX CMD...: CMD's status and stderr.
check() {
    local name=$1 want=$2 re=$3
    shift 3
    "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
    local rc=$?
    if [ "$rc" = "$want" ] && grep -qE -- "$re" "$WORK/err"; then
        pass "$name"
    else
        fail "$name" "exit $rc (wanted $want), stderr '$(head -c 400 "$WORK/err")'"
    fi
}
state_is() { [ "$(xs read "$1/state" 2>/dev/null)" = "$2" ]; }
# Whether tandem-blkback holds FILE open.
blkback_holds() {
    local p
    p=$(cat "$TANDEM_RUNDIR/blkback/pid" 2>/dev/null) || return 1
    ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "$1"
}

write_cfg "$WORK/hp.cfg" hp "app=idle"
"$TANDEM" create "$WORK/hp.cfg" 2> "$WORK/err" || { fail create "$(cat "$WORK/err")"; finish; }
id=$("$TANDEM" domid hp)
truncate -s 1M "$WORK/d1.img" "$WORK/d2.img"
BE=/local/domain/0/backend/vbd/$id/51728
FE=/local/domain/$id/device/vbd/51728

# ---- attach ----
if "$TANDEM" block-attach hp "target=$WORK/d1.img,vdev=xvdb,access=rw" 2> "$WORK/err" &&
   state_is "$BE" 2 && state_is "$FE" 1 &&
   [ "$(xs read "$BE/params")" = "$WORK/d1.img" ] && [ "$(xs read "$BE/frontend")" = "$FE" ] &&
   [ "$(xs read "$BE/online")" = 1 ] && [ "$(xs read "$FE/backend")" = "$BE" ] &&
   [ "$(xs read "$FE/virtual-device")" = 51728 ] && blkback_holds "$WORK/d1.img"; then
    pass block_attach
else
    fail block_attach "$(cat "$WORK/err"); $(xs ls "$BE" 2>&1 | tr '\n' ' ')"
fi
# The guest may read its frontend directory and write into it, not into the backend's.
perms=$(xs ls -p "/local/domain/$id/device/vbd" 2>/dev/null | grep '^51728')
echo "$perms" | grep -qF "n$id" && pass frontend_owned_by_guest || fail frontend_owned_by_guest "$perms"

"$TANDEM" block-list hp > "$WORK/list" 2> "$WORK/err"
if head -n 1 "$WORK/list" | grep -qE '^Vdev +BE +handle +state +evt-ch +ring-ref +BE-path' &&
   grep -qE "^51728 +0 +$id +1 +-1 +-1 +$BE" "$WORK/list"; then
    pass block_list
else
    fail block_list "$(cat "$WORK/list" "$WORK/err")"
fi

# ---- what is refused, leaving everything as it was ----
snap() { xs ls /local/domain/0/backend 2>/dev/null; xs ls "/local/domain/$id/device" 2>/dev/null; }
snap > "$WORK/before"
check double_attach 1 "domain $id already has disk xvdb" \
    "$TANDEM" block-attach hp "target=$WORK/d2.img,vdev=xvdb"
check double_attach_by_number 1 "already has disk 51728" \
    "$TANDEM" block-attach hp "target=$WORK/d2.img,vdev=51728"
check bad_spec 2 "disk spec 'target=$WORK/d2.img,vdev=xvdb,access=x': .*access" \
    "$TANDEM" block-attach hp "target=$WORK/d2.img,vdev=xvdb,access=x"
check missing_backing_file 2 "disk xvdc: '$WORK/nosuch.img': No such file" \
    "$TANDEM" block-attach hp "target=$WORK/nosuch.img,vdev=xvdc"
check attach_unknown_domain 1 "no domain named 'nosuch'" \
    "$TANDEM" block-attach nosuch "target=$WORK/d2.img,vdev=xvdc"
check attach_usage 2 "usage: tandem block-attach DOM DISKSPEC" "$TANDEM" block-attach hp
check detach_missing 1 "domain $id has no disk xvdc" "$TANDEM" block-detach hp xvdc
check detach_not_a_vdev 2 "'floppy' is not a virtual device name" "$TANDEM" block-detach hp floppy
check detach_unknown_domain 1 "no domain with domid 999" "$TANDEM" block-detach 999 xvdb
check list_unknown_domain 1 "no domain named 'nosuch'" "$TANDEM" block-list nosuch
snap > "$WORK/after"
cmp -s "$WORK/before" "$WORK/after" && state_is "$BE" 2 &&
    [ "$(xs read "$BE/params")" = "$WORK/d1.img" ] && pass refusals_wrote_nothing ||
    fail refusals_wrote_nothing "$(diff "$WORK/before" "$WORK/after")"

# ---- detach: Closing, Closed, both directories gone, the file closed ----
if "$TANDEM" block-detach hp xvdb 2> "$WORK/err" && ! xs exists "$BE" && ! xs exists "$FE" &&
   [ ! -s "$WORK/err" ]; then
    pass block_detach
else
    fail block_detach "$(cat "$WORK/err")"
fi
wait_for 100 eval '! blkback_holds "$WORK/d1.img"' && pass blkback_freed ||
    fail blkback_freed "blkback still holds $WORK/d1.img"
"$TANDEM" block-list hp > "$WORK/list"
[ "$(wc -l < "$WORK/list")" = 1 ] && pass block_list_empty || fail block_list_empty "$(cat "$WORK/list")"

# -f removes at once; a vdev name or its number both name the disk.
"$TANDEM" block-attach hp "$WORK/d2.img,raw,xvdc,rw" 2> "$WORK/err" || fail attach_positional "$(cat "$WORK/err")"
if "$TANDEM" block-detach -f hp 51744 2> "$WORK/err" &&
   ! xs exists /local/domain/0/backend/vbd/$id/51744 && ! xs exists "/local/domain/$id/device/vbd/51744"; then
    pass block_detach_force
else
    fail block_detach_force "$(cat "$WORK/err")"
fi

# Two attaches of one vdev at the same moment: the transaction lets one win.
truncate -s 1M "$WORK/d3.img"
"$TANDEM" block-attach hp "target=$WORK/d2.img,vdev=xvdd" 2> "$WORK/race1" & r1=$!
"$TANDEM" block-attach hp "target=$WORK/d3.img,vdev=xvdd" 2> "$WORK/race2" & r2=$!
wait $r1; s1=$?
wait $r2; s2=$?
if [ "$((s1 + s2))" = 1 ] && grep -q "already has disk xvdd" "$WORK/race$((s1 == 1 ? 1 : 2))" &&
   state_is /local/domain/0/backend/vbd/$id/51760 2; then
    pass concurrent_attach_one_wins
else
    fail concurrent_attach_one_wins "status $s1 $s2: $(cat "$WORK/race1" "$WORK/race2")"
fi

# A backend that does not answer (stopped): after 10 s the removal is
# forced, with a warning, as xl does; blkback frees it once it runs again.
bbpid=$(cat "$TANDEM_RUNDIR/blkback/pid")
kill -STOP "$bbpid"
"$TANDEM" block-detach hp xvdd 2> "$WORK/err"; rc=$?
kill -CONT "$bbpid"
if [ $rc = 0 ] && grep -q "did not close within 10000 ms.*removing it anyway" "$WORK/err" &&
   ! xs exists /local/domain/0/backend/vbd/$id/51760 && ! xs exists "/local/domain/$id/device/vbd/51760"; then
    pass detach_forced_after_timeout
else
    fail detach_forced_after_timeout "rc=$rc $(cat "$WORK/err")"
fi
wait_for 100 eval '! blkback_holds "$WORK/d2.img" && ! blkback_holds "$WORK/d3.img"' &&
    pass blkback_freed_after_forced || fail blkback_freed_after_forced "still open"

# ---- a disk attached to a domain goes with it ----
"$TANDEM" block-attach hp "target=$WORK/d1.img,vdev=xvdb" 2> "$WORK/err" || fail reattach "$(cat "$WORK/err")"
"$TANDEM" destroy hp 2> "$WORK/err" || fail destroy "$(cat "$WORK/err")"
if wait_for 100 eval '! xs exists /local/domain/0/backend/vbd/$id' &&
   wait_for 100 eval '! blkback_holds "$WORK/d1.img"' && why=$(nothing_left "$id" ""); then
    pass torn_down_at_domain_end
else
    fail torn_down_at_domain_end "$why $(xs ls /local/domain/0/backend 2>&1 | tr '\n' ' ')"
fi
check attach_dead_domain 1 "no domain named 'hp'" \
    "$TANDEM" block-attach hp "target=$WORK/d1.img,vdev=xvdb"

# ---- network ----
switch_ns_or_finish network_hotplug
nst() { ip netns exec "$NS" "$TANDEM" "$@"; }
nst create "$WORK/hp.cfg" 2> "$WORK/err" || { fail net_create "$(cat "$WORK/err")"; finish; }
id=$("$TANDEM" domid hp)
VBE=/local/domain/0/backend/vif/$id
tap_up() { ip netns exec "$NS" ip -br link show "vif$id.$1" 2>/dev/null | grep -q .; }

if nst network-attach hp bridge=br0 mac=00:16:3e:0a:0b:0c 2> "$WORK/err" && state_is "$VBE/0" 2 &&
   [ "$(xs read "$VBE/0/mac")" = 00:16:3e:0a:0b:0c ] && [ "$(xs read "$VBE/0/bridge")" = br0 ] &&
   [ "$(xs read "/local/domain/$id/device/vif/0/handle")" = 0 ] && tap_up 0; then
    pass network_attach
else
    fail network_attach "$(cat "$WORK/err"); $(xs ls "$VBE" 2>&1 | tr '\n' ' ')"
fi
# The next devid; a generated MAC in Xen's range.
if nst network-attach hp bridge=br0 2> "$WORK/err" && state_is "$VBE/1" 2 &&
   xs read "$VBE/1/mac" | grep -qE '^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$' && tap_up 1; then
    pass network_attach_next_devid
else
    fail network_attach_next_devid "$(cat "$WORK/err")"
fi
wait_for 50 test -s "$TANDEM_RUNDIR/netback/$id.0"
nst network-list hp > "$WORK/list" 2> "$WORK/err"
if head -n 1 "$WORK/list" | grep -qE '^Idx +BE +Mac Addr\. +handle +state +evt-ch +tx- */rx-ring-ref +BE-path +TX-pkts +TX-bytes +RX-pkts +RX-bytes$' &&
   grep -qE "^0 +0 +00:16:3e:0a:0b:0c +0 +1 +-1 +-1/-1 +$VBE/0 +0 +0 +0 +0$" "$WORK/list" &&
   grep -qE "^1 +0 +00:16:3e:[0-9a-f:]+ +1 +1 " "$WORK/list"; then
    pass network_list
else
    fail network_list "$(cat "$WORK/list" "$WORK/err")"
fi
# The counters columns read what netback writes (traffic needs a
# frontend: here netback is stopped while the file is edited, or its next
# tick would write it again).
nbpid=$(cat "$TANDEM_RUNDIR/netback/pid")
kill -STOP "$nbpid"
sed -i 's/^tx_packets .*/tx_packets 7/; s/^rx_bytes .*/rx_bytes 4242/' "$TANDEM_RUNDIR/netback/$id.0"
nst network-list hp > "$WORK/list"
kill -CONT "$nbpid"
grep -qE "^0 .* 7 +0 +0 +4242$" "$WORK/list" && pass network_list_counters ||
    fail network_list_counters "$(cat "$WORK/list")"

snap > "$WORK/before"
check net_double_mac 1 "domain $id already has a network device with MAC 00:16:3e:0a:0b:0c \(devid 0\)" \
    nst network-attach hp bridge=br0,mac=00:16:3e:0a:0b:0c
check net_bad_spec 2 "vif spec 'mac=zz': " nst network-attach hp mac=zz
check net_detach_missing 1 "domain $id has no network device 00:16:3e:99:99:99" \
    nst network-detach hp 00:16:3e:99:99:99
check net_detach_missing_devid 1 "domain $id has no network device 7" nst network-detach hp 7
check net_unknown_domain 1 "no domain named 'nosuch'" nst network-attach nosuch bridge=br0
snap > "$WORK/after"
cmp -s "$WORK/before" "$WORK/after" && pass net_refusals_wrote_nothing ||
    fail net_refusals_wrote_nothing "$(diff "$WORK/before" "$WORK/after")"
check net_missing_bridge 1 "the backend refused it: attaching vif$id\.2 to bridge nosuchbr" \
    nst network-attach hp bridge=nosuchbr
! xs exists "$VBE/2" && ! xs exists "/local/domain/$id/device/vif/2" && pass net_refused_removed ||
    fail net_refused_removed "$(xs ls "$VBE/2" 2>&1)"

if nst network-detach hp 00:16:3E:0A:0B:0C 2> "$WORK/err" && ! xs exists "$VBE/0" &&
   ! xs exists "/local/domain/$id/device/vif/0" &&
   wait_for 50 eval '! tap_up 0 && [ ! -e "$TANDEM_RUNDIR/netback/$id.0" ]'; then
    pass network_detach_by_mac
else
    fail network_detach_by_mac "$(cat "$WORK/err")"
fi
if nst network-detach hp 1 2> "$WORK/err" && ! xs exists "$VBE/1" && wait_for 50 eval '! tap_up 1'; then
    pass network_detach_by_devid
else
    fail network_detach_by_devid "$(cat "$WORK/err")"
fi
nst network-attach hp bridge=br0 2> "$WORK/err" || fail net_reattach "$(cat "$WORK/err")"
nst destroy hp
if wait_for 100 eval '! xs exists "$VBE"' && wait_for 50 eval '! ip netns exec "$NS" ip -br link | grep -q "^vif"'; then
    pass net_torn_down_at_domain_end
else
    fail net_torn_down_at_domain_end "$(xs ls "$VBE" 2>&1)"
fi
finish

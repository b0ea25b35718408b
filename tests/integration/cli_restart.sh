#!/bin/bash
# Restarts and the domain's record (RUNDIR/domN.cfg), against the fake VMM
# (cli_fake_vmm.py), the real xenstored and a real tandem-blkback (and
# tandem-netback in a network namespace this test makes: root, ip(8),
# /dev/net/tun; else that part is skipped):
# - on_reboot = "restart" brings back the disks (and vifs: the same MAC
#   and devid) attached while the domain ran, and not those detached
#   (hot-attached or from the config file);
# - on_reboot = "rename-restart" keeps the dead domain as
#   NAME-YYYYMMDDTHHMMZ (a new UUID of its own, listed shut down, no
#   devices) and starts the domain again under a new domid with its name,
#   UUID and devices; a second one within the minute gets "-2"; destroying
#   them all leaves nothing in xenstore, the run directory or the process
#   table.
# The guest side is pv_restart.sh's. Needs no KVM.
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-blkback"
use_fake_vmm
NS=""
trap cleanup_with_backends EXIT
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
starts_of() { grep -c -- "--name $1 " "$FAKE_VMM_LOG"; }
state_is() { [ "$(xs read "$1/state" 2>/dev/null)" = "$2" ]; }
vbd() { echo "/local/domain/0/backend/vbd/$1/$2"; }
# reboot_and_wait DOM NAME N: asks DOM to reboot, waits for the Nth start of NAME.
reboot_and_wait() {
    "$TANDEM" reboot "$1" 2> "$WORK/err" || fail "reboot_$1" "$(cat "$WORK/err")"
    local rb_name=$2 rb_count=$3
    wait_for 100 eval '[ "$(starts_of "$rb_name")" -ge "$rb_count" ]' && wait_for 100 domid_of "$rb_name"
}

truncate -s 1M "$WORK/d0.img" "$WORK/d1.img" "$WORK/d2.img"
write_cfg "$WORK/rd.cfg" rd "app=idle" 'on_reboot = "restart"' "disk = [ '$WORK/d0.img,raw,xvda,rw' ]"
"$TANDEM" create "$WORK/rd.cfg" 2> "$WORK/err" || { fail create "$(cat "$WORK/err")"; finish; }
id=$(domid_of rd)
REC=$TANDEM_RUNDIR/dom$id.cfg

# ---- attach and detach change the record ----
"$TANDEM" block-attach rd "target=$WORK/d1.img,vdev=xvdb" 2> "$WORK/err" || fail attach_xvdb "$(cat "$WORK/err")"
"$TANDEM" block-attach rd "target=$WORK/d2.img,vdev=xvdc,access=r" 2> "$WORK/err" ||
    fail attach_xvdc "$(cat "$WORK/err")"
if grep -qF "vdev=xvdb, access=rw, target=$WORK/d1.img" "$REC" &&
   grep -qF "vdev=xvdc, access=r, target=$WORK/d2.img" "$REC" && grep -qF "target=$WORK/d0.img" "$REC"; then
    pass record_has_attached
else
    fail record_has_attached "$(cat "$REC")"
fi
"$TANDEM" block-detach rd xvdc 2> "$WORK/err" || fail detach_xvdc "$(cat "$WORK/err")"
grep -qF "$WORK/d2.img" "$REC" && fail record_drops_detached "$(cat "$REC")" || pass record_drops_detached

# ---- restart: the attached disk again, not the detached one ----
if reboot_and_wait rd rd 2 && [ "$(domid_of rd)" = "$id" ] && wait_for 100 state_is "$(vbd "$id" 51728)" 2 &&
   state_is "$(vbd "$id" 51712)" 2 && [ "$(xs read "$(vbd "$id" 51728)/params")" = "$WORK/d1.img" ] &&
   ! xs exists "$(vbd "$id" 51744)"; then
    pass restart_keeps_attached_disk
else
    fail restart_keeps_attached_disk "$(xs ls "/local/domain/0/backend/vbd/$id" 2>&1 | tr '\n' ' ') $(cat "$REC")"
fi
"$TANDEM" block-list rd > "$WORK/list"
[ "$(grep -cE "^517(12|28) " "$WORK/list")" = 2 ] && [ "$(wc -l < "$WORK/list")" = 3 ] &&
    pass block_list_after_restart || fail block_list_after_restart "$(cat "$WORK/list")"
# A disk of the config file, once detached, does not come back either.
"$TANDEM" block-detach rd xvda 2> "$WORK/err" || fail detach_xvda "$(cat "$WORK/err")"
if reboot_and_wait rd rd 3 && wait_for 100 state_is "$(vbd "$id" 51728)" 2 && ! xs exists "$(vbd "$id" 51712)"; then
    pass restart_drops_detached_config_disk
else
    fail restart_drops_detached_config_disk "$(xs ls "/local/domain/0/backend/vbd/$id" 2>&1 | tr '\n' ' ')"
fi

# ---- rename-restart ----
UUID=6f1c2b4e-8d3a-4f5e-9a7b-0c1d2e3f4a5b
write_cfg "$WORK/rr.cfg" rr "app=idle" 'on_reboot = "rename-restart"' "uuid = \"$UUID\""
"$TANDEM" create "$WORK/rr.cfg" 2> "$WORK/err" || fail create_rr "$(cat "$WORK/err")"
old=$(domid_of rr)
"$TANDEM" block-attach rr "target=$WORK/d2.img,vdev=xvdd" 2> "$WORK/err" || fail attach_rr "$(cat "$WORK/err")"
if reboot_and_wait rr rr 2 && new=$(domid_of rr) && [ "$new" != "$old" ]; then
    pass rename_restart_new_domid
else
    fail rename_restart_new_domid "$("$TANDEM" list 2>&1)"
    new=""
fi
kept=$(xs read "/local/domain/$old/name" 2>/dev/null)
kept_vm=$(xs read "/local/domain/$old/vm" 2>/dev/null)
if [[ $kept =~ ^rr-[0-9]{8}T[0-9]{4}Z$ ]] && [ "$(domid_of "$kept")" = "$old" ] &&
   "$TANDEM" list "$kept" | grep -qE "^$kept +$old .*---s--" &&
   [[ $kept_vm =~ ^/vm/[0-9a-f-]{36}$ ]] && [ "$kept_vm" != "/vm/$UUID" ] &&
   [ "$(xs read "$kept_vm/name")" = "$kept" ] && [ "$(xs read "$kept_vm/uuid")" = "${kept_vm#/vm/}" ]; then
    pass rename_restart_keeps_renamed
else
    fail rename_restart_keeps_renamed "name '$kept' vm '$kept_vm' $("$TANDEM" list 2>&1)"
fi
if [ -n "$new" ] && [ "$(xs read "/local/domain/$new/vm")" = "/vm/$UUID" ] &&
   [ "$(xs read "/vm/$UUID/name")" = rr ] && wait_for 100 state_is "$(vbd "$new" 51760)" 2 &&
   ! xs exists "/local/domain/0/backend/vbd/$old" && [ -s "$TANDEM_RUNDIR/dom$new.cfg" ] &&
   [ ! -e "$TANDEM_RUNDIR/dom$old.cfg" ] && grep -q "fake-vmm: domain $new (rr)" <("$TANDEM" dmesg rr); then
    pass rename_restart_new_domain_has_uuid_devices_log
else
    fail rename_restart_new_domain_has_uuid_devices_log "$(xs ls "/local/domain/0/backend/vbd" 2>&1 | tr '\n' ' ')"
fi
# A second one within the same minute: the name is taken, "-2" follows.
if reboot_and_wait rr rr 3 && third=$(domid_of rr) && [ "$third" != "$new" ] &&
   [[ $(xs read "/local/domain/$new/name") =~ ^rr-[0-9]{8}T[0-9]{4}Z(-2)?$ ]] &&
   [ "$(xs read "/local/domain/$new/name")" != "$kept" ]; then
    pass rename_restart_twice_in_a_minute
else
    fail rename_restart_twice_in_a_minute "$("$TANDEM" list 2>&1)"
    third=""
fi
kept2=$(xs read "/local/domain/$new/name" 2>/dev/null)
kept2_vm=$(xs read "/local/domain/$new/vm" 2>/dev/null)
"$TANDEM" destroy "$kept" 2> "$WORK/err" || fail destroy_kept "$(cat "$WORK/err")"
why=$(nothing_left "$old" "${kept_vm#/vm/}") && pass kept_destroyed_nothing_left ||
    fail kept_destroyed_nothing_left "$why"
[ -n "$third" ] && [ "$(domid_of rr)" = "$third" ] && pass new_domain_survives_destroy_of_kept ||
    fail new_domain_survives_destroy_of_kept "$("$TANDEM" list 2>&1)"
"$TANDEM" destroy "$kept2" 2> "$WORK/err" || fail destroy_kept2 "$(cat "$WORK/err")"
"$TANDEM" destroy rr 2> "$WORK/err" || fail destroy_rr "$(cat "$WORK/err")"
why=""
for d in "$new:${kept2_vm#/vm/}" "$third:$UUID"; do
    w=$(nothing_left "${d%%:*}" "${d#*:}") || why="$why $w"
done
if [ -z "$why" ] && ! xs exists "/local/domain/0/backend/vbd/$new" &&
   ! xs exists "/local/domain/0/backend/vbd/$third" && ! ls "$TANDEM_RUNDIR"/dom*.cfg 2>/dev/null | grep -v "dom$id.cfg"; then
    pass all_destroyed_nothing_left
else
    fail all_destroyed_nothing_left "$why $(ls "$TANDEM_RUNDIR")"
fi

# ---- network: the same NIC (MAC, devid) after a restart; a detached one not ----
switch_ns_or_finish network_restart
nst() { ip netns exec "$NS" "$TANDEM" "$@"; }
write_cfg "$WORK/nr.cfg" nr "app=idle" 'on_reboot = "restart"' "vif = [ 'bridge=br0' ]"
nst create "$WORK/nr.cfg" 2> "$WORK/err" || { fail net_create "$(cat "$WORK/err")"; finish; }
nid=$(domid_of nr)
VBE=/local/domain/0/backend/vif/$nid
mac0=$(xs read "$VBE/0/mac")
nst network-attach nr bridge=br0 2> "$WORK/err" || fail net_attach "$(cat "$WORK/err")"
nst network-attach nr bridge=br0 2> "$WORK/err" || fail net_attach2 "$(cat "$WORK/err")"
mac2=$(xs read "$VBE/2/mac")
nst network-detach nr 1 2> "$WORK/err" || fail net_detach "$(cat "$WORK/err")"
if reboot_and_wait nr nr 2 && wait_for 100 state_is "$VBE/2" 2 && state_is "$VBE/0" 2 &&
   [ "$(xs read "$VBE/0/mac")" = "$mac0" ] && [ "$(xs read "$VBE/2/mac")" = "$mac2" ] &&
   [ "$(xs read "/local/domain/$nid/device/vif/2/handle")" = 2 ] && ! xs exists "$VBE/1"; then
    pass restart_keeps_attached_vif
else
    fail restart_keeps_attached_vif "$(xs ls "$VBE" 2>&1 | tr '\n' ' ') $(cat "$TANDEM_RUNDIR/dom$nid.cfg")"
fi
nst destroy nr
why=$(nothing_left "$nid" "") && wait_for 100 eval '! xs exists "$VBE"' && pass net_destroyed_nothing_left ||
    fail net_destroyed_nothing_left "$why"
finish

#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# tandem save / restore of a guest on the network (net_lib.bash: namespaces,
# bridge and veth made by the test; docs/save-restore.md): an app=netecho
# guest with a vif on the bridge answers ping and UDP echo from the host
# namespace, is saved (its tap vif<old>.0 goes), restored under a new domid
# (its vif is vif<new>.0 on the same bridge), its netfront reconnects to
# the new domain's backend (the resume hook) and ping and echo pass again.
. "$(dirname "$0")/net_lib.bash"
need_net
need_file "$TANDEM_BIN/tandem-consoled"
F=$(emulation_factor)
CON=$TANDEM_RUNDIR/consoled/guest-nsr.log
con_has() { grep -qE -- "$1" "$CON" 2>/dev/null; }
# The guest's console, netback's log and the supervisors' (both domids':
# CI at 2026-12-04 01:32 saw the new domid's vif directory removed from
# the store right after its probe, by no one the logs then named).
show_sr() { tail -n 12 "$CON" "$NB_LOG" "$TANDEM_RUNDIR"/log/*.log 2>/dev/null | tr '\n' '|'; }
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
gone() { ! domid_of "$1" > /dev/null; }
tap_up() { insw ip -o link show "vif$1.0" 2>/dev/null | grep -q "master br0"; }
tap_gone() { ! insw ip link show "vif$1.0" > /dev/null 2>&1; }

GIP=10.99.0.4
write_cfg "$WORK/nsr.cfg" nsr "app=netecho" "vif = [ $(vif_item $GIP) ]"
insw "$TANDEM" create "$WORK/nsr.cfg" 2> "$WORK/err" || { fail create "$(cat "$WORK/err")"; finish; }
old=$(domid_of nsr)
if wait_for $((600 * F)) con_has "^netecho: ready ip=$GIP" &&
   wait_for $((100 * F)) xs exists "/local/domain/$old/control/feature-suspend"; then
    pass guest_connects
else
    fail guest_connects "$(show_sr)"
    finish
fi
tap_up "$old" && pass tap_on_bridge || fail tap_on_bridge "$(insw ip -o link 2>&1 | tr '\n' '|')"
if out=$(host_drv ping $GIP 50); then pass "ping_before ($out)"; else fail ping_before "$out"; fi

if insw "$TANDEM" save -t $((30 * F)) nsr "$WORK/nsr.save" > "$WORK/save.out" 2> "$WORK/save.err"; then
    pass save
    echo "# $(cat "$WORK/save.out")"
else
    fail save "$(cat "$WORK/save.err") | $(show_sr)"
fi
wait_for $((100 * F)) gone nsr && pass saved_domain_gone || fail saved_domain_gone "$(show_sr)"
wait_for $((100 * F)) tap_gone "$old" && pass old_tap_removed ||
    fail old_tap_removed "$(insw ip -o link 2>&1 | tr '\n' '|')"

if insw "$TANDEM" restore "$WORK/nsr.save" 2> "$WORK/err"; then
    pass restore
else
    fail restore "$(cat "$WORK/err") | $(show_sr)"
fi
new=$(domid_of nsr)
[ -n "$new" ] && [ "$new" != "$old" ] && pass restored_under_new_domid ||
    fail restored_under_new_domid "old $old new '$new'"
if wait_for $((300 * F)) con_has "suspend: resumed as domid $new" &&
   wait_for $((600 * F)) con_has "netfront 0: reconnected"; then
    pass netfront_reconnects_after_restore
else
    fail netfront_reconnects_after_restore "$(show_sr)"
fi
wait_for $((100 * F)) tap_up "$new" && pass new_tap_on_bridge ||
    fail new_tap_on_bridge "$(insw ip -o link 2>&1 | tr '\n' '|')"
[ "$(xs read "/local/domain/0/backend/vif/$new/0/state" 2>&1)" = 4 ] &&
    [ "$(xs read "/local/domain/$new/device/vif/0/state" 2>&1)" = 4 ] && pass both_ends_connected ||
    fail both_ends_connected "$(xs ls "/local/domain/0/backend/vif/$new/0" 2>&1 | tr '\n' ' ')"
# The first pings may race the host's ARP cache (the MAC is the same, the port moved).
wait_for $((200 * F)) host_drv ping $GIP 1
if out=$(host_drv ping $GIP 50); then pass "ping_after_restore ($out)"; else fail ping_after_restore "$out $(show_sr)"; fi
if out=$(host_drv udp $GIP 200); then pass "udp_echo_after_restore ($out)"; else fail udp_echo_after_restore "$out"; fi
why=$(nothing_left "$old" "") && ! xs exists "/local/domain/0/backend/vif/$old" &&
    pass nothing_of_old_domid || fail nothing_of_old_domid "$why"
finish

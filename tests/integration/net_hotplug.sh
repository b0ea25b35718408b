#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Network hotplug with the real guest kernel, tandem-vmm and tandem-netback
# (net_lib.bash: namespaces, bridge and veth made by the test): a guest
# created with no vif runs app=netecho wait-ms=..., which waits (a xenbus
# watch) for device/vif/0; network-attach gives it a vif on the test's
# bridge (tandem-netback is started for it, in the switch namespace); the
# host namespace pings it and has UDP echoed; network-list shows the vif
# Connected with counters that moved; network-detach walks the backend
# through Closing to Closed (the guest's netfront closes: no forced
# removal), both directories and the tap go, netecho is told, returns and
# the guest powers off; a guest waiting for a vif nobody attaches is told.
. "$(dirname "$0")/net_lib.bash"
need_net
need_file "$TANDEM_BIN/tandem-consoled"
F=$(emulation_factor)
CON=$TANDEM_RUNDIR/consoled/guest-nhp.log
con_has() { grep -qE -- "$1" "$CON" 2>/dev/null; }
show_hp() { tail -n 12 "$CON" "$NB_LOG" 2>/dev/null | tr '\n' '|'; }
tap_up() { insw ip -o link show "vif$1.0" 2>/dev/null | grep -q "master br0"; }
tap_gone() { ! insw ip link show "vif$1.0" > /dev/null 2>&1; }

GIP=10.99.0.3
MAC=00:16:3e:5a:01:02
write_cfg "$WORK/nhp.cfg" nhp "app=netecho wait-ms=$((60000 * F))"
insw "$TANDEM" create "$WORK/nhp.cfg" 2> "$WORK/err" || { fail create "$(cat "$WORK/err")"; finish; }
id=$("$TANDEM" domid nhp)
BE=/local/domain/0/backend/vif/$id/0
FE=/local/domain/$id/device/vif/0
wait_for $((300 * F)) con_has "^netecho: waiting for vif 0" && pass guest_waits_for_vif ||
    fail guest_waits_for_vif "$(show_hp)"

if insw "$TANDEM" network-attach nhp bridge=br0 "ip=$GIP/24" "mac=$MAC" 2> "$WORK/err"; then
    pass network_attach
else
    fail network_attach "$(cat "$WORK/err") $(show_hp)"
fi
if wait_for $((600 * F)) con_has "^netecho: ready ip=$GIP mac=$MAC"; then
    pass guest_uses_attached_vif
else
    fail guest_uses_attached_vif "$(show_hp)"
fi
tap_up "$id" && pass tap_on_bridge || fail tap_on_bridge "$(insw ip -o link 2>&1 | tr '\n' '|')"
if out=$(host_drv ping $GIP 50); then pass "ping_attached ($out)"; else fail ping_attached "$out"; fi
if out=$(host_drv udp $GIP 200); then pass "udp_echo_attached ($out)"; else fail udp_echo_attached "$out"; fi

# Counters: tandem-netback rewrites them every second; wait until both moved.
list_ok() {
    "$TANDEM" network-list nhp > "$WORK/list" 2>&1 &&
        awk -v be="$BE" -v mac="$MAC" '
            $1 == "0" && $2 == "0" && $3 == mac && $4 == "0" && $5 == "4" && $8 == be &&
            $9 > 0 && $10 > 0 && $11 > 0 && $12 > 0 { ok = 1 }
            END { exit !ok }' "$WORK/list"
}
wait_for $((50 * F)) list_ok && pass network_list_counters_moved ||
    fail network_list_counters_moved "$(cat "$WORK/list")"

"$TANDEM" network-detach nhp 00:16:3e:99:99:99 > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && [ -s "$WORK/err" ] && pass detach_missing_refused ||
    fail detach_missing_refused "rc=$rc $(cat "$WORK/err")"

# Detach: no -f, and no warning: the frontend closed in time.
if insw "$TANDEM" network-detach nhp "$MAC" 2> "$WORK/err" && [ ! -s "$WORK/err" ] &&
   ! xs exists "$BE" && ! xs exists "$FE"; then
    pass network_detach_walks_closing_closed
else
    fail network_detach_walks_closing_closed "$(cat "$WORK/err") $(show_hp)"
fi
wait_for $((100 * F)) tap_gone "$id" && pass tap_removed ||
    fail tap_removed "$(insw ip -o link 2>&1 | tr '\n' '|')"
if wait_for $((300 * F)) con_has "^netecho: vif 0 detached" &&
   con_has "netfront 0: detached by the toolstack"; then
    pass guest_told_of_detach
else
    fail guest_told_of_detach "$(show_hp)"
fi
wait_for $((300 * F)) bash -c "! '$TANDEM' domid nhp" && con_has "^netecho: done echoed=[1-9]" &&
    pass guest_powered_off || fail guest_powered_off "$(show_hp)"
why=$(nothing_left "$id" "") && ! xs exists "/local/domain/0/backend/vif/$id" && pass nothing_left ||
    fail nothing_left "$why"

# A guest that waits for a vif nobody attaches is told so, cleanly.
write_cfg "$WORK/lone.cfg" lone "app=netecho wait-ms=300"
insw "$TANDEM" create "$WORK/lone.cfg" 2> "$WORK/err" || fail create_lone "$(cat "$WORK/err")"
LCON=$TANDEM_RUNDIR/consoled/guest-lone.log
wait_for $((300 * F)) grep -q "^netecho: FAIL vif 0 did not appear within 300 ms" "$LCON" &&
    pass wait_times_out || fail wait_times_out "$(tail -5 "$LCON" 2>&1)"
finish

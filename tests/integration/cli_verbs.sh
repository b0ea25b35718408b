#!/bin/bash
# The xl verbs that need no network and no save, against the fake VMM
# (cli_fake_vmm.py) and the real xenstored and tandem-consoled: create in
# the background, list (table, --json, -l), info, uptime, vcpu-list,
# rename (also across a restart, and in the domain's record), dmesg, on_crash=preserve, services
# status (with a crashed one) and stop, help pages, and the error paths
# (unknown domain, bad name, taken name). Needs no KVM.
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/tandem-consoled"
use_fake_vmm
domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
starts_of() { grep -c -- "--name $1 " "$FAKE_VMM_LOG"; }

write_cfg "$WORK/web.cfg" web "app=idle" "vcpus = 2" 'on_reboot = "restart"'
"$TANDEM" create "$WORK/web.cfg" 2> "$WORK/err" && pass create || fail create "$(cat "$WORK/err")"
id=$(domid_of web)

# ---- ramdisk: passed to the VMM as an absolute path, printed by -n ----
printf 'initrd' > "$WORK/initrd.img"
write_cfg "$WORK/rd.cfg" rd "app=idle" 'ramdisk = "initrd.img"'
if "$TANDEM" create "$WORK/rd.cfg" 2> "$WORK/err" &&
   grep -q -- "--ramdisk $WORK/initrd.img .*--name rd " "$FAKE_VMM_LOG" &&
   "$TANDEM" create -n "$WORK/rd.cfg" | grep -qx "ramdisk = \"$WORK/initrd.img\"" &&
   "$TANDEM" destroy rd 2>> "$WORK/err"; then
    pass ramdisk_passed
else
    fail ramdisk_passed "$(cat "$WORK/err"; grep -- '--name rd ' "$FAKE_VMM_LOG")"
fi

# ---- list ----
"$TANDEM" list > "$WORK/list"
if head -n 1 "$WORK/list" | grep -qE '^Name +ID +Mem +VCPUs +State +Time\(s\)$' &&
   grep -qE '^Domain-0 +0 ' "$WORK/list" && grep -qE "^web +$id +32 +2 +r----- " "$WORK/list"; then
    pass list_table
else
    fail list_table "$(cat "$WORK/list")"
fi
if "$TANDEM" list --json > "$WORK/json" && python3 - "$WORK/json" "$id" <<'PY'
import json, sys
doms = json.load(open(sys.argv[1]))
names = {d["name"]: d for d in doms}
w = names["web"]
assert names["Domain-0"]["domid"] == 0, doms
assert (w["domid"], w["mem"], w["vcpus"], w["state"]) == (int(sys.argv[2]), 32, 2, "r-----"), w
assert set(w) == {"name", "domid", "mem", "vcpus", "state", "time"}, w
PY
then pass list_json; else fail list_json "$(cat "$WORK/json")"; fi
if "$TANDEM" list -l web > "$WORK/json" && python3 - "$WORK/json" <<'PY'
import json, sys
(w,) = json.load(open(sys.argv[1]))
assert w["name"] == "web" and len(w["uuid"]) == 36 and w["vmm_pid"] > 0 and w["status"] == "running", w
PY
then pass list_long; else fail list_long "$(cat "$WORK/json")"; fi
"$TANDEM" list nosuch > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "no domain named 'nosuch'" "$WORK/err" && pass list_unknown ||
    fail list_unknown "rc=$rc $(cat "$WORK/err")"
# Every verb that names a domain: an unknown one is status 1 with the
# same message, and nothing changes.
bad=""
for v in "shutdown nosuch" "reboot nosuch" "destroy nosuch" "pause nosuch" "unpause nosuch" \
         "dmesg nosuch" "uptime nosuch" "vcpu-list nosuch" "domid nosuch" "console nosuch" \
         "block-list nosuch" "block-detach nosuch xvdb" "network-list nosuch" \
         "network-detach nosuch 0" "network-attach nosuch" "save nosuch $WORK/x.save"; do
    # shellcheck disable=SC2086  # the verb and its arguments, split on purpose
    "$TANDEM" $v > /dev/null 2> "$WORK/err" < /dev/null; rc=$?
    [ $rc = 1 ] && grep -q "no domain named 'nosuch'" "$WORK/err" || bad="$bad [$v: rc=$rc $(head -c 200 "$WORK/err")]"
done
"$TANDEM" domname 999 > /dev/null 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "no domain with domid 999" "$WORK/err" || bad="$bad [domname 999: rc=$rc $(cat "$WORK/err")]"
[ -z "$bad" ] && [ "$(domid_of web)" = "$id" ] && [ ! -e "$WORK/x.save" ] && pass every_verb_unknown_domain ||
    fail every_verb_unknown_domain "$bad"

# ---- info, uptime, vcpu-list, dmesg ----
"$TANDEM" info > "$WORK/info" && grep -qE '^nr_domains +: 1$' "$WORK/info" &&
    grep -qE '^total_memory +: [0-9]+$' "$WORK/info" && pass info || fail info "$(cat "$WORK/info")"
"$TANDEM" uptime web > "$WORK/up" && grep -qE "^web +$id [0-9]+:[0-9]{2}:[0-9]{2}$" "$WORK/up" &&
    pass uptime || fail uptime "$(cat "$WORK/up")"
"$TANDEM" vcpu-list web > "$WORK/vl"
[ "$(grep -cE "^web +$id +[01] " "$WORK/vl")" = 2 ] && pass vcpu_list || fail vcpu_list "$(cat "$WORK/vl")"
"$TANDEM" dmesg web > "$WORK/dmesg" && grep -q "fake-vmm: domain $id (web)" "$WORK/dmesg" &&
    pass dmesg || fail dmesg "$(cat "$WORK/dmesg")"

# ---- pause shows in list; rename ----
"$TANDEM" pause web && "$TANDEM" list web | grep -qE "^web +$id .*--p---" && pass pause_listed ||
    fail pause_listed "$("$TANDEM" list web)"
"$TANDEM" unpause web
"$TANDEM" rename web 'bad name' 2> "$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "may only contain" "$WORK/err" && pass rename_bad_name ||
    fail rename_bad_name "rc=$rc $(cat "$WORK/err")"
write_cfg "$WORK/db.cfg" db "app=idle"
"$TANDEM" create "$WORK/db.cfg" 2> "$WORK/err" || fail create_db "$(cat "$WORK/err")"
"$TANDEM" rename web db 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "already exists" "$WORK/err" && pass rename_taken || fail rename_taken "rc=$rc $(cat "$WORK/err")"
"$TANDEM" rename nosuch x 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && pass rename_unknown || fail rename_unknown "rc=$rc"
if "$TANDEM" rename web www && [ "$(domid_of www)" = "$id" ] && ! domid_of web > /dev/null &&
   [ "$(xs read "$(xs read "/local/domain/$id/vm")/name")" = www ] &&
   grep -qx 'name = "www"' "$TANDEM_RUNDIR/dom$id.cfg"; then
    pass rename
else
    fail rename "$("$TANDEM" list)"
fi
# A reboot restarts in place (on_reboot=restart) and keeps the new name.
"$TANDEM" reboot www
if wait_for 100 bash -c "[ \$(grep -c -- '--name www ' '$FAKE_VMM_LOG') = 1 ]" &&
   wait_for 100 bash -c "[ \"\$('$TANDEM' domid www 2>/dev/null)\" = $id ]"; then
    pass reboot_restarts_renamed
else
    fail reboot_restarts_renamed "$(cat "$FAKE_VMM_LOG"; "$TANDEM" list)"
fi

# ---- on_crash = preserve: the dead domain stays listed until destroy ----
write_cfg "$WORK/crashy.cfg" crashy "app=exit code=5" 'on_crash = "preserve"'
"$TANDEM" create "$WORK/crashy.cfg" 2> "$WORK/err"
cid=$(wait_for 50 domid_of crashy; domid_of crashy)
if wait_for 100 bash -c "'$TANDEM' list crashy 2>/dev/null | grep -qE '^crashy +[0-9]+ .*----c-'"; then
    pass preserve_listed_crashed
else
    fail preserve_listed_crashed "$("$TANDEM" list 2>&1; cat "$WORK/err")"
fi
"$TANDEM" destroy crashy 2> "$WORK/err"
why=$(nothing_left "$cid" "") && pass preserve_destroyed || fail preserve_destroyed "$why $(cat "$WORK/err")"

# ---- services ----
"$TANDEM" services status > "$WORK/svc" 2> "$WORK/err"; rc=$?
if [ $rc = 0 ] && grep -qE '^xenstored +running' "$WORK/svc" && grep -qE '^consoled +running' "$WORK/svc"; then
    pass services_status
else
    fail services_status "rc=$rc $(cat "$WORK/svc" "$WORK/err")"
fi
"$TANDEM" services stop 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "still run" "$WORK/err" && pass services_stop_refused_while_domains ||
    fail services_stop_refused_while_domains "rc=$rc $(cat "$WORK/err")"
cpid=$(cat "$TANDEM_RUNDIR/consoled/pid")
kill -KILL "$cpid"; wait_gone "$cpid" 50
"$TANDEM" services status > "$WORK/svc" 2> "$WORK/err"; rc=$?
if [ $rc = 1 ] && grep -qE "^consoled +crashed +$cpid " "$WORK/svc" && grep -q "consoled crashed" "$WORK/err"; then
    pass services_status_crashed
else
    fail services_status_crashed "rc=$rc $(cat "$WORK/svc" "$WORK/err")"
fi
"$TANDEM" shutdown -a -w 2> "$WORK/err" && [ -z "$("$TANDEM" list --json | grep '"domid": [1-9]')" ] &&
    pass shutdown_all_created || fail shutdown_all_created "$(cat "$WORK/err"; "$TANDEM" list)"
xpid=$(cat "$TANDEM_RUNDIR/xenstored/pid")
if "$TANDEM" services stop 2> "$WORK/err" && wait_gone "$xpid" 50 &&
   "$TANDEM" services status | grep -qE '^xenstored +stopped'; then
    pass services_stop
else
    fail services_stop "$(cat "$WORK/err"; "$TANDEM" services status)"
fi

# ---- the manual ----
missing=""
for v in create run list info console shutdown reboot destroy pause unpause rename vcpu-list \
         domid domname uptime dmesg services help block-attach block-detach block-list \
         network-attach network-detach network-list save restore; do
    "$TANDEM" help "$v" > "$WORK/page" && grep -q "^SYNOPSIS" "$WORK/page" &&
        grep -q "^EXAMPLE" "$WORK/page" || missing="$missing $v"
    "$TANDEM" "$v" --help | cmp -s - "$WORK/page" || missing="$missing $v(--help)"
done
[ -z "$missing" ] && pass help_pages || fail help_pages "no page or no example:$missing"
"$TANDEM" help frobnicate > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass help_unknown_verb || fail help_unknown_verb "rc=$rc"
finish

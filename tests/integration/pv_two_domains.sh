#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Two guests at once on the real VMM: different domids, both in xenstore
# (Debian's xenstore-ls, our xenstore CLI and `tandem list`), pause shows in
# the list, and after shutdown nothing is left.
. "$(dirname "$0")/cli_lib.bash"
need_kvm
need_tandem
need_file "$TANDEM_BIN/tandem-vmm"
need_file "$TANDEM_BIN/xenstored"
need_file "$KERNEL"

domid_of() { "$TANDEM" domid "$1" 2>/dev/null; }
has_domid() { [ -n "$(domid_of "$1")" ]; }
U=3c5e8a10-2b4d-4e6f-8a9b-0000000000

write_cfg "$WORK/one.cfg" one "app=idle" "uuid = \"${U}01\""
write_cfg "$WORK/two.cfg" two "app=idle" "uuid = \"${U}02\"" "vcpus = 2"
start_bg one "$WORK/one.cfg"; P1=$LAST_PID
start_bg two "$WORK/two.cfg"; P2=$LAST_PID
if ! wait_for 150 has_domid one || ! wait_for 150 has_domid two; then
    fail two_domains "did not both start: $(cat "$WORK/one.err" "$WORK/two.err" | head -c 600)"
    finish
fi
D1=$(domid_of one) D2=$(domid_of two)
[ "$D1" != "$D2" ] && [ $((D1 + D2)) = 3 ] && pass distinct_domids || fail distinct_domids "one=$D1 two=$D2"

xs ls /local/domain > "$WORK/debian-ls" 2>&1
grep -q 'name = "one"' "$WORK/debian-ls" && grep -q 'name = "two"' "$WORK/debian-ls" &&
    pass debian_xenstore_ls || fail debian_xenstore_ls "$(head -c 600 "$WORK/debian-ls")"
if [ -x "$TANDEM_BIN/xenstore-ls" ]; then
    XENSTORED_PATH=$TANDEM_RUNDIR/xenstored/socket "$TANDEM_BIN/xenstore-ls" /vm > "$WORK/our-ls" 2>&1
    grep -q "${U}01" "$WORK/our-ls" && grep -q "${U}02" "$WORK/our-ls" &&
        pass our_xenstore_ls_vm || fail our_xenstore_ls_vm "$(head -c 600 "$WORK/our-ls")"
fi
"$TANDEM" list > "$WORK/list"
grep -qE "^one +$D1 +32 +1 " "$WORK/list" && grep -qE "^two +$D2 +32 +2 " "$WORK/list" &&
    pass tandem_list || fail tandem_list "$(cat "$WORK/list")"

"$TANDEM" pause two && "$TANDEM" list two | grep -qE "^two .* --p--- " &&
    "$TANDEM" unpause two && "$TANDEM" list two | grep -qE "^two .* r----- " &&
    pass pause_unpause || fail pause_unpause "$("$TANDEM" list two 2>&1)"

# The guest acts on control/shutdown once its xenstore client watches it.
wait_for 150 file_has "$WORK/one.out" "idle: (waiting for|.*sleeping until destroyed)"
file_has "$WORK/one.out" "idle: waiting for" ||
    fail idle_ready "the guest could not use xenstore: $(grep -E 'xenstore|idle:' "$WORK/one.out" | tr '\n' '|')"
"$TANDEM" shutdown one
"$TANDEM" destroy two
wait_rc "$P1" 300; R1=$RC
wait_rc "$P2" 300; R2=$RC
[ "$R1" = 0 ] && pass shutdown_one_0 || fail shutdown_one_0 "status $R1: $(tail -n 5 "$WORK/one.err")"
[ "$R2" = 8 ] && pass destroy_two_8 || fail destroy_two_8 "status $R2: $(tail -n 5 "$WORK/two.err")"
why=$(nothing_left "$D1" "${U}01") && why=$(nothing_left "$D2" "${U}02") &&
    pass nothing_left || fail nothing_left "$why"
finish

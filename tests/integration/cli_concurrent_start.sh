#!/bin/bash
# Three `tandem run`s started at the same moment in an empty run directory:
# exactly one xenstored gets started, the domains get domids 1, 2, 3, and
# all of them end cleanly. Uses the fake VMM (no KVM needed).
. "$(dirname "$0")/cli_lib.bash"
need_tandem
need_file "$TANDEM_BIN/xenstored"
export TANDEM_VMM=$WORK/fake-vmm FAKE_VMM_LOG=$WORK/vmm.log
cp "$(dirname "$0")/cli_fake_vmm.py" "$TANDEM_VMM"
chmod +x "$TANDEM_VMM"
KERNEL=$WORK/kernel.elf
: > "$KERNEL"
has_domid() { "$TANDEM" domid "$1" >/dev/null 2>&1; }

for n in 1 2 3; do write_cfg "$WORK/c$n.cfg" "c$n" "app=idle"; done
for n in 1 2 3; do start_bg "c$n" "$WORK/c$n.cfg"; eval "P$n=\$LAST_PID"; done
ok=1
for n in 1 2 3; do wait_for 100 has_domid "c$n" || ok=0; done
ids=$(for n in 1 2 3; do "$TANDEM" domid "c$n" 2>/dev/null; done | sort -n | tr '\n' ' ')
[ $ok = 1 ] && [ "$ids" = "1 2 3 " ] && pass distinct_domids || fail distinct_domids "got '$ids'"
n_xsd=$(pgrep -fc -- "xenstored --foreground --socket $TANDEM_RUNDIR/xenstored/socket")
[ "$n_xsd" = 1 ] && pass one_xenstored || fail one_xenstored "$n_xsd daemons running"
"$TANDEM" shutdown -a
for n in 1 2 3; do
    eval "p=\$P$n"
    wait_rc "$p" 100
    [ "$RC" = 0 ] || fail "c${n}_status" "status $RC: $(cat "$WORK/c$n.err")"
done
left=$(ls "$TANDEM_RUNDIR" | grep -E '^dom[0-9]+\.(ctl|lock)$')
[ -z "$left" ] && pass run_dir_clean || fail run_dir_clean "$left"
finish

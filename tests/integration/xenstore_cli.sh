#!/bin/bash
# Our xenstore command (build/bin/xenstore and its xenstore-* links)
# against our xenstored: every mode and option, with the outputs of Xen
# 4.17's xenstore-utils.
set -u
. "$(dirname "$0")/../compat/xenstore_daemon.inc"
xsd_start
X=$TANDEM_BIN
T=/itest

# run NAME: stdout+stderr and exit status of a command, program names cut.
run() { "$@" 2>&1 | sed "s|$X/||g"; return "${PIPESTATUS[0]}"; }

# write / read
$X/xenstore-write $T/a hello $T/b 'tab\there' $T/c/d 1
check "write-read" "hello" "$(run $X/xenstore-read $T/a)"
check "read-multi" "$(printf 'hello\ntab\\there')" "$(run $X/xenstore-read $T/a $T/b)"
check "read-prefix" "$T/a: hello" "$(run $X/xenstore-read -p $T/a)"
check "read-escaped" 'tab\there' "$(run $X/xenstore-read $T/b)"
check "read-raw" "$(printf 'tab\there' | od -c)" "$($X/xenstore-read -R $T/b | od -c)"
check "read-parent-empty" "" "$(run $X/xenstore-read $T/c)"
out=$(run $X/xenstore-read $T/missing); rc=$?
check "read-missing" "xenstore-read: couldn't read path $T/missing rc=1" "$out rc=$rc"
$X/xenstore-write -R $T/raw 'a\tb'
check "write-raw" 'a\\tb' "$(run $X/xenstore-read $T/raw)"
$X/xenstore-write $T/bin '\001\x7f\\'
check "write-escapes" "$(printf '\001\177\\' | od -c)" "$($X/xenstore-read -R $T/bin | od -c)"

# multi-call form is the same program
check "multicall-read" "hello" "$(run $X/xenstore read $T/a)"

# exists
$X/xenstore-exists $T/a; check "exists-present" 0 $?
$X/xenstore-exists $T/missing; check "exists-absent" 1 $?

# list
check "list" "$(printf 'a\nb\nbin\nc\nraw')" "$(run $X/xenstore-list $T | sort)"
check "list-prefix" "$T/c/d" "$(run $X/xenstore-list -p $T/c)"
out=$(run $X/xenstore-list $T/missing); rc=$?
check "list-missing" "xenstore-list: could not list path $T/missing rc=1" "$out rc=$rc"

# ls: layout of a known subtree
$X/xenstore-rm $T
$X/xenstore-write $T/a 1 $T/a/b 2 $T/c ''
check "ls" "$(printf 'a = "1"\n b = "2"\nc = ""')" "$(run $X/xenstore-ls $T)"
check "ls-full" "$(printf '%s/a = "1"\n%s/a/b = "2"\n%s/c = ""' $T $T $T)" "$(run $X/xenstore-ls -f $T)"
long=$(printf 'x%.0s' $(seq 100))
$X/xenstore-write $T/long "$long"
# 80 columns when not a terminal: name (4) + cut value + ` = "...\..."`
check "ls-cut" "long = \"$(printf 'x%.0s' $(seq 68))\\...\"" "$(run $X/xenstore-ls $T | grep long)"
$X/xenstore-rm $T/long

# chmod and ls -p
$X/xenstore-chmod $T/a n0 r5
check "chmod" 'b = "2"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)' \
    "$(run $X/xenstore-ls -p $T/a)"
# Dots from column 8 to the permission column 60, on odd columns.
check "ls-perms" 'a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)' \
    "$(run $X/xenstore-ls -p $T | head -n 1)"
$X/xenstore-chmod -r $T/a b7
check "chmod-recurse" "$(printf '%s\n%s' \
    'a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (b7)' \
    ' b = "2" . . . . . . . . . . . . . . . . . . . . . . . . . .  (b7)')" \
    "$(run $X/xenstore-ls -p $T | head -n 2)"
$X/xenstore-chmod -u $T/a/b w3
check "chmod-upto" "(w3) (w3) (w3)" "$(for p in $T/a/b $T/a $T; do
    run $X/xenstore-ls -p "$(dirname $p)" | grep "^ *$(basename $p) =" | grep -o '([^)]*)'; done | tr '\n' ' ' | sed 's/ $//')"
$X/xenstore-chmod -u $T n0
out=$(run $X/xenstore-chmod $T/a x1); rc=$?
check "chmod-bad-perm" "xenstore-chmod: Invalid permission specification: 'x' rc=1" "$out rc=$rc"

# rm, rm -t
$X/xenstore-rm $T/a/b
$X/xenstore-exists $T/a/b; check "rm" 1 $?
$X/xenstore-write $T/deep/x/y/z 1
$X/xenstore-write $T/deep/keep 1
$X/xenstore-rm -t $T/deep/x/y/z
check "rm-tidy" "keep" "$(run $X/xenstore-list $T/deep)"
out=$(run $X/xenstore-rm $T/nope/deeper); rc=$?
check "rm-missing-parent" "xenstore-rm: could not remove path $T/nope/deeper rc=1" "$out rc=$rc"

# watch: the first event is the watch itself, then each change
w=$XSD_DIR/watch.out
$X/xenstore-write $T/w ''
timeout 30 $X/xenstore-watch -n 3 $T/w > "$w" &
wpid=$!
XS_CLEANUP+=("kill $wpid 2>/dev/null")
if xs_wait_lines "$w" 1 10; then
    $X/xenstore-write $T/w/x 1
    xs_wait_lines "$w" 2 10 && $X/xenstore-rm $T/w
    wait $wpid; rc=$?
    check "watch" "$(printf '%s\n%s/x\n%s' $T/w $T/w $T/w) rc=0" "$(cat "$w") rc=$rc"
else
    fail "watch" "no initial event within 10 s"
fi

# usage and connection errors
out=$(run $X/xenstore-read); rc=$?
check "usage-read" "xenstore-read: Usage: xenstore-read [-h] [-p] [-s] [-R] key [...] rc=1" "$out rc=$rc"
out=$(run $X/xenstore-write $T/a); rc=$?
check "usage-write-odd" "xenstore-write: Usage: xenstore-write [-h] [-s] [-R] key value [...] rc=1" "$out rc=$rc"
out=$(run $X/xenstore ls -t); rc=$?
check "usage-ls-t" "xenstore: Usage: xenstore ls [-h] [-f] [-p] [-s] [path] rc=1" "$out rc=$rc"
out=$(run $X/xenstore frob); rc=$?
check "unknown-mode" "$(printf 'xenstore: unknown mode frob\n') rc=1" "$out rc=$rc"
out=$(XENSTORED_PATH=$XSD_DIR/nonexistent run $X/xenstore-read $T/a); rc=$?
check "no-daemon" "xenstore-read: xs_open: No such file or directory rc=1" "$out rc=$rc"

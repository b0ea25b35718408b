#!/bin/bash
# `tandem run` with bad configurations: a one-line "file:line: message" on
# stderr, exit status 2, and nothing started (no xenstored, no domain, no
# file in the run directory). Needs no KVM: the checks come first.
. "$(dirname "$0")/cli_lib.bash"
need_tandem

FAKE_KERNEL=$WORK/kernel.elf
printf '\177ELF' > "$FAKE_KERNEL"   # only read by the VMM, which never starts here

# check NAME EXPECTED-STDERR-REGEX CONFIG-TEXT [overrides...]
check() {
    local name=$1 want=$2 text=$3
    shift 3
    local cfg=$WORK/$name.cfg
    printf '%s' "$text" > "$cfg"
    "$TANDEM" run "$cfg" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
    local rc=$? lines
    lines=$(wc -l < "$WORK/err")
    if [ "$rc" != 2 ]; then
        fail "$name" "exit status $rc, expected 2 (stderr: $(head -c 300 "$WORK/err"))"
    elif [ "$lines" != 1 ]; then
        fail "$name" "expected one line on stderr, got $lines: $(head -c 300 "$WORK/err")"
    elif ! grep -qE -- "$want" "$WORK/err"; then
        fail "$name" "stderr '$(cat "$WORK/err")' does not match '$want'"
    elif [ -n "$(ls -A "$TANDEM_RUNDIR")" ]; then
        fail "$name" "something was started: $(ls -A "$TANDEM_RUNDIR")"
    else
        pass "$name"
    fi
}

good="name = \"g\"
kernel = \"$FAKE_KERNEL\"
"
check unknown_key "^tandem: .*/unknown_key\.cfg:4: unknown key 'memroy'\$" \
    "name = \"g\"
kernel = \"$FAKE_KERNEL\"
# a comment
memroy = 64
"
check missing_equals "missing_equals\.cfg:4: expected '=' after 'vcpus'\$" \
    "$good
vcpus 2
"
check unterminated_string "unterminated_string\.cfg:3: unterminated string\$" \
    "${good}cmdline = \"app=hello
"
check unterminated_list "unterminated_list\.cfg:3: unterminated list \(missing ']'\)\$" \
    "${good}disk = [ 'a',
  'b'
"
check bare_value "bare_value\.cfg:1: value of 'name' must be quoted, a number or a list\$" \
    "name = hello
kernel = \"$FAKE_KERNEL\"
"
check duplicate_key "duplicate_key\.cfg:3: duplicate key 'name' \(first set at line 1\)\$" \
    "${good}name = \"h\"
"
check memory_zero "memory_zero\.cfg:3: memory must be at least 1 \(MiB\), not 0\$" \
    "${good}memory = 0
"
check memory_too_big "memory_too_big\.cfg:3: memory 1048576 MiB is above the limit of 3072 MiB\$" \
    "${good}memory = 1048576
"
check vcpus_zero "vcpus_zero\.cfg:3: vcpus must be between 1 and 1024, not 0\$" \
    "${good}vcpus = 0
"
check missing_kernel_key "missing_kernel_key\.cfg: missing 'kernel' \(the guest ELF\)\$" \
    "name = \"g\"
"
check missing_kernel_file "missing_kernel_file\.cfg:2: kernel '/nonexistent/guest\.elf': No such file or directory\$" \
    "name = \"g\"
kernel = \"/nonexistent/guest.elf\"
"
check kernel_is_dir "kernel_is_dir\.cfg:2: kernel '/tmp': not a regular file\$" \
    "name = \"g\"
kernel = \"/tmp\"
"
check bad_action "bad_action\.cfg:3: on_crash must be 'destroy' or 'restart', not 'explode'\$" \
    "${good}on_crash = \"explode\"
"
check bad_type "bad_type\.cfg:3: type 'hvm' is not supported yet \(only 'pvh'\)\$" \
    "${good}type = \"hvm\"
"
check override_unknown "^tandem: command line: 'memroy=5': unknown key 'memroy'\$" \
    "$good" memroy=5
check override_bad_value "^tandem: command line: 'memory=0': memory must be at least 1 \(MiB\), not 0\$" \
    "$good" memory=0

# A file that does not exist at all.
"$TANDEM" run "$WORK/none.cfg" > /dev/null 2> "$WORK/err"
rc=$?
if [ $rc = 2 ] && grep -qE "none\.cfg: No such file or directory$" "$WORK/err"; then
    pass missing_config_file
else
    fail missing_config_file "rc=$rc stderr=$(cat "$WORK/err")"
fi

# -n checks and prints the configuration, overrides applied, starting nothing.
printf '%s' "$good" > "$WORK/dry.cfg"
if "$TANDEM" run -n "$WORK/dry.cfg" memory=48 'cmdline="app=idle"' > "$WORK/out" 2> "$WORK/err" &&
   grep -qx 'memory = 48' "$WORK/out" && grep -qx 'cmdline = "app=idle"' "$WORK/out" &&
   grep -qx 'on_reboot = "restart"' "$WORK/out" && [ -z "$(ls -A "$TANDEM_RUNDIR")" ]; then
    pass dry_run_overrides
else
    fail dry_run_overrides "$(cat "$WORK/out" "$WORK/err")"
fi

# Usage errors are status 2 too.
"$TANDEM" frobnicate > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass unknown_verb || fail unknown_verb "exit status $rc"
"$TANDEM" run > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass run_without_config || fail run_without_config "exit status $rc"
finish

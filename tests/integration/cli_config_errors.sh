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
check unknown_key "^tandem: .*/unknown_key\.cfg:4: unknown key 'memroy' \(did you mean 'memory'\?\)\$" \
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
check bad_action "bad_action\.cfg:3: on_crash must be destroy, restart, preserve or rename-restart, not 'explode'\$" \
    "${good}on_crash = \"explode\"
"
check bad_type "bad_type\.cfg:3: type 'pv' is not supported \(Tandem boots PV kernels as 'pvh'\)\$" \
    "${good}type = \"pv\"
"
check hvm_ramdisk_no_kernel "hvm_ramdisk_no_kernel\.cfg:3: ramdisk: is for a kernel booted directly \(kernel = \.\.\.\); the firmware boots from the disk\$" \
    "name = \"pc\"
type = \"hvm\"
ramdisk = \"/boot/initrd.img\"
"
check hvm_firmware_missing "hvm_firmware_missing\.cfg:3: firmware '.*/nosuch\.rom': No such file or directory\$" \
    "name = \"pc\"
type = \"hvm\"
firmware = \"nosuch.rom\"
"
check firmware_pvh "firmware_pvh\.cfg:3: firmware is for type = \"hvm\"\$" \
    "${good}firmware = \"seabios\"
"
check override_unknown "^tandem: command line: 'memroy=5': unknown key 'memroy' \(did you mean 'memory'\?\)\$" \
    "$good" memroy=5
check override_bad_value "^tandem: command line: 'memory=0': memory must be at least 1 \(MiB\), not 0\$" \
    "$good" memory=0

check missing_ramdisk "missing_ramdisk\.cfg:3: ramdisk '/nonexistent/initrd': No such file or directory\$" \
    "${good}ramdisk = '/nonexistent/initrd'
"
check ramdisk_directory "ramdisk_directory\.cfg:3: ramdisk '$WORK': not a regular file\$" \
    "${good}ramdisk = '$WORK'
"
check maxmem_below "maxmem_below\.cfg:4: maxmem 32 MiB is less than memory 64 MiB\$" \
    "${good}memory = 64
maxmem = 32
"
# A newline (escaped in the file) and an escape sequence (a raw ESC byte)
# in values come back escaped, on one line.
check newline_escaped "newline_escaped\.cfg:3: uuid 'a\\\\nb' is not of the form" \
    "${good}uuid = 'a\\nb'
"
check newline_override_escaped "^tandem: command line: 'cmdline=\"a\\\\nb\"' contains a newline\$" \
    "$good" "cmdline=\"a
b\""
check control_escaped "control_escaped\.cfg:3: unknown type 'x\\\\x1b\\[2J' \('pvh' or 'hvm'\)\$" \
    "${good}type = 'x$(printf '\033')[2J'
"

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

# What -n prints parses back to the same configuration: printing it again
# gives the same text, a list is one key, control characters are escaped.
truncate -s 8192 "$WORK/a.img" "$WORK/b.img"
cat > "$WORK/rt.cfg" <<EOF
name = "rt"
kernel = "$FAKE_KERNEL"
cmdline = 'app=hello msg="a\tb"\nnext\x1b[0m'
disk = [ '$WORK/a.img,raw,xvda,r',
         'file:$WORK/b.img,xvdb,w' ]
vif = [ 'mac=00:16:3e:00:00:01', "bridge=br0" ]
on_crash = "preserve"
EOF
if "$TANDEM" run -n "$WORK/rt.cfg" > "$WORK/rt1.cfg" 2> "$WORK/err" &&
   "$TANDEM" run -n "$WORK/rt1.cfg" > "$WORK/rt2.cfg" 2>> "$WORK/err" &&
   cmp -s "$WORK/rt1.cfg" "$WORK/rt2.cfg" && [ "$(grep -c '^disk = ' "$WORK/rt1.cfg")" = 1 ] &&
   grep -qF 'cmdline = "app=hello msg=\"a\tb\"\nnext\x1b[0m"' "$WORK/rt1.cfg" &&
   ! grep -q "$(printf '\033')" "$WORK/rt1.cfg" && [ -z "$(ls -A "$TANDEM_RUNDIR")" ]; then
    pass dry_run_round_trip
else
    fail dry_run_round_trip "$(cat "$WORK/err" "$WORK/rt1.cfg"; diff "$WORK/rt1.cfg" "$WORK/rt2.cfg")"
fi

# Usage errors are status 2 too.
"$TANDEM" frobnicate > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass unknown_verb || fail unknown_verb "exit status $rc"
"$TANDEM" run > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass run_without_config || fail run_without_config "exit status $rc"
finish

#!/bin/bash
# Bad input: each case exits with status 2 and exactly one line on stderr,
# and no VM is created (the run directory, made only after the VM exists,
# stays absent).
. "$(dirname "$0")/../../hypervisor/tests/testlib.sh"
GUEST=$GUESTDIR/tandem-guest.elf
printf 'this is not an ELF file\n' > "$TMP/text"
: > "$TMP/empty"

case_() { # name expected-regex args...
    local name=$1 re=$2
    shift 2
    run_vmm "$name" 20 "$@"
    local lines
    lines=$(wc -l < "$TMP/$name.err")
    if [ "$RC" != 2 ]; then
        fail "$name" "exit status $RC, expected 2"
    elif [ "$lines" != 1 ]; then
        fail "$name" "$lines lines on stderr, expected 1"
    elif ! grep -qE "$re" "$TMP/$name.err"; then
        fail "$name" "message '$(cat "$TMP/$name.err")' does not match '$re'"
    elif [ -e "$TMP/run-$name" ]; then
        fail "$name" "a VM was created (run directory exists)"
    else
        pass "$name"
    fi
}

case_ vmm_bad_not_elf 'not an ELF' --kernel "$TMP/text"
case_ vmm_bad_empty 'size 0' --kernel "$TMP/empty"
case_ vmm_bad_no_note 'no PVH entry note' --kernel "$GUESTDIR/vmm-test-nonote.elf"
case_ vmm_bad_missing_kernel 'No such file' --kernel "$TMP/does-not-exist"
case_ vmm_bad_no_kernel 'missing --kernel'
case_ vmm_bad_directory 'not a regular file' --kernel "$TMP"
case_ vmm_bad_memory_zero 'memory' --kernel "$GUEST" --memory 0
case_ vmm_bad_memory_huge 'memory' --kernel "$GUEST" --memory 4096
case_ vmm_bad_memory_junk 'memory' --kernel "$GUEST" --memory 12abc
case_ vmm_bad_vcpus 'vcpus' --kernel "$GUEST" --vcpus 0
case_ vmm_bad_grant_frames_zero 'grant-frames' --kernel "$GUEST" --grant-frames 0
case_ vmm_bad_grant_frames_big 'grant-frames' --kernel "$GUEST" --grant-frames 65
case_ vmm_bad_console 'console' --kernel "$GUEST" --console tty
case_ vmm_bad_cpu_mode 'cpu-mode' --kernel "$GUEST" --cpu-mode fast
case_ vmm_bad_uuid 'uuid' --kernel "$GUEST" --uuid not-a-uuid
case_ vmm_bad_option 'bad option' --kernel "$GUEST" --frobnicate
case_ vmm_bad_tiny_memory 'does not fit' --kernel "$GUEST" --memory 1

# Larger than the host: only testable when the host has less than the
# 3 GiB guest maximum.
host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
if [ "$host_mib" -lt 3072 ]; then
    case_ vmm_bad_memory_host 'larger than the host' --kernel "$GUEST" --memory $((host_mib + 1))
else
    skip vmm_bad_memory_host "host has ${host_mib} MiB, more than the 3072 MiB guest maximum"
fi
exit 0

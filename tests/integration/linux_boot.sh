#!/bin/bash
# tandem-test: guest kvm-xen (boots Linux: KVM with Xen support; in the test machine where the host has none)
# tandem-test-vm-seconds: 310 (in the test machine; tests/run.sh shares files out by it)
# Debian's own kernel (its bzImage, untouched) boots on Tandem as a PVH guest
# with an initramfs of Debian's busybox and modules (docs/linux-guests.md):
# Linux sees Xen (/sys/hypervisor/type), both vCPUs, its memory, hvc0 as its
# console; `poweroff` in the guest ends the domain as a poweroff (ACPI S5).
# Then the lifecycle through xenbus: `tandem shutdown` powers it off,
# `tandem reboot` reboots it (on_reboot = "destroy": the run ends with
# reboot), and a crash (sysrq c) follows on_crash.
. "$(dirname "$0")/linux_lib.bash"
need_linux

linux_boot boot "lt.run=boot" 'on_poweroff = "destroy"'
if [ $RC = 0 ] && has_lt boot done; then
    pass boots_to_userspace_and_powers_off
else
    fail boots_to_userspace_and_powers_off "status $RC: $(lshow boot)"
fi
[ "$(lt boot hypervisor)" = xen ] && pass sees_xen || fail sees_xen "hypervisor '$(lt boot hypervisor)'"
[ "$(lt boot cpus)" = 2 ] && pass sees_two_vcpus || fail sees_two_vcpus "cpus '$(lt boot cpus)'"
[ "$(lt boot kernel)" = "$(basename "$LINUX_KERNEL" | sed 's/^vmlinuz-//')" ] &&
    pass runs_debians_kernel || fail runs_debians_kernel "kernel '$(lt boot kernel)'"
[ "$(lt boot console)" = hvc0 ] && pass console_is_hvc0 || fail console_is_hvc0 "console '$(lt boot console)'"
mem=$(lt boot memory_kib)
# 256 MiB less what the kernel keeps for itself: between 200 and 256 MiB.
[ -n "$mem" ] && [ "$mem" -gt 204800 ] && [ "$mem" -le 262144 ] &&
    pass sees_its_memory || fail sees_its_memory "MemTotal '$mem' kB"
# What Linux asked for and did not get is in the VMM's log, once each.
if grep -q "hypercall .* is not implemented" "$WORK/boot.err" &&
   [ "$(grep -c 'hypercall 21 (vm_assist) op 0 is not implemented' "$WORK/boot.err")" -le 1 ]; then
    pass unimplemented_hypercalls_logged_once
else
    fail unimplemented_hypercalls_logged_once "$(grep -c 'not implemented' "$WORK/boot.err") lines"
fi

# xenbus control/shutdown: poweroff, reboot.
for what in shutdown reboot; do
    linux_start "$what" "lt.run=wait" 'on_poweroff = "destroy"' 'on_reboot = "destroy"'
    pid=$LAST_PID
    if wait_for $((900 * $(emulation_factor))) has_lt "$what" ready; then
        "$TANDEM" "$what" "$what" > "$WORK/$what.cmd" 2>&1
        wait_rc "$pid" $((600 * $(emulation_factor)))
        # poweroff: status 0, Linux's "Power down"; reboot: status 3, "ended: reboot".
        if [ "$what" = shutdown ]; then
            want=0 said="reboot: Power down" file=$WORK/$what.out
        else
            want=3 said="ended: reboot" file=$WORK/$what.err
        fi
        if [ "$RC" = "$want" ] && grep -q "$said" "$file"; then
            pass "tandem_${what}_reaches_linux"
        else
            fail "tandem_${what}_reaches_linux" "status $RC (want $want): $(lshow "$what") $(cat "$WORK/$what.cmd")"
        fi
    else
        fail "tandem_${what}_reaches_linux" "the guest never got ready: $(lshow "$what")"
    fi
done

# A crash follows on_crash (destroy: the run ends with crash, status 5).
linux_boot crash "lt.run=crash" 'on_crash = "destroy"'
if [ $RC = 5 ] && grep -q "Kernel panic" "$WORK/crash.out" && grep -q "ended: crash" "$WORK/crash.err"; then
    pass crash_follows_on_crash
else
    fail crash_follows_on_crash "status $RC: $(lshow crash)"
fi
finish

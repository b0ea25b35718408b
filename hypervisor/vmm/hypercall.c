/*
 * Hypercall dispatch, independent of how the call trapped (port 0xB0 today,
 * KVM_EXIT_XEN on hosts that have it): Xen's numbers, arguments rdi, rsi,
 * rdx, r10, r8, result in rax. Unknown numbers return -ENOSYS and are
 * counted; nothing a guest passes can abort the VMM.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "hypercall.h"
#include "vmm.h"

static hypercall_fn *const table[VMM_NR_HYPERCALLS] = {
    [__HYPERVISOR_console_io] = hc_console_io,
    [__HYPERVISOR_xen_version] = hc_xen_version,
    [__HYPERVISOR_sched_op] = hc_sched_op,
    [__HYPERVISOR_set_timer_op] = hc_set_timer_op,
    [__HYPERVISOR_vcpu_op] = hc_vcpu_op,
    [__HYPERVISOR_memory_op] = hc_memory_op,
    [__HYPERVISOR_hvm_op] = hc_hvm_op,
    [__HYPERVISOR_event_channel_op] = hc_event_channel_op,
    [__HYPERVISOR_grant_table_op] = hc_grant_table_op,
};

static const char *const names[VMM_NR_HYPERCALLS] = {
    [__HYPERVISOR_set_trap_table] = "set_trap_table", [__HYPERVISOR_mmu_update] = "mmu_update",
    [__HYPERVISOR_console_io] = "console_io", [__HYPERVISOR_xen_version] = "xen_version",
    [__HYPERVISOR_sched_op] = "sched_op", [__HYPERVISOR_set_timer_op] = "set_timer_op",
    [__HYPERVISOR_vcpu_op] = "vcpu_op", [__HYPERVISOR_memory_op] = "memory_op",
    [__HYPERVISOR_hvm_op] = "hvm_op", [__HYPERVISOR_event_channel_op] = "event_channel_op",
    [__HYPERVISOR_grant_table_op] = "grant_table_op", [__HYPERVISOR_multicall] = "multicall",
    [__HYPERVISOR_vm_assist] = "vm_assist", [__HYPERVISOR_platform_op] = "platform_op",
    [__HYPERVISOR_physdev_op] = "physdev_op", [__HYPERVISOR_xsm_op] = "xsm_op",
    [__HYPERVISOR_sysctl] = "sysctl", [__HYPERVISOR_domctl] = "domctl",
    [__HYPERVISOR_dm_op] = "dm_op", [__HYPERVISOR_hypfs_op] = "hypfs_op",
};

/* Which (hypercall, sub-operation) pairs have been reported (sub-ops
 * 0..63; larger ones share one bit). */
static _Atomic uint64_t reported[VMM_NR_HYPERCALLS];

/* -ENOSYS goes to the VMM's log (`tandem dmesg`) once per hypercall and
 * sub-operation, with its numbers: what a guest missed is visible. */
static void report_unimplemented(struct vcpu *v, unsigned int nr, uint64_t sub)
{
    unsigned int slot = nr < VMM_NR_HYPERCALLS ? nr : 0;
    uint64_t bit = 1ULL << (sub < 63 ? sub : 63);
    if (atomic_fetch_or(&reported[slot], bit) & bit)
        return;
    const char *name = nr < VMM_NR_HYPERCALLS && names[nr] ? names[nr] : "?";
    fprintf(stderr, "tandem-vmm: vCPU %d: hypercall %u (%s) op %llu is not implemented: -ENOSYS "
            "(reported once)\n", v->id, nr, name, (unsigned long long)sub);
}

long hypercall_dispatch(struct vcpu *v, unsigned int nr, const uint64_t args[5])
{
    if (nr >= VMM_NR_HYPERCALLS || !table[nr]) {
        v->unknown_hypercalls++;
        report_unimplemented(v, nr, args[0]);
        return -ENOSYS;
    }
    v->hypercalls[nr]++;
    long r = table[nr](v, args);
    if (r == -ENOSYS)
        report_unimplemented(v, nr, args[0]);
    return r;
}

int is_self_domid(struct vcpu *v, uint64_t domid)
{
    return domid == DOMID_SELF || domid == v->vm->cfg->domid;
}

/* Slot n: mov $n, %eax ; out %eax, $0xb0 ; ret ; the rest int3. */
void hypercall_page_fill(uint8_t *page)
{
    memset(page, 0xcc, XEN_PAGE_SIZE);
    for (uint32_t n = 0; n < XEN_HYPERCALL_NR_SLOTS; n++) {
        uint8_t *s = page + n * XEN_HYPERCALL_SLOT_SIZE;
        s[0] = 0xb8;
        memcpy(s + 1, &n, 4);
        s[5] = 0xe7;
        s[6] = TANDEM_HYPERCALL_PORT;
        s[7] = 0xc3;
    }
}

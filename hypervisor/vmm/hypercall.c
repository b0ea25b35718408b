/*
 * Hypercall dispatch, independent of how the call trapped (port 0xB0 today,
 * KVM_EXIT_XEN on hosts that have it): Xen's numbers, arguments rdi, rsi,
 * rdx, r10, r8, result in rax. Unknown numbers return -ENOSYS and are
 * counted; nothing a guest passes can abort the VMM.
 */
#include <errno.h>
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

long hypercall_dispatch(struct vcpu *v, unsigned int nr, const uint64_t args[5])
{
    if (nr >= VMM_NR_HYPERCALLS || !table[nr]) {
        v->unknown_hypercalls++;
        return -ENOSYS;
    }
    v->hypercalls[nr]++;
    return table[nr](v, args);
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

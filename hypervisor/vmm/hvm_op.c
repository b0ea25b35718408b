/* hvm_op: the parameters a PVH guest reads or sets, per-vCPU upcall vectors, time. */
#include <errno.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/hvm/params.h"
#include "vmm.h"

static long get_param(struct vm *vm, uint32_t index, uint64_t *value)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
        *value = vm->callback_irq;
        return 0;
    case HVM_PARAM_STORE_PFN:
        *value = TANDEM_XENSTORE_RING_GPA >> XEN_PAGE_SHIFT;
        return 0;
    case HVM_PARAM_STORE_EVTCHN:
        *value = TANDEM_XENSTORE_PORT;
        return 0;
    case HVM_PARAM_CONSOLE_PFN:
        *value = TANDEM_CONSOLE_RING_GPA >> XEN_PAGE_SHIFT;
        return 0;
    case HVM_PARAM_CONSOLE_EVTCHN:
        *value = TANDEM_CONSOLE_PORT;
        return 0;
    }
    return -EINVAL;
}

/* Only the callback is the guest's to choose; the ring parameters are
 * fixed. A vector callback is delivered; a GSI or PCI INTx callback is
 * accepted and kept (Linux sets GSI 1 "to look enlightened" once it has
 * per-vCPU upcall vectors) but has no line to raise: a PVH domain has no
 * I/O APIC, so events then reach only vCPUs with an upcall vector. */
static long set_param(struct vm *vm, uint32_t index, uint64_t value)
{
    if (index != HVM_PARAM_CALLBACK_IRQ)
        return index < HVM_NR_PARAMS ? -EPERM : -EINVAL;
    unsigned int type = (unsigned int)(value >> HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT);
    uint8_t vec = 0;
    if (type == HVM_PARAM_CALLBACK_TYPE_VECTOR) {
        vec = (uint8_t)value;
        if (vec < 0x20 || (value & ~(HVM_PARAM_CALLBACK_IRQ_TYPE_MASK | 0xff)))
            return -EINVAL;
    } else if (type != HVM_PARAM_CALLBACK_TYPE_GSI && type != HVM_PARAM_CALLBACK_TYPE_PCI_INTX) {
        return -EINVAL;
    }
    pthread_mutex_lock(&vm->lock);
    vm->callback_irq = value;
    vm->callback_vector = vec;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        evtchn_kick_vcpu(vm, &vm->vcpus[i]);
    evtchn_irq_routes_update(vm);
    pthread_mutex_unlock(&vm->lock);
    return 0;
}

static long param_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
    struct xen_hvm_param p;
    if (copy_from_guest(v->vm, &p, arg, sizeof(p)))
        return -EFAULT;
    if (!is_self_domid(v, p.domid))
        return -ESRCH;
    if (cmd == HVMOP_set_param)
        return set_param(v->vm, p.index, p.value);
    long r = get_param(v->vm, p.index, &p.value);
    if (r)
        return r;
    return copy_to_guest(v->vm, arg, &p, sizeof(p)) ? -EFAULT : 0;
}

static long upcall_vector(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_evtchn_upcall_vector u;
    if (copy_from_guest(v->vm, &u, arg, sizeof(u)))
        return -EFAULT;
    if (u.vcpu >= v->vm->nr_vcpus || u.vector < 0x20)
        return -EINVAL;
    pthread_mutex_lock(&v->vm->lock);
    v->vm->vcpus[u.vcpu].upcall_vector = u.vector;
    evtchn_kick_vcpu(v->vm, &v->vm->vcpus[u.vcpu]);
    evtchn_irq_routes_update(v->vm);
    pthread_mutex_unlock(&v->vm->lock);
    return 0;
}

long hc_hvm_op(struct vcpu *v, const uint64_t a[5])
{
    switch (a[0]) {
    case HVMOP_set_param:
    case HVMOP_get_param:
        return param_op(v, a[0], a[1]);
    case HVMOP_set_evtchn_upcall_vector:
        return upcall_vector(v, a[1]);
    case HVMOP_get_time: {
        struct xen_hvm_get_time t = { pvclock_now(v->vm) };
        return copy_to_guest(v->vm, a[1], &t, sizeof(t)) ? -EFAULT : 0;
    }
    }
    return -ENOSYS;
}

/*
 * vcpu_op: vcpu_info placement, timers and secondary vCPU bring-up
 * (VCPUOP_initialise takes struct tandem_vcpu_context, docs/abi.md).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/vcpu.h"
#include "vmm.h"

#define MIN_PERIOD_NS 1000000ULL /* Xen refuses periods under 1 ms */

static long register_vcpu_info(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct vcpu_register_vcpu_info r;
    if (copy_from_guest(vm, &r, arg, sizeof(r)))
        return -EFAULT;
    if (r.offset > XEN_PAGE_SIZE - sizeof(struct vcpu_info) || r.mfn >= (1ULL << 52))
        return -EINVAL;
    uint64_t gpa = (r.mfn << XEN_PAGE_SHIFT) + r.offset;
    struct vcpu_info *dst = gpa_to_host(vm, gpa, sizeof(*dst), true);
    if (!dst)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    struct vcpu_info *old = vcpu_info_ptr(vm, t);
    if (old && old != dst)
        memcpy(dst, old, sizeof(*dst));
    else if (!old)
        memset(dst, 0, sizeof(*dst));
    t->vcpu_info_gpa = gpa;
    pvclock_update_vcpu(vm, t);
    /* as Xen: everything may be pending, make the guest rescan */
    __atomic_store_n(&dst->evtchn_pending_sel, ~0UL, __ATOMIC_SEQ_CST);
    __atomic_store_n(&dst->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    evtchn_kick_vcpu(vm, t);
    pthread_mutex_unlock(&vm->lock);
    return 0;
}

static long initialise(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    struct tandem_vcpu_context c;
    if (copy_from_guest(v->vm, &c, arg, sizeof(c)))
        return -EFAULT;
    if (c.flags || t == v)
        return -EINVAL;
    pthread_mutex_lock(&v->vm->lock);
    long r = t->up ? -EEXIST : 0;
    if (!r) {
        t->ctx = c;
        t->initialised = true;
    }
    pthread_mutex_unlock(&v->vm->lock);
    return r;
}

static long up(struct vcpu *v, struct vcpu *t)
{
    pthread_mutex_lock(&v->vm->lock);
    long r = 0;
    if (!t->initialised)
        r = -EINVAL;
    else if (!t->up) {
        r = vcpu_set_context(t, &t->ctx);
        if (!r)
            r = vcpu_start(t) ? -ENOMEM : 0;
        if (!r)
            t->up = true;
    }
    pthread_mutex_unlock(&v->vm->lock);
    return r;
}

/* A vCPU may only take itself down; it then stays halted with no
 * interrupt source (a later VCPUOP_up restarts it from its context). */
static long down(struct vcpu *v, struct vcpu *t)
{
    if (t != v)
        return -EINVAL;
    pthread_mutex_lock(&v->vm->lock);
    t->up = false;
    t->initialised = false;
    pthread_mutex_unlock(&v->vm->lock);
    v->halt_next = true;
    return 0;
}

/* The guest's runstate area (a linear address, as Xen takes it from HVM
 * guests; Linux BUG()s if this fails). Where KVM keeps Xen runstates
 * (KVM_XEN_HVM_CONFIG_RUNSTATE), KVM updates it at every vCPU switch and
 * the guest's steal time is real; else it is written once, running since
 * boot, and steal time stays 0. */
static long register_runstate(struct vcpu *v, struct vcpu *t, uint64_t arg)
{
    uint64_t linear;
    if (t != v)
        return -EINVAL;
    if (copy_from_guest(v->vm, &linear, arg, sizeof(linear)))
        return -EFAULT;
    if (!linear)
        return 0; /* Xen: a null handle unregisters */
    struct kvm_translation tr = { .linear_address = linear };
    if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
        return -EFAULT;
    uint64_t gpa = tr.physical_address;
    if ((gpa & (XEN_PAGE_SIZE - 1)) + sizeof(struct vcpu_runstate_info) > XEN_PAGE_SIZE)
        return -EINVAL; /* across two pages: not supported here */
    if (v->vm->kvm_xen) {
        struct kvm_xen_vcpu_attr a = { .type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR };
        a.u.gpa = gpa;
        if (ioctl(v->fd, KVM_XEN_VCPU_SET_ATTR, &a) == 0)
            return 0;
    }
    uint64_t now = pvclock_now(v->vm);
    struct vcpu_runstate_info r = { .state = RUNSTATE_running, .state_entry_time = now, .time = { now, 0, 0, 0 } };
    return copy_to_guest(v->vm, gpa, &r, sizeof(r)) ? -EFAULT : 0;
}

long hc_vcpu_op(struct vcpu *v, const uint64_t a[5])
{
    struct vm *vm = v->vm;
    uint64_t cmd = a[0], id = a[1], arg = a[2];
    if (id >= vm->nr_vcpus)
        return -ENOENT;
    struct vcpu *t = &vm->vcpus[id];
    switch (cmd) {
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(v, t, arg);
    case VCPUOP_register_runstate_memory_area:
        return register_runstate(v, t, arg);
    case VCPUOP_initialise:
        return initialise(v, t, arg);
    case VCPUOP_up:
        return up(v, t);
    case VCPUOP_down:
        return down(v, t);
    case VCPUOP_is_up:
        return t->id == 0 || t->up;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer s;
        if (t != v)
            return -EINVAL;
        if (copy_from_guest(vm, &s, arg, sizeof(s)))
            return -EFAULT;
        if ((s.flags & VCPU_SSHOTTMR_future) && s.timeout_abs_ns < pvclock_now(vm))
            return -ETIME;
        return timer_set_singleshot(t, s.timeout_abs_ns);
    }
    case VCPUOP_stop_singleshot_timer:
        return t != v ? -EINVAL : timer_set_singleshot(t, 0);
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer p;
        if (copy_from_guest(vm, &p, arg, sizeof(p)))
            return -EFAULT;
        if (p.period_ns < MIN_PERIOD_NS)
            return -EINVAL;
        return timer_set_periodic(t, p.period_ns);
    }
    case VCPUOP_stop_periodic_timer:
        return timer_set_periodic(t, 0);
    }
    return -ENOSYS;
}

/* sched_op: yield, block, shutdown, poll, shutdown_code. */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/sched.h"
#include "public/tandem.h"
#include "vcpu_state.h"
#include "vmm.h"

#define POLL_MAX_PORTS 128

static bool any_pending(struct vm *vm, const evtchn_port_t *ports, unsigned int n)
{
    struct shared_info *si = shared_info_ptr(vm);
    if (!si)
        return false;
    for (unsigned int i = 0; i < n; i++) {
        xen_ulong_t w = __atomic_load_n(&si->evtchn_pending[ports[i] / 64], __ATOMIC_SEQ_CST);
        if (w & (1UL << (ports[i] % 64)))
            return true;
    }
    return false;
}

static long do_poll(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct sched_poll sp;
    evtchn_port_t ports[POLL_MAX_PORTS];
    if (copy_from_guest(vm, &sp, arg, sizeof(sp)))
        return -EFAULT;
    if (sp.nr_ports > POLL_MAX_PORTS)
        return -EINVAL;
    if (copy_from_guest(vm, ports, sp.ports, sp.nr_ports * sizeof(ports[0])))
        return -EFAULT;
    for (unsigned int i = 0; i < sp.nr_ports; i++)
        if (ports[i] >= VMM_NR_PORTS)
            return -EINVAL;
    atomic_fetch_add(&vm->pollers, 1);
    pthread_mutex_lock(&vm->poll_lock);
    long ret = 0;
    for (;;) {
        if (any_pending(vm, ports, sp.nr_ports) || atomic_load(&vm->state) != VM_RUNNING)
            break;
        if (sp.timeout && pvclock_now(vm) >= sp.timeout)
            break;
        if (!sp.timeout) {
            pthread_cond_wait(&vm->poll_cond, &vm->poll_lock);
            continue;
        }
        uint64_t abs = pvclock_to_monotonic(vm, sp.timeout);
        struct timespec ts = { (time_t)(abs / 1000000000ULL), (long)(abs % 1000000000ULL) };
        pthread_cond_timedwait(&vm->poll_cond, &vm->poll_lock, &ts);
    }
    pthread_mutex_unlock(&vm->poll_lock);
    atomic_fetch_sub(&vm->pollers, 1);
    return ret;
}

/*
 * pvm mode: interrupts are gated by byte 0 of the vCPU's VIF page (guest
 * memory, registered by the guest in PVM_MSR_VIF), not by RFLAGS.IF; KVM
 * neither injects nor wakes a halted vCPU while it is 0. Set it, as the
 * guest's own "enable" does; the interrupt the host may hold (byte 1) is
 * injected on the next entry. A vCPU without a VIF page is still running
 * emulated and is gated by RFLAGS.IF.
 */
static void pvm_enable_events(struct vcpu *v)
{
    uint64_t vif;
    if (vcpu_msr_get(v, PVM_MSR_VIF, &vif) < 0 || !(vif & ~0xfffULL))
        return;
    uint8_t *p = gpa_to_host(v->vm, vif & ~0xfffULL, 1, true);
    if (p)
        __atomic_store_n(p, 1, __ATOMIC_SEQ_CST);
}

/*
 * Xen's SCHEDOP_block enables event delivery and blocks, as one step: the
 * guest calls it with events disabled (the upcall vector's gate: RFLAGS.IF
 * in plain mode, VIF byte 0 in pvm mode), having found nothing to do, and
 * no event can slip in between its check and the halt. So the hypercall
 * returns with events enabled, halted unless an upcall is already pending;
 * either way the event is delivered at once.
 */
static long do_block(struct vcpu *v)
{
    v->enable_events_next = true;   /* RFLAGS.IF, set by the exit handler */
    if (v->vm->pvm)
        pvm_enable_events(v);
    pthread_mutex_lock(&v->vm->lock);
    struct vcpu_info *vi = vcpu_info_ptr(v->vm, v);
    bool pending = vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&v->vm->lock);
    if (!pending)
        v->halt_next = true;
    return 0;
}

long hc_sched_op(struct vcpu *v, const uint64_t a[5])
{
    uint64_t cmd = a[0], arg = a[1];
    struct sched_shutdown sd;
    switch (cmd) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;
    case SCHEDOP_block:
        return do_block(v);
    case SCHEDOP_shutdown:
        if (copy_from_guest(v->vm, &sd, arg, sizeof(sd)))
            return -EFAULT;
        if (sd.reason > SHUTDOWN_MAX)
            return -EINVAL;
        if (sd.reason == SHUTDOWN_suspend)
            return vm_guest_suspend(v);
        vm_guest_shutdown(v->vm, sd.reason);
        return 0;
    case SCHEDOP_shutdown_code:
        if (copy_from_guest(v->vm, &sd, arg, sizeof(sd)))
            return -EFAULT;
        if (sd.reason > SHUTDOWN_MAX)
            return -EINVAL;
        v->vm->shutdown_code = sd.reason;
        return 0;
    case SCHEDOP_poll:
        return do_poll(v, arg);
    case SCHEDOP_remote_shutdown:
        return -EPERM;
    }
    return -ENOSYS;
}

/*
 * Event channels, 2-level ABI: pending/mask bitmaps in shared_info, the
 * selector and upcall flag in each vcpu_info; an upcall is an MSI to the
 * vector the guest chose (HVM_PARAM_CALLBACK_IRQ or its per-vCPU vector).
 * The platform's ports (1 .. VMM_PLATFORM_PORTS - 1, docs/abi.md) are bound
 * to domain 0 at boot; a VMM service that serves one (evtchn_local_add:
 * {port, eventfd}) is signalled when the guest sends on it, through the
 * doorbell's ioeventfd in KVM or from evtchn_send, until a dom0 service
 * binds the port (if the local service yields it).
 * Ports to other dom0 services: the guest allocates one for domain 0
 * (alloc_unbound, remote_dom 0) and a service binds it (`evtchn-bind`), or
 * a service allocates a dom0 port (`evtchn-alloc`) and the guest binds it
 * (bind_interdomain, remote_dom 0) -- see evtchn_ctl.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evtchn_2l.h"
#include "guest_mem.h"
#include "hypercall.h"
#include "vmm.h"

#define FIRST_FREE_PORT VMM_PLATFORM_PORTS

void evtchn_init(struct vm *vm)
{
    for (evtchn_port_t p = 0; p < VMM_NR_PORTS; p++)
        vm->ports[p] = (struct evtchn){ .state = ECS_FREE, .kick_fd = -1 };
    for (evtchn_port_t p = 1; p < VMM_PLATFORM_PORTS; p++)
        vm->ports[p] = (struct evtchn){ .state = ECS_INTERDOMAIN, .remote_dom = 0,
                                        .remote_port = p, .vcpu = 0, .kick_fd = -1 };
    for (evtchn_port_t p = 0; p < VMM_NR_PORTS; p++)
        vm->dom0_ports[p] = (struct dom0_port){ .state = D0_FREE };
    vm->nr_local_ports = 0;
}

/* Caller holds vm->lock. */
static struct evtchn_local *find_local(struct vm *vm, evtchn_port_t port)
{
    for (unsigned int i = 0; i < vm->nr_local_ports; i++)
        if (vm->local_ports[i].port == port)
            return &vm->local_ports[i];
    return NULL;
}

int evtchn_local_add(struct vm *vm, evtchn_port_t port, bool yields)
{
    int r = 0;
    pthread_mutex_lock(&vm->lock);
    if (port == 0 || port >= VMM_PLATFORM_PORTS || find_local(vm, port))
        r = -EINVAL;
    else if (vm->nr_local_ports == VMM_PLATFORM_PORTS)
        r = -ENOSPC;
    else
        vm->local_ports[vm->nr_local_ports++] =
            (struct evtchn_local){ .port = port, .kick_fd = -1, .yields = yields };
    pthread_mutex_unlock(&vm->lock);
    return r;
}

int evtchn_local_kick(struct vm *vm, evtchn_port_t port, int fd)
{
    int r = -ENOENT;
    pthread_mutex_lock(&vm->lock);
    struct evtchn_local *l = find_local(vm, port);
    if (l && l->kick_fd >= 0)
        r = -EEXIST;
    else if (l && vm->ports[port].kick_fd >= 0)
        r = -EBUSY;    /* a dom0 service holds the port */
    else if (l && (r = kvm_ioeventfd(vm, fd, TANDEM_DOORBELL_PORT, port, true)) == 0)
        l->kick_fd = fd;
    pthread_mutex_unlock(&vm->lock);
    return r;
}

void evtchn_local_remove(struct vm *vm, evtchn_port_t port)
{
    pthread_mutex_lock(&vm->lock);
    struct evtchn_local *l = find_local(vm, port);
    if (l) {
        if (l->kick_fd >= 0 && !l->taken)
            kvm_ioeventfd(vm, l->kick_fd, TANDEM_DOORBELL_PORT, port, false);
        *l = vm->local_ports[--vm->nr_local_ports];
    }
    pthread_mutex_unlock(&vm->lock);
}

/* Caller holds vm->lock. A dom0 service binds (take) or lets go of a
 * port: a local service that yields hands over its doorbell, one that does
 * not refuses while it has one (-EBUSY). */
int evtchn_local_take(struct vm *vm, evtchn_port_t port, bool take)
{
    struct evtchn_local *l = find_local(vm, port);
    if (!l || l->kick_fd < 0)
        return 0;
    if (!l->yields)
        return take ? -EBUSY : 0;
    if (l->taken == take)
        return 0;
    int r = kvm_ioeventfd(vm, l->kick_fd, TANDEM_DOORBELL_PORT, port, !take);
    if (r == 0)
        l->taken = take;
    return r;
}

static void wake_pollers(struct vm *vm)
{
    if (atomic_load(&vm->pollers) == 0)
        return;
    pthread_mutex_lock(&vm->poll_lock);
    vm->poll_seq++;
    pthread_cond_broadcast(&vm->poll_cond);
    pthread_mutex_unlock(&vm->poll_lock);
}

/*
 * The upcall interrupt: an MSI to the vCPU's LAPIC with its vector. Xen
 * sets the vector in the virtual LAPIC's IRR whatever the LAPIC's state,
 * so an upcall flagged while the guest's LAPIC was software-disabled is
 * taken once it is enabled; KVM refuses such an MSI instead, and since
 * later events only set bits behind evtchn_upcall_pending (already 1), the
 * vCPU would never hear of an event again. A refused upcall is owed: the
 * next event for that vCPU signals again, whatever the flags say.
 */
static void signal_vcpu(struct vm *vm, struct vcpu *v)
{
    uint8_t vec = v->upcall_vector ? v->upcall_vector : vm->callback_vector;
    if (!vec)
        return; /* evtchn_kick_vcpu signals when the guest chooses one */
    int r = vm_signal_msi(vm, (unsigned int)v->id, vec);
    atomic_fetch_add(&v->upcall_signals, 1);
    atomic_store(&v->upcall_owed, r != 0);
    if (r < 0)
        vm->dropped_events++;
}

static struct vcpu *port_vcpu(struct vm *vm, evtchn_port_t port)
{
    uint32_t target = vm->ports[port].vcpu;
    return &vm->vcpus[target < vm->nr_vcpus ? target : 0];
}

/*
 * Xen's rule when the guest (re)configures delivery (callback vector,
 * vcpu_info): events flagged before there was anywhere to deliver them
 * must not stay stuck behind evtchn_upcall_pending, so re-signal.
 */
void evtchn_kick_vcpu(struct vm *vm, struct vcpu *v)
{
    struct vcpu_info *vi = vcpu_info_ptr(vm, v);
    if (vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
        signal_vcpu(vm, v);
}

void evtchn_raise(struct vm *vm, evtchn_port_t port)
{
    struct shared_info *si = shared_info_ptr(vm);
    if (!si || port == 0 || port >= VMM_NR_PORTS) {
        vm->dropped_events++;
        return;
    }
    /* The 2-level steps are dom0/evtchn/evtchn_2l.c, shared with every
     * dom0 service so that all raise events the same way. */
    struct vcpu *v = port_vcpu(vm, port);
    struct vcpu_info *vi = vcpu_info_ptr(vm, v);
    if (!vi)
        vm->dropped_events++;
    else if (evtchn_2l_set_pending(si, vi, port) ||
             (atomic_load(&v->upcall_owed) &&
              __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST)))
        signal_vcpu(vm, v);
    wake_pollers(vm);
}

/*
 * Upcalls are edge-triggered here (an MSI when the flag rises), as Xen's
 * per-vCPU upcall vector is; Xen's domain-wide callback vector is
 * level-triggered instead: injected at every VM entry while the flag is
 * up. The guest clears evtchn_upcall_pending first thing in its handler,
 * so a flag that stays up across two checks, with no upcall sent by us in
 * between, means the vCPU has not taken one for EVTCHN_UPCALL_CHECK_MS:
 * its interrupts were off all that time (then the MSI below merges with
 * the one waiting in its LAPIC), or the interrupt was lost (a dom0
 * service's irqfd MSI to a disabled LAPIC, which KVM drops without a
 * word; seen under nested virtualization, where a guest's xenstore
 * replies then waited for ever). Either way signalling again is harmless,
 * and the events behind the flag are not stuck. A vCPU that masks upcalls
 * (evtchn_upcall_mask, as a PV kernel does) is left alone: unmasking is
 * its cue to look; so is one with no vector yet (choosing one signals).
 */
void evtchn_upcall_check(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        struct vcpu_info *vi = vcpu_info_ptr(vm, v);
        unsigned int sent = atomic_load(&v->upcall_signals) + 1;
        if (!vi || !(v->upcall_vector || vm->callback_vector) ||
            !__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_SEQ_CST)) {
            v->upcall_seen = 0;
            continue;
        }
        if (v->upcall_seen != sent) {
            v->upcall_seen = sent;   /* up now; look again next time */
            continue;
        }
        if (!v->upcall_resent_said) {
            v->upcall_resent_said = true;
            fprintf(stderr, "tandem-vmm: vCPU %u: its upcall flag was up at two checks %d ms apart "
                            "and the VMM sent no upcall between: signalled again (reported once; "
                            "--stats counts them)\n",
                    i, EVTCHN_UPCALL_CHECK_MS);
        }
        vm->upcalls_resent++;
        signal_vcpu(vm, v);
        v->upcall_seen = 0;
    }
}

void evtchn_raise_virq(struct vm *vm, struct vcpu *v, unsigned int virq)
{
    int port = v->virq_port[virq];
    if (port > 0)
        evtchn_raise(vm, (evtchn_port_t)port);
}

/* Guest -> its peer (doorbell exit or EVTCHNOP_send). */
long evtchn_send(struct vcpu *v, evtchn_port_t port)
{
    struct vm *vm = v->vm;
    if (port == 0 || port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    struct evtchn e = vm->ports[port];
    int fd = e.kick_fd;
    if (fd < 0 && e.state == ECS_INTERDOMAIN && e.remote_dom == 0) {
        /* no dom0 service holds it: a VMM service may serve it */
        const struct evtchn_local *l = find_local(vm, port);
        fd = l && !l->taken ? l->kick_fd : -1;
    }
    uint64_t one = 1;
    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
        vm->dropped_events++;
    pthread_mutex_unlock(&vm->lock);
    switch (e.state) {
    case ECS_INTERDOMAIN:
        if (fd >= 0) {
            /* a service holds it: notified above, as its ioeventfd would */
        } else if (e.remote_dom != 0) {
            evtchn_raise(vm, e.remote_port); /* loopback to ourselves */
        } else {
            vm->dropped_events++;
        }
        return 0;
    case ECS_IPI:
        evtchn_raise(vm, port);
        return 0;
    case ECS_UNBOUND:
        return 0; /* nobody listens yet: dropped, as on Xen */
    }
    return -EINVAL;
}

/* Caller holds vm->lock. */
static long alloc_port(struct vm *vm, struct evtchn e)
{
    for (evtchn_port_t p = FIRST_FREE_PORT; p < VMM_NR_PORTS; p++) {
        if (vm->ports[p].state == ECS_FREE) {
            struct shared_info *si = shared_info_ptr(vm);
            if (si) /* a fresh port starts neither pending nor masked-by-us */
                __atomic_fetch_and(&si->evtchn_pending[p / 64], ~(1UL << (p % 64)),
                                   __ATOMIC_SEQ_CST);
            e.kick_fd = -1;
            vm->ports[p] = e;
            return (long)p;
        }
    }
    return -ENOSPC;
}

static long op_alloc_unbound(struct vcpu *v, uint64_t arg)
{
    struct evtchn_alloc_unbound a;
    if (copy_from_guest(v->vm, &a, arg, sizeof(a)))
        return -EFAULT;
    if (!is_self_domid(v, a.dom))
        return -EPERM;
    pthread_mutex_lock(&v->vm->lock);
    long p = alloc_port(v->vm, (struct evtchn){ .state = ECS_UNBOUND,
                                                .remote_dom = is_self_domid(v, a.remote_dom)
                                                                  ? (uint16_t)v->vm->cfg->domid
                                                                  : a.remote_dom });
    pthread_mutex_unlock(&v->vm->lock);
    if (p < 0)
        return p;
    a.port = (evtchn_port_t)p;
    return copy_to_guest(v->vm, arg, &a, sizeof(a)) ? -EFAULT : 0;
}

/* Caller holds vm->lock. The guest binds an unbound port of its own
 * (loopback) or a port a dom0 service allocated for it (`evtchn-alloc`). */
static long bind_interdomain_locked(struct vm *vm, domid_t remote_dom, evtchn_port_t rport)
{
    if (remote_dom == 0) {
        struct dom0_port *d = &vm->dom0_ports[rport];
        if (d->state != D0_UNBOUND)
            return -EINVAL;
        long r = alloc_port(vm, (struct evtchn){ .state = ECS_INTERDOMAIN, .remote_dom = 0,
                                                 .remote_port = rport });
        if (r > 0) {
            d->state = D0_BOUND;
            d->guest_port = (uint32_t)r;
        }
        return r;
    }
    struct evtchn *peer = &vm->ports[rport];
    if (peer->state != ECS_UNBOUND || peer->remote_dom != vm->cfg->domid)
        return -EINVAL;
    long r = alloc_port(vm, (struct evtchn){ .state = ECS_INTERDOMAIN,
                                             .remote_dom = (uint16_t)vm->cfg->domid,
                                             .remote_port = rport });
    if (r > 0) {
        peer->state = ECS_INTERDOMAIN;
        peer->remote_port = (uint32_t)r;
    }
    return r;
}

static long op_bind_interdomain(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct evtchn_bind_interdomain b;
    if (copy_from_guest(vm, &b, arg, sizeof(b)))
        return -EFAULT;
    if (!is_self_domid(v, b.remote_dom) && b.remote_dom != 0)
        return -ESRCH; /* no other domain is reachable from here */
    if (b.remote_port == 0 || b.remote_port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    long r = bind_interdomain_locked(vm, is_self_domid(v, b.remote_dom) ? (domid_t)vm->cfg->domid : 0,
                                     b.remote_port);
    pthread_mutex_unlock(&vm->lock);
    if (r < 0)
        return r;
    b.local_port = (evtchn_port_t)r;
    return copy_to_guest(vm, arg, &b, sizeof(b)) ? -EFAULT : 0;
}

static long op_bind_virq(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct evtchn_bind_virq b;
    if (copy_from_guest(vm, &b, arg, sizeof(b)))
        return -EFAULT;
    if (b.virq >= NR_VIRQS)
        return -EINVAL;
    if (b.vcpu >= vm->nr_vcpus)
        return -ENOENT; /* Xen's answer for a vCPU that does not exist */
    struct vcpu *t = &vm->vcpus[b.vcpu];
    pthread_mutex_lock(&vm->lock);
    long r = -EEXIST;
    if (!t->virq_port[b.virq]) {
        r = alloc_port(vm, (struct evtchn){ .state = ECS_VIRQ, .virq = (uint8_t)b.virq,
                                            .vcpu = b.vcpu });
        if (r > 0)
            t->virq_port[b.virq] = (int)r;
    }
    pthread_mutex_unlock(&vm->lock);
    if (r < 0)
        return r;
    b.port = (evtchn_port_t)r;
    return copy_to_guest(vm, arg, &b, sizeof(b)) ? -EFAULT : 0;
}

static long op_bind_ipi(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_ipi b;
    if (copy_from_guest(v->vm, &b, arg, sizeof(b)))
        return -EFAULT;
    if (b.vcpu >= v->vm->nr_vcpus)
        return -ENOENT;
    pthread_mutex_lock(&v->vm->lock);
    long r = alloc_port(v->vm, (struct evtchn){ .state = ECS_IPI, .vcpu = b.vcpu });
    pthread_mutex_unlock(&v->vm->lock);
    if (r < 0)
        return r;
    b.port = (evtchn_port_t)r;
    return copy_to_guest(v->vm, arg, &b, sizeof(b)) ? -EFAULT : 0;
}

/* Caller holds vm->lock; port is in range and not free. The other end of
 * an interdomain pair becomes unbound again, as on Xen. */
static void close_locked(struct vm *vm, evtchn_port_t port)
{
    struct evtchn *e = &vm->ports[port];
    if (e->state == ECS_VIRQ && e->vcpu < vm->nr_vcpus)
        vm->vcpus[e->vcpu].virq_port[e->virq] = 0;
    if (e->state == ECS_INTERDOMAIN && e->remote_dom == vm->cfg->domid &&
        e->remote_port < VMM_NR_PORTS && vm->ports[e->remote_port].state == ECS_INTERDOMAIN)
        vm->ports[e->remote_port].state = ECS_UNBOUND;
    if (e->state == ECS_INTERDOMAIN && e->remote_dom == 0 && e->remote_port < VMM_NR_PORTS &&
        vm->dom0_ports[e->remote_port].state == D0_BOUND &&
        vm->dom0_ports[e->remote_port].guest_port == port)
        vm->dom0_ports[e->remote_port].state = D0_UNBOUND;
    if (e->kick_fd >= 0) { /* the dom0 holder keeps its fd; we drop ours */
        kvm_ioeventfd(vm, e->kick_fd, TANDEM_DOORBELL_PORT, port, false);
        close(e->kick_fd);
    }
    *e = (struct evtchn){ .state = ECS_FREE, .kick_fd = -1 };
}

static long op_close(struct vcpu *v, evtchn_port_t port)
{
    struct vm *vm = v->vm;
    if (port == 0 || port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    long r = 0;
    if (vm->ports[port].state == ECS_FREE)
        r = -EINVAL;
    else
        close_locked(vm, port);
    pthread_mutex_unlock(&vm->lock);
    return r;
}

/* EVTCHNOP_reset: closes every port of the domain except the platform's,
 * bound at boot, which a guest cannot bind again by itself. Only the domain itself may reset its ports. */
static long op_reset(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct evtchn_reset rs;
    if (copy_from_guest(vm, &rs, arg, sizeof(rs)))
        return -EFAULT;
    if (!is_self_domid(v, rs.dom))
        return rs.dom < DOMID_FIRST_RESERVED ? -EPERM : -ESRCH;
    pthread_mutex_lock(&vm->lock);
    for (evtchn_port_t p = FIRST_FREE_PORT; p < VMM_NR_PORTS; p++)
        if (vm->ports[p].state != ECS_FREE)
            close_locked(vm, p);
    pthread_mutex_unlock(&vm->lock);
    return 0;
}

static long op_status(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct evtchn_status s;
    if (copy_from_guest(vm, &s, arg, sizeof(s)))
        return -EFAULT;
    if (!is_self_domid(v, s.dom))
        return -ESRCH;
    if (s.port >= VMM_NR_PORTS)
        return -EINVAL;
    static const uint32_t map[] = { [ECS_FREE] = EVTCHNSTAT_closed,
                                    [ECS_UNBOUND] = EVTCHNSTAT_unbound,
                                    [ECS_INTERDOMAIN] = EVTCHNSTAT_interdomain,
                                    [ECS_VIRQ] = EVTCHNSTAT_virq, [ECS_IPI] = EVTCHNSTAT_ipi };
    pthread_mutex_lock(&vm->lock);
    struct evtchn e = s.port ? vm->ports[s.port] : (struct evtchn){ .state = ECS_FREE };
    pthread_mutex_unlock(&vm->lock);
    memset(&s.u, 0, sizeof(s.u));
    s.status = map[e.state];
    s.vcpu = e.vcpu;
    if (e.state == ECS_UNBOUND)
        s.u.unbound.dom = e.remote_dom;
    else if (e.state == ECS_INTERDOMAIN) {
        s.u.interdomain.dom = e.remote_dom;
        s.u.interdomain.port = e.remote_port;
    } else if (e.state == ECS_VIRQ)
        s.u.virq = e.virq;
    return copy_to_guest(vm, arg, &s, sizeof(s)) ? -EFAULT : 0;
}

static long op_bind_vcpu(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_vcpu b;
    if (copy_from_guest(v->vm, &b, arg, sizeof(b)))
        return -EFAULT;
    if (b.vcpu >= v->vm->nr_vcpus)
        return -ENOENT;
    if (b.port == 0 || b.port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&v->vm->lock);
    long r = 0;
    struct evtchn *e = &v->vm->ports[b.port];
    if (e->state == ECS_FREE || e->state == ECS_VIRQ || e->state == ECS_IPI)
        r = -EINVAL; /* per-vCPU sources stay on their vCPU */
    else if ((e->kick_fd >= 0 || e->owner) && e->vcpu != b.vcpu)
        /* A dom0 service holds it and raises it on the vCPU it was told
         * at evtchn-bind: moving it here would send its events where the
         * guest no longer looks (Linux spreads its event channels over
         * its vCPUs and lost blkback's completions so). Refused; Linux
         * then keeps the port where it was. */
        r = -EBUSY;
    else
        e->vcpu = b.vcpu;
    pthread_mutex_unlock(&v->vm->lock);
    return r;
}

/* EVTCHNOP_unmask: the guest cleared the mask; deliver what waited. */
static long op_unmask(struct vcpu *v, evtchn_port_t port)
{
    struct vm *vm = v->vm;
    struct shared_info *si = shared_info_ptr(vm);
    if (port == 0 || port >= VMM_NR_PORTS || !si)
        return -EINVAL;
    struct vcpu *t = port_vcpu(vm, port);
    struct vcpu_info *vi = vcpu_info_ptr(vm, t);
    if (!vi)
        return 0;
    if (evtchn_2l_unmask(si, vi, port)) {
        signal_vcpu(vm, t);
    } else if (evtchn_2l_is_pending(si, port) && !evtchn_2l_is_masked(si, port)) {
        /* The guest cleared the mask itself before asking (as Linux HVM
         * guests do): deliver what arrived while it was masked. */
        xen_ulong_t sel = 1UL << (port / EVTCHN_2L_BITS_PER_WORD);
        if (!(__atomic_fetch_or(&vi->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel) &&
            !__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
            signal_vcpu(vm, t);
    }
    return 0;
}

long hc_event_channel_op(struct vcpu *v, const uint64_t a[5])
{
    uint64_t cmd = a[0], arg = a[1];
    evtchn_port_t port;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        return op_alloc_unbound(v, arg);
    case EVTCHNOP_bind_interdomain:
        return op_bind_interdomain(v, arg);
    case EVTCHNOP_bind_virq:
        return op_bind_virq(v, arg);
    case EVTCHNOP_bind_ipi:
        return op_bind_ipi(v, arg);
    case EVTCHNOP_status:
        return op_status(v, arg);
    case EVTCHNOP_bind_vcpu:
        return op_bind_vcpu(v, arg);
    case EVTCHNOP_reset:
        return op_reset(v, arg);
    case EVTCHNOP_close:
    case EVTCHNOP_send:
    case EVTCHNOP_unmask:
        if (copy_from_guest(v->vm, &port, arg, sizeof(port)))
            return -EFAULT;
        if (cmd == EVTCHNOP_close)
            return op_close(v, port);
        if (cmd == EVTCHNOP_send)
            return evtchn_send(v, port);
        return op_unmask(v, port);
    }
    return -ENOSYS;
}

/*
 * Event channels bound by dom0 services over the control socket
 * (`evtchn-bind port=N`, `evtchn-unbind port=N`, docs/evtchn-gnttab.md):
 * guest->service through a KVM ioeventfd on the doorbell with datamatch N,
 * service->guest through an irqfd per vCPU (GSI 24 + vCPU, MSI-routed to
 * that vCPU's upcall vector). A binding belongs to its connection and is
 * undone when the connection closes. A port a VMM service serves
 * (evtchn_local_add) is handed over or refused as that service says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pc.h"
#include "vmm.h"

#define IRQFD_GSI_BASE 24   /* above the 24 routes kept for the (userspace) IOAPIC */

/* Caller holds vm->lock. Rebuilds KVM's GSI routing table: the PC's
 * IOAPIC pins (GSIs 0-23, pc.c) and the MSI routes of every vCPU irqfd
 * (GSI 24 + vCPU). */
void evtchn_irq_routes_update(struct vm *vm)
{
    struct {
        struct kvm_irq_routing h;
        struct kvm_irq_routing_entry e[IRQFD_GSI_BASE + TANDEM_MAX_VCPUS];
    } rt;
    memset(&rt, 0, sizeof(rt));
    rt.h.nr = pc_irq_routes(vm, rt.e, IRQFD_GSI_BASE);
    bool any = rt.h.nr > 0 || vm->pc;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        any |= vm->vcpus[i].irqfd >= 0;
    if (!any)
        return; /* no service has bound a port yet */
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        uint8_t vec = v->upcall_vector ? v->upcall_vector : vm->callback_vector;
        if (v->irqfd < 0 || !vec)
            continue; /* no vector yet: writes to the irqfd go nowhere */
        struct kvm_irq_routing_entry *e = &rt.e[rt.h.nr++];
        e->gsi = IRQFD_GSI_BASE + i;
        e->type = KVM_IRQ_ROUTING_MSI;
        e->u.msi.address_lo = (uint32_t)TANDEM_LAPIC_GPA | (i << 12);
        e->u.msi.data = vec;
    }
    if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0)
        fprintf(stderr, "tandem-vmm: KVM_SET_GSI_ROUTING: %s\n", strerror(errno));
}

/* Caller holds vm->lock. */
static int vcpu_irqfd(struct vm *vm, struct vcpu *v)
{
    if (v->irqfd >= 0)
        return 0;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -1;
    struct kvm_irqfd irq = { .fd = (uint32_t)fd, .gsi = IRQFD_GSI_BASE + (uint32_t)v->id };
    if (ioctl(vm->vm_fd, KVM_IRQFD, &irq) < 0) {
        close(fd);
        return -1;
    }
    v->irqfd = fd;
    evtchn_irq_routes_update(vm);
    return 0;
}

static uint64_t memfd_offset(struct vm *vm, uint64_t gpa)
{
    return gpa < vm->ram_size ? gpa : vm_region_offset(vm, gpa);
}

static int bind_locked(struct vm *vm, const void *owner, uint32_t port, int *kick)
{
    struct evtchn *e = &vm->ports[port];
    bool for_dom0 = (e->state == ECS_UNBOUND || e->state == ECS_INTERDOMAIN) && e->remote_dom == 0;
    if (!for_dom0)
        return -ENOENT;
    if (e->kick_fd >= 0)
        return -EBUSY;
    /* bound to a dom0 port (evtchn-alloc): only that port's connection */
    const struct dom0_port *d = e->remote_port < VMM_NR_PORTS ? &vm->dom0_ports[e->remote_port] : NULL;
    if (e->state == ECS_INTERDOMAIN && d && d->state == D0_BOUND && d->guest_port == port &&
        d->owner != owner)
        return -EBUSY;
    if (!vm->shared_info_gpa)
        return -EAGAIN;
    struct vcpu *v = &vm->vcpus[e->vcpu < vm->nr_vcpus ? e->vcpu : 0];
    /* The service marks events in the vcpu_info this reply names, for the
     * binding's life. A guest places shared_info, then registers its own
     * vcpu_info (VCPUOP_register_vcpu_info), then sets its upcall vector
     * (ours and Linux alike): a binding in between would mark the legacy
     * slot the guest no longer reads, and after the first event
     * (upcall_pending left 1 there) it would never be kicked again. So
     * until the vCPU has its own vcpu_info, wait for its vector: then it
     * has registered whatever it will. */
    if (!v->vcpu_info_gpa &&
        (v->id >= XEN_LEGACY_MAX_VCPUS || !(v->upcall_vector || vm->callback_vector)))
        return -EAGAIN;
    if (vcpu_irqfd(vm, v))
        return -EIO;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -EIO;
    int r = evtchn_local_take(vm, port, true);
    if (!r)
        r = kvm_ioeventfd(vm, fd, TANDEM_DOORBELL_PORT, port, true);
    if (r) {
        evtchn_local_take(vm, port, false);
        close(fd);
        return r == -EEXIST ? -EBUSY : r;
    }
    e->state = ECS_INTERDOMAIN;
    e->remote_dom = 0;
    e->kick_fd = fd;
    e->owner = owner;
    *kick = fd;
    return 0;
}

int evtchn_ctl_bind(struct vm *vm, const void *owner, uint32_t port, int fds[3], char *reply,
                    size_t len, const char **err)
{
    *err = "";
    if (port == 0 || port > 4095) {
        *err = "port must be 1..4095";
        return -EINVAL;
    }
    if (port >= VMM_NR_PORTS) {
        *err = "port is not unbound for dom0";
        return -ENOENT;
    }
    pthread_mutex_lock(&vm->lock);
    int kick = -1;
    int r = bind_locked(vm, owner, port, &kick);
    if (r == 0) {
        struct evtchn *e = &vm->ports[port];
        struct vcpu *v = &vm->vcpus[e->vcpu < vm->nr_vcpus ? e->vcpu : 0];
        int n = snprintf(reply, len, "OK port=%u vcpu=%d shared_info_offset=%llu", port, v->id,
                         (unsigned long long)memfd_offset(vm, vm->shared_info_gpa));
        if (v->vcpu_info_gpa && n > 0 && (size_t)n < len)
            snprintf(reply + n, len - (size_t)n, " vcpu_info_offset=%llu",
                     (unsigned long long)memfd_offset(vm, v->vcpu_info_gpa));
        fds[0] = vm->memfd;
        fds[1] = kick;
        fds[2] = v->irqfd;
    }
    pthread_mutex_unlock(&vm->lock);
    if (r == -ENOENT)
        *err = "port is not unbound for dom0";
    else if (r == -EBUSY)
        *err = "port is already bound";
    else if (r == -EAGAIN)
        *err = "the guest has not set up event delivery yet (shared_info, vcpu_info, upcall vector)";
    else if (r)
        *err = "cannot set up the event channel";
    return r;
}

/* Caller holds vm->lock. The port returns to "unbound, remote domain 0". */
static void unbind_locked(struct vm *vm, uint32_t port)
{
    struct evtchn *e = &vm->ports[port];
    kvm_ioeventfd(vm, e->kick_fd, TANDEM_DOORBELL_PORT, port, false);
    close(e->kick_fd);
    e->kick_fd = -1;
    e->owner = NULL;
    evtchn_local_take(vm, port, false);
    if (port >= VMM_PLATFORM_PORTS)   /* the platform's stay bound to dom0 */
        e->state = ECS_UNBOUND;
}

int evtchn_ctl_unbind(struct vm *vm, const void *owner, uint32_t port)
{
    if (port == 0 || port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    int r = -EINVAL;
    if (vm->ports[port].kick_fd >= 0 && vm->ports[port].owner == owner) {
        unbind_locked(vm, port);
        r = 0;
    }
    pthread_mutex_unlock(&vm->lock);
    return r;
}

/* Caller holds vm->lock. Dom0 closes its end: a guest port bound to it
 * becomes "unbound, remote domain 0" (Xen's rule for the surviving end). */
static void free_dom0_port(struct vm *vm, uint32_t p)
{
    struct dom0_port *d = &vm->dom0_ports[p];
    if (d->state == D0_BOUND && d->guest_port < VMM_NR_PORTS) {
        struct evtchn *e = &vm->ports[d->guest_port];
        if (e->state == ECS_INTERDOMAIN && e->remote_dom == 0 && e->remote_port == p) {
            if (e->kick_fd >= 0)
                unbind_locked(vm, d->guest_port);
            e->state = ECS_UNBOUND;
            e->remote_port = 0;
        }
    }
    *d = (struct dom0_port){ .state = D0_FREE };
}

void evtchn_ctl_drop_owner(struct vm *vm, const void *owner)
{
    pthread_mutex_lock(&vm->lock);
    for (uint32_t p = 1; p < VMM_NR_PORTS; p++)
        if (vm->ports[p].kick_fd >= 0 && vm->ports[p].owner == owner)
            unbind_locked(vm, p);
    for (uint32_t p = 1; p < VMM_NR_PORTS; p++)
        if (vm->dom0_ports[p].state != D0_FREE && vm->dom0_ports[p].owner == owner)
            free_dom0_port(vm, p);
    pthread_mutex_unlock(&vm->lock);
}

/* `evtchn-alloc`: a dom0 port, unbound, for this domain to bind with
 * EVTCHNOP_bind_interdomain(remote_dom 0). It belongs to the connection. */
int evtchn_ctl_alloc(struct vm *vm, const void *owner, uint32_t *dom0_port)
{
    int r = -ENOSPC;
    pthread_mutex_lock(&vm->lock);
    for (uint32_t p = 1; p < VMM_NR_PORTS; p++) {
        if (vm->dom0_ports[p].state == D0_FREE) {
            vm->dom0_ports[p] = (struct dom0_port){ .state = D0_UNBOUND, .owner = owner };
            *dom0_port = p;
            r = 0;
            break;
        }
    }
    pthread_mutex_unlock(&vm->lock);
    return r;
}

/* The guest port bound to dom0 port `dom0_port` of this connection:
 * -EINVAL not ours, -EAGAIN the guest has not bound it yet. */
int evtchn_ctl_guest_port(struct vm *vm, const void *owner, uint32_t dom0_port, uint32_t *port)
{
    if (dom0_port == 0 || dom0_port >= VMM_NR_PORTS)
        return -EINVAL;
    pthread_mutex_lock(&vm->lock);
    struct dom0_port *d = &vm->dom0_ports[dom0_port];
    int r = 0;
    if (d->state == D0_FREE || d->owner != owner)
        r = -EINVAL;
    else if (d->state != D0_BOUND)
        r = -EAGAIN;
    else
        *port = d->guest_port;
    pthread_mutex_unlock(&vm->lock);
    return r;
}

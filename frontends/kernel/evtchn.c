/*
 * Event channels: shared_info placement, per-vCPU vcpu_info, the upcall
 * (2-level scan) and the EVTCHNOP wrappers.
 *
 * The upcall runs with interrupts disabled.  It clears
 * evtchn_upcall_pending, takes evtchn_pending_sel with an atomic exchange,
 * and for each selected word handles the ports that are pending and not
 * masked, clearing each pending bit atomically before calling its
 * handler, so an event raised meanwhile is seen on the next pass.
 */
#include "arch.h"
#include "evtchn.h"
#include "hypercall.h"
#include "kernel.h"
#include "mm.h"
#include "platform.h"
#include "public/hvm/params.h"
#include "public/memory.h"
#include "public/vcpu.h"
#include "public/tandem.h"

#define UPCALL_VECTOR 0xf3

struct port_handler {
    evtchn_handler_t fn;
    void *arg;
};

static struct shared_info *shared;
static struct vcpu_info *vcpu_infos[ARCH_MAX_CPUS];
static struct vcpu_info *vcpu_info_page; /* our copies, 64 bytes each */
static struct port_handler handlers[EVTCHN_MAX_PORTS];
static uint64_t upcalls[ARCH_MAX_CPUS];

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

struct shared_info *evtchn_shared_info(void)
{
    return shared;
}

struct vcpu_info *evtchn_vcpu_info(int cpu)
{
    return vcpu_infos[cpu];
}

uint64_t evtchn_upcall_count(int cpu)
{
    return upcalls[cpu];
}

static void handle_port(evtchn_port_t port)
{
    struct port_handler *h = port < EVTCHN_MAX_PORTS ? &handlers[port] : NULL;
    if (h && h->fn)
        h->fn(port, h->arg);
}

static void evtchn_upcall(void)
{
    int cpu = arch_cpu_id();
    struct vcpu_info *vi = vcpu_infos[cpu];
    if (!vi)
        return; /* not set up on this vCPU yet: its registration rescans */
    upcalls[cpu]++;
    while (__atomic_exchange_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_ACQ_REL)) {
        xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_ACQ_REL);
        while (sel) {
            unsigned int w = (unsigned int)__builtin_ctzl(sel);
            sel &= sel - 1;
            xen_ulong_t bits;
            while ((bits = __atomic_load_n(&shared->evtchn_pending[w], __ATOMIC_ACQUIRE) &
                           ~__atomic_load_n(&shared->evtchn_mask[w], __ATOMIC_RELAXED))) {
                unsigned int b = (unsigned int)__builtin_ctzl(bits);
                __atomic_fetch_and(&shared->evtchn_pending[w], ~(1UL << b), __ATOMIC_ACQ_REL);
                handle_port(w * BITS_PER_WORD + b);
            }
        }
    }
}

static void map_shared_info(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = platform.physmap_base >> PAGE_SHIFT,
    };
    long r = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (r < 0)
        panic("evtchn: XENMEM_add_to_physmap(shared_info at %#llx) failed: %ld",
              (unsigned long long)platform.physmap_base, r);
    shared = phys_to_virt(platform.physmap_base);
}

/* Registers this vCPU's vcpu_info in our own page; the legacy slot in
 * shared_info is the fallback (Xen requires registration only beyond 32). */
static void register_vcpu_info(int cpu)
{
    struct vcpu_info *vi = &vcpu_info_page[cpu];
    struct vcpu_register_vcpu_info reg = {
        .mfn = virt_to_phys(vi) >> PAGE_SHIFT,
        .offset = (uint32_t)(virt_to_phys(vi) & (PAGE_SIZE - 1)),
    };
    long r = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, cpu, &reg);
    if (r < 0) {
        printk("evtchn: VCPUOP_register_vcpu_info(vcpu %d) failed (%ld); using shared_info\n",
               cpu, r);
        vi = &shared->vcpu_info[cpu];
    }
    vi->evtchn_upcall_mask = 0;
    vcpu_infos[cpu] = vi;
}

static void set_callback_vector(void)
{
    struct xen_hvm_param p = {
        .domid = DOMID_SELF,
        .index = HVM_PARAM_CALLBACK_IRQ,
        .value = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT) |
                 UPCALL_VECTOR,
    };
    long r = HYPERVISOR_hvm_op(HVMOP_set_param, &p);
    if (r < 0)
        panic("evtchn: HVMOP_set_param(CALLBACK_IRQ, vector %#x) failed: %ld", UPCALL_VECTOR, r);
}

static void mask_all(void)
{
    for (unsigned int w = 0; w < EVTCHN_MAX_PORTS / BITS_PER_WORD; w++)
        __atomic_store_n(&shared->evtchn_mask[w], ~0UL, __ATOMIC_RELAXED);
}

/* In a new domain (after SCHEDOP_shutdown(SHUTDOWN_suspend) returned 0)
 * every port is gone but the pre-bound xenstore and console ports: place
 * shared_info, register vcpu_info and the callback vector again, drop
 * every other handler (their owners bind new ports in their resume
 * hooks), and unmask the two that stay. Vcpu 0 only, interrupts off. */
void evtchn_resume(void)
{
    map_shared_info();
    mask_all();
    for (unsigned int w = 0; w < EVTCHN_MAX_PORTS / BITS_PER_WORD; w++)
        __atomic_store_n(&shared->evtchn_pending[w], 0, __ATOMIC_RELAXED);
    for (evtchn_port_t p = 0; p < EVTCHN_MAX_PORTS; p++)
        if (p != platform.xenstore_port && p != platform.console_port)
            __atomic_store_n(&handlers[p].fn, NULL, __ATOMIC_RELEASE);
    register_vcpu_info(0);
    set_callback_vector();
    for (evtchn_port_t p = 1; p < EVTCHN_MAX_PORTS; p++)
        if (handlers[p].fn)
            evtchn_unmask(p);
}

void evtchn_init(void)
{
    map_shared_info();
    vcpu_info_page = page_alloc_zeroed(1);
    if (!vcpu_info_page)
        panic("evtchn: no page for vcpu_info");
    /* All ports start masked so that none fires before it has a handler. */
    mask_all();
    register_vcpu_info(0);
    arch_set_upcall(UPCALL_VECTOR, evtchn_upcall);
    set_callback_vector();
}

int evtchn_init_cpu(int cpu)
{
    register_vcpu_info(cpu);
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = (uint32_t)cpu, .vector = UPCALL_VECTOR };
    long r = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
    if (r < 0)
        printk("evtchn: vcpu %d: HVMOP_set_evtchn_upcall_vector failed (%ld)\n", cpu, r);
    return (int)r;
}

int evtchn_bind(evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
    if (port == 0 || port >= EVTCHN_MAX_PORTS)
        return -22; /* EINVAL */
    unsigned long flags = arch_irq_save();
    handlers[port].arg = arg;
    __atomic_store_n(&handlers[port].fn, fn, __ATOMIC_RELEASE);
    arch_irq_restore(flags);
    evtchn_unmask(port);
    return 0;
}

static long bind_new_port(long r, evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
    if (r < 0)
        return r;
    if (port >= EVTCHN_MAX_PORTS) {
        struct evtchn_close c = { .port = port };
        HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
        return -28; /* ENOSPC: beyond our handler table */
    }
    evtchn_bind(port, fn, arg);
    return port;
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_handler_t fn, void *arg)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
    long r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    return bind_new_port(r, op.port, fn, arg);
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_handler_t fn, void *arg)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
    return bind_new_port(r, op.port, fn, arg);
}

long evtchn_alloc_unbound(domid_t remote_dom, evtchn_handler_t fn, void *arg)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote_dom };
    long r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    return bind_new_port(r, op.port, fn, arg);
}

long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port, evtchn_handler_t fn,
                             void *arg)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote_dom, .remote_port = remote_port };
    long r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    return bind_new_port(r, op.local_port, fn, arg);
}

int evtchn_close(evtchn_port_t port)
{
    if (port < EVTCHN_MAX_PORTS) {
        evtchn_mask(port);
        __atomic_store_n(&handlers[port].fn, NULL, __ATOMIC_RELEASE);
    }
    struct evtchn_close op = { .port = port };
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

int evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

void evtchn_notify(evtchn_port_t port)
{
    uint32_t v = port;
    __asm__ __volatile__("outl %0, %w1" : : "a"(v), "Nd"(platform.doorbell_port) : "memory");
}

void evtchn_mask(evtchn_port_t port)
{
    if (port < EVTCHN_2L_NR_CHANNELS)
        __atomic_fetch_or(&shared->evtchn_mask[port / BITS_PER_WORD],
                          1UL << (port % BITS_PER_WORD), __ATOMIC_ACQ_REL);
}

/* Clears the mask bit; if the port became pending while masked, asks the
 * hypervisor to deliver it (EVTCHNOP_unmask re-raises the upcall). */
void evtchn_unmask(evtchn_port_t port)
{
    if (port >= EVTCHN_2L_NR_CHANNELS)
        return;
    xen_ulong_t bit = 1UL << (port % BITS_PER_WORD);
    unsigned int w = port / BITS_PER_WORD;
    __atomic_fetch_and(&shared->evtchn_mask[w], ~bit, __ATOMIC_ACQ_REL);
    if (__atomic_load_n(&shared->evtchn_pending[w], __ATOMIC_ACQUIRE) & bit) {
        struct evtchn_unmask op = { .port = port };
        HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
    }
}

/*
 * Test guest for the "raw" event benchmark (tests/bench/evtchn_bench.sh):
 * the arch layer and this kernel_main only. It allocates a port for
 * domain 0, prints `bounce: port=P`, waits until a dom0 program bound it
 * (EVTCHNOP_status says interdomain), times DOORBELLS doorbell writes
 * (each one a KVM ioeventfd signal, no exit to the VMM) and prints
 * `bounce: doorbell ns=X`, then loops forever: wait for the interrupt,
 * write the doorbell from the handler. No 2-level scan, no kernel, no
 * threads: what is left is the bare irqfd -> vector -> ioeventfd path.
 */
#include "arch.h"
#include "hypercall.h"
#include "kernel.h"
#include "public/event_channel.h"
#include "public/hvm/hvm_op.h"
#include "public/hvm/params.h"
#include "public/hvm/start_info.h"
#include "public/sched.h"
#include "public/tandem.h"

#define VECTOR 0xe1
#define DOORBELLS 20000

static evtchn_port_t port;
static volatile int armed;   /* answer only once the burst is done */

static void doorbell(void)
{
    __asm__ __volatile__("outl %0, %w1" : : "a"((uint32_t)port), "Nd"(TANDEM_DOORBELL_PORT) : "memory");
}

/* The whole upcall: answer. (The LAPIC EOI is the arch layer's.) */
static void bounce(void)
{
    if (armed)
        doorbell();
}

static void die(const char *what, long r)
{
    printk("bounce: FAIL %s (%ld)\n", what, r);
    struct sched_shutdown sd = { .reason = SHUTDOWN_crash };
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

static int bound(void)
{
    struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 &&
           st.status == EVTCHNSTAT_interdomain;
}

void kernel_main(const struct hvm_start_info *start)
{
    (void)start;
    /* Every port masked: the VMM's own events (xenstore, timers) must not
     * reach the handler and ring extra doorbells; dom0's bare irqfd writes
     * bypass the 2-level bits entirely. */
    struct shared_info *si = (struct shared_info *)(uintptr_t)TANDEM_DEFAULT_SHARED_INFO_GPA;
    for (unsigned int w = 0; w < sizeof(si->evtchn_mask) / sizeof(si->evtchn_mask[0]); w++)
        __atomic_store_n(&si->evtchn_mask[w], ~0UL, __ATOMIC_SEQ_CST);
    arch_set_upcall(VECTOR, bounce);
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                               .value = (2ULL << 56) | VECTOR };
    long r = HYPERVISOR_hvm_op(HVMOP_set_param, &p);
    if (r)
        return die("set CALLBACK_IRQ", r);
    /* An event the VMM flagged before we masked (xenstore's introduce) is
     * re-signalled when the vector is set: take it now, unanswered. */
    __atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    arch_irq_enable();
    arch_irq_disable();
    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 0 };
    if ((r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au)))
        return die("alloc_unbound", r);
    port = au.port;
    printk("bounce: port=%u\n", port);
    while (!bound())
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
    uint64_t t0 = arch_rdtsc();
    for (int i = 0; i < DOORBELLS; i++)
        doorbell();
    uint64_t cycles = arch_rdtsc() - t0;
    printk("bounce: doorbell cycles=%llu n=%d\n", (unsigned long long)cycles, DOORBELLS);
    armed = 1;
    arch_irq_enable();
    for (;;) {
        arch_irq_disable();
        arch_idle();
        arch_irq_enable();
    }
}

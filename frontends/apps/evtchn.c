/*
 * app=evtchn: exercises the event-channel layer on a loopback pair (an
 * unbound port of our own, bound back from a second port): delivery by
 * EVTCHNOP_send and by the doorbell, that a masked port stays quiet and
 * fires once unmasked, that an upcall the vCPU's LAPIC refused (software-
 * disabled) is owed, not lost, and close.  Prints `evtchn: ok ...`.
 */
#include "apps.h"
#include "evtchn.h"
#include "kernel.h"
#include "ktime.h"
#include "percpu.h"
#include "public/xen.h"
#include "thread.h"

#define WAIT_NS (2 * NSEC_PER_SEC)
#define QUIET_NS (20 * NSEC_PER_MSEC)

static int hits[2]; /* events seen on end 0 (a) and end 1 (b) */
static struct waitq wq = WAITQ_INIT;

static void on_event(evtchn_port_t port, void *arg)
{
    (void)port;
    __atomic_fetch_add(&hits[(uintptr_t)arg], 1, __ATOMIC_ACQ_REL);
    waitq_wake_all(&wq);
}

static int seen(int end)
{
    return __atomic_load_n(&hits[end], __ATOMIC_ACQUIRE);
}

static bool wait_hits(int end, int want)
{
    return wait_event_until(&wq, seen(end) >= want, monotonic_ns() + WAIT_NS);
}

static int fail(const char *what)
{
    printk("evtchn: FAIL %s (hits a=%d b=%d)\n", what, seen(0), seen(1));
    return 1;
}

/* Average time from EVTCHNOP_send on b to this thread running again after
 * a's handler woke it (hypercall, upcall, wakeup); 0 if one was lost. */
#define ROUND_TRIPS 100

static uint64_t time_round_trips(evtchn_port_t b)
{
    int base = seen(0);
    uint64_t t0 = monotonic_ns();
    for (int i = 1; i <= ROUND_TRIPS; i++) {
        evtchn_send(b);
        if (!wait_hits(0, base + i))
            return 0;
    }
    return (monotonic_ns() - t0) / ROUND_TRIPS;
}

int app_evtchn(const struct cmdline *cl)
{
    (void)cl;
    long a = evtchn_alloc_unbound(DOMID_SELF, on_event, (void *)0);
    if (a < 0)
        return fail("alloc_unbound");
    long b = evtchn_bind_interdomain(DOMID_SELF, (evtchn_port_t)a, on_event, (void *)1);
    if (b < 0)
        return fail("bind_interdomain");
    evtchn_send((evtchn_port_t)b);      /* b -> a by hypercall */
    if (!wait_hits(0, 1))
        return fail("send b->a not delivered");
    evtchn_notify((evtchn_port_t)a);    /* a -> b by the doorbell */
    if (!wait_hits(1, 1))
        return fail("doorbell a->b not delivered");
    evtchn_mask((evtchn_port_t)a);
    evtchn_send((evtchn_port_t)b);
    msleep(QUIET_NS / NSEC_PER_MSEC);
    if (seen(0) != 1)
        return fail("masked port fired");
    evtchn_unmask((evtchn_port_t)a);    /* pending while masked: delivered now */
    if (!wait_hits(0, 2))
        return fail("pending event lost across unmask");
    /* An event while the LAPIC is disabled: KVM refuses the upcall and
     * evtchn_upcall_pending stays 1, so every later event only sets bits;
     * the VMM must signal again (hypervisor/vmm/evtchn.c signal_vcpu).
     * No sleeping meanwhile: the timer's upcall is refused too. */
    int before = seen(0);
    lapic_set_enabled(false);
    evtchn_send((evtchn_port_t)b);
    for (uint64_t until = monotonic_ns() + QUIET_NS; monotonic_ns() < until;)
        __asm__ __volatile__("pause");
    lapic_set_enabled(true);
    evtchn_send((evtchn_port_t)b);
    if (!wait_hits(0, before + 1))
        return fail("an upcall refused while the LAPIC was disabled was lost");
    uint64_t avg_ns = time_round_trips((evtchn_port_t)b);
    if (!avg_ns)
        return fail("round trips");
    if (evtchn_close((evtchn_port_t)b) < 0 || evtchn_close((evtchn_port_t)a) < 0)
        return fail("close");
    printk("evtchn: ok ports=%ld,%ld send doorbell mask unmask refused-upcall close; send->handler->thread %llu ns\n",
           a, b, (unsigned long long)avg_ns);
    return 0;
}

/*
 * Console frontend and printk.  Output goes to the PV console ring once
 * console_init() ran, before that through HYPERVISOR_console_io.  A full
 * ring is waited on for a bounded time (the backend may be gone, e.g. at
 * a crash), then output is dropped rather than hanging the kernel.
 */
#include "arch.h"
#include "console.h"
#include "evtchn.h"
#include "hypercall.h"
#include "kernel.h"
#include "platform.h"
#include "public/io/console.h"
#include "public/xen.h"
#include "spinlock.h"
#include "thread.h"

#define RING_WAIT_MS 2000     /* longest wait for the backend to drain */
#define LOCK_WAIT_MS 1000     /* longest wait for another printk */
#define FALLBACK_SPINS 200000 /* when the TSC frequency is unknown */

static volatile struct xencons_interface *ring;
static uint32_t ring_port;
static struct spinlock console_lock = SPINLOCK_INIT;
static struct waitq input_wq = WAITQ_INIT;

void console_init(uint64_t ring_gpa, uint32_t port)
{
    ring_port = port;
    __atomic_store_n(&ring, phys_to_virt(ring_gpa), __ATOMIC_RELEASE);
}

/* A bounded wait measured with the TSC, usable before the clock is set
 * up and in any context; in emulated mode a spin count would take far
 * longer than intended. */
struct bound {
    uint64_t end_tsc;
    unsigned long spins;
};

static struct bound bound_start(unsigned int ms)
{
    uint64_t ticks = (uint64_t)platform.tsc_khz * ms;
    return (struct bound){ ticks ? arch_rdtsc() + ticks : 0, 0 };
}

static bool bound_expired(struct bound *b)
{
    __asm__ __volatile__("pause");
    if (b->end_tsc)
        return arch_rdtsc() >= b->end_tsc;
    return ++b->spins >= FALLBACK_SPINS;
}

static bool ring_wait_space(volatile struct xencons_interface *r)
{
    struct bound b = bound_start(RING_WAIT_MS);
    for (unsigned long i = 0; !bound_expired(&b); i++) {
        uint32_t used = r->out_prod - READ_ONCE(r->out_cons);
        if (used < sizeof(r->out))
            return true;
        if (used > sizeof(r->out))
            return false; /* the backend corrupted out_cons: stop writing */
        if (i == 0)
            evtchn_notify(ring_port);
    }
    return false;
}

static void ring_write(volatile struct xencons_interface *r, const char *s, size_t len)
{
    uint32_t prod = r->out_prod;
    while (len) {
        if (prod - READ_ONCE(r->out_cons) >= sizeof(r->out)) {
            r->out_prod = prod;
            if (!ring_wait_space(r))
                break;
        }
        r->out[MASK_XENCONS_IDX(prod, r->out)] = *s++;
        prod++;
        len--;
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    r->out_prod = prod;
    evtchn_notify(ring_port);
}

/* Bounded: a crash report must get out even if the crash happened while
 * this vCPU held the lock. */
static bool console_lock_bounded(void)
{
    struct bound b = bound_start(LOCK_WAIT_MS);
    do {
        if (!__atomic_exchange_n(&console_lock.locked, 1, __ATOMIC_ACQUIRE))
            return true;
    } while (!bound_expired(&b));
    return false;
}

void console_write(const char *s, size_t len)
{
    volatile struct xencons_interface *r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    unsigned long flags = arch_irq_save();
    bool locked = console_lock_bounded();
    if (r)
        ring_write(r, s, len);
    else
        HYPERVISOR_console_io(CONSOLEIO_write, (int)len, s);
    if (locked)
        spin_unlock(&console_lock);
    arch_irq_restore(flags);
}

void console_flush(void)
{
    volatile struct xencons_interface *r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    if (!r)
        return;
    evtchn_notify(ring_port);
    struct bound b = bound_start(RING_WAIT_MS);
    while (READ_ONCE(r->out_cons) != r->out_prod && !bound_expired(&b))
        ;
}

size_t console_read(char *buf, size_t len)
{
    volatile struct xencons_interface *r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    size_t n = 0;
    if (!r)
        return 0;
    unsigned long flags = spin_lock_irqsave(&console_lock);
    uint32_t cons = r->in_cons, prod = READ_ONCE(r->in_prod);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (prod - cons <= sizeof(r->in)) {
        while (cons != prod && n < len)
            buf[n++] = r->in[MASK_XENCONS_IDX(cons++, r->in)];
        r->in_cons = cons;
    }
    spin_unlock_irqrestore(&console_lock, flags);
    if (n)
        evtchn_notify(ring_port);
    return n;
}

void console_event_handler(uint32_t port, void *arg)
{
    (void)port;
    (void)arg;
    waitq_wake_all(&input_wq);
}

static bool input_pending(void)
{
    volatile struct xencons_interface *r = __atomic_load_n(&ring, __ATOMIC_ACQUIRE);
    return r && READ_ONCE(r->in_prod) != r->in_cons;
}

size_t console_read_wait(char *buf, size_t len, uint64_t deadline)
{
    if (!wait_event_until(&input_wq, input_pending(), deadline))
        return 0;
    return console_read(buf, len);
}

int vprintk(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    console_write(buf, len);
    return (int)len;
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

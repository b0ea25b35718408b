/*
 * Clock and timer.  System time = system_time + scaled (rdtsc -
 * tsc_timestamp), read under Xen's version protocol: the VMM makes the
 * version odd while it updates the record, so a reader retries when the
 * version is odd or changed while it read.
 */
#include "arch.h"
#include "clock.h"
#include "evtchn.h"
#include "hypercall.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"

static uint64_t last_ns[ARCH_MAX_CPUS]; /* keeps each vCPU's clock monotonic */
static const struct vcpu_time_info *time_src[ARCH_MAX_CPUS];

static uint64_t read_system_time(const volatile struct vcpu_time_info *t)
{
    uint32_t version;
    uint64_t tsc_stamp, sys, tsc;
    uint32_t mul;
    int8_t shift;
    do {
        version = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        tsc_stamp = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = arch_rdtsc();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != t->version);
    uint64_t delta = tsc > tsc_stamp ? tsc - tsc_stamp : 0;
    return sys + clock_scale_delta(delta, mul, shift);
}

uint64_t monotonic_ns(void)
{
    int cpu = arch_cpu_id();
    const struct vcpu_time_info *t = time_src[cpu];
    if (!t)
        return tsc_to_ns(arch_rdtsc()); /* before time_init_cpu: early boot only */
    unsigned long flags = arch_irq_save();
    uint64_t now = read_system_time(t);
    if (now < last_ns[cpu])
        now = last_ns[cpu];
    last_ns[cpu] = now;
    arch_irq_restore(flags);
    return now;
}

uint64_t wallclock_ns(void)
{
    const volatile struct shared_info *s = evtchn_shared_info();
    uint32_t version, sec, nsec, sec_hi;
    if (!s)
        return 0;
    do {
        version = s->wc_version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        sec = s->wc_sec;
        nsec = s->wc_nsec;
        sec_hi = s->wc_sec_hi;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != s->wc_version);
    uint64_t base = (((uint64_t)sec_hi << 32) | sec) * NSEC_PER_SEC + nsec;
    return base ? base + monotonic_ns() : 0;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
    return clock_tsc_to_ns(ticks, platform.tsc_khz);
}

/* Deadline of the one-shot timer each vCPU has armed and not yet seen
 * fire (0: none).  set_timer_op costs a VMM exit (~40 us on PVM), so a
 * vCPU that idles again before its armed timer fired does not re-arm for
 * a later deadline: the earlier expiry only wakes it early, and the
 * scheduler then re-arms for what is due.  Touched only by its own vCPU,
 * with interrupts disabled. */
static uint64_t armed_deadline[ARCH_MAX_CPUS];

void timer_arm(uint64_t deadline)
{
    int cpu = arch_cpu_id();
    uint64_t armed = armed_deadline[cpu];
    if (armed && armed <= deadline && armed > monotonic_ns())
        return;
    armed_deadline[cpu] = deadline;
    HYPERVISOR_set_timer_op(deadline);
}

/* The timer's only job is to end arch_idle(); the scheduler then looks at
 * the clock itself. */
static void timer_virq(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    armed_deadline[arch_cpu_id()] = 0;
}

/* The registered vcpu_info should carry the time; if the VMM only keeps
 * the legacy shared_info slot up to date, use that one. */
static void pick_time_source(int cpu)
{
    const struct vcpu_time_info *t = &evtchn_vcpu_info(cpu)->time;
    if (!READ_ONCE(t->tsc_to_system_mul) && cpu < XEN_LEGACY_MAX_VCPUS) {
        const struct vcpu_time_info *legacy = &evtchn_shared_info()->vcpu_info[cpu].time;
        if (READ_ONCE(legacy->tsc_to_system_mul))
            t = legacy;
    }
    if (!READ_ONCE(t->tsc_to_system_mul))
        panic("time: vcpu %d: the VMM published no vcpu_time_info (mul is 0)", cpu);
    time_src[cpu] = t;
}

/* New domain: the VIRQ_TIMER port is gone and no timer is armed. */
void time_resume(void)
{
    armed_deadline[0] = 0;
    time_init_cpu(0);
}

void time_init_cpu(int cpu)
{
    pick_time_source(cpu);
    long r = evtchn_bind_virq(VIRQ_TIMER, (uint32_t)cpu, timer_virq, NULL);
    if (r < 0)
        panic("time: vcpu %d: bind VIRQ_TIMER failed: %ld", cpu, r);
}

/*
 * Secondary vCPU bring-up through the arch layer's arch_cpu_up: each new
 * vCPU registers its vcpu_info and upcall vector, binds its own
 * VIRQ_TIMER and an IPI port (for cross-vCPU wakeups), becomes a
 * scheduler for threads created on it, and parks its boot thread.
 */
#include "arch.h"
#include "evtchn.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"
#include "smp.h"
#include "thread.h"

#define CPU_START_TIMEOUT_NS (5 * NSEC_PER_SEC)

static int online = 1;
static evtchn_port_t ipi_port[ARCH_MAX_CPUS];

/* The IPI's only job is to end the target's idle halt. */
static void ipi_event(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
}

static void kick_cpu(int cpu)
{
    evtchn_port_t p = __atomic_load_n(&ipi_port[cpu], __ATOMIC_ACQUIRE);
    if (p)
        evtchn_send(p);
}

/* Binds this vCPU's IPI port; without one it falls back to capped idle. */
static void setup_ipi(int cpu)
{
    long r = evtchn_bind_ipi((uint32_t)cpu, ipi_event, NULL);
    if (r < 0) {
        printk("smp: vcpu %d: EVTCHNOP_bind_ipi failed (%ld); idle will poll\n", cpu, r);
        return;
    }
    __atomic_store_n(&ipi_port[cpu], (evtchn_port_t)r, __ATOMIC_RELEASE);
    sched_set_cpu_kickable(cpu, true);
}
static struct waitq online_wq = WAITQ_INIT;

int smp_cpus_online(void)
{
    return __atomic_load_n(&online, __ATOMIC_ACQUIRE);
}

static void secondary_main(void *arg)
{
    int cpu = (int)(uintptr_t)arg;
    if (arch_cpu_id() != cpu)
        panic("smp: vcpu %d started as arch cpu %d", cpu, arch_cpu_id());
    sched_init_cpu(cpu, "boot");
    if (evtchn_init_cpu(cpu) < 0)
        sched_set_cpu_polls(cpu, true);
    time_init_cpu(cpu);
    setup_ipi(cpu);
    __atomic_fetch_add(&online, 1, __ATOMIC_ACQ_REL);
    waitq_wake_all(&online_wq);
    arch_irq_enable();
    for (;;)
        thread_block();
}

int smp_start(void)
{
    int want = (int)platform.nr_cpus;
    if (want > ARCH_MAX_CPUS)
        want = ARCH_MAX_CPUS;
    if (want > 1) {
        sched_set_kick(kick_cpu);
        setup_ipi(0);
        sched_set_multi_cpu(true);
    }
    int started = 1;
    for (int cpu = 1; cpu < want; cpu++) {
        int r = arch_cpu_up(cpu, secondary_main, (void *)(uintptr_t)cpu);
        if (r < 0) {
            printk("smp: arch_cpu_up(%d) failed: %d\n", cpu, r);
            break;
        }
        started++;
    }
    uint64_t deadline = monotonic_ns() + CPU_START_TIMEOUT_NS;
    if (!wait_event_until(&online_wq, smp_cpus_online() >= started, deadline))
        printk("smp: only %d of %d vCPUs came up\n", smp_cpus_online(), started);
    return smp_cpus_online();
}

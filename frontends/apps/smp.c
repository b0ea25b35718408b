/*
 * app=smp: starts every vCPU the FDT lists, runs one thread on each that
 * checks it is on the vCPU it was created for and sleeps on that vCPU's
 * own timer, then prints `smp: ok cpus=N`.
 */
#include "apps.h"
#include "arch.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"
#include "smp.h"
#include "thread.h"

#define SMP_TIMEOUT_NS (10 * NSEC_PER_SEC)

static int done, wrong_cpu;
static struct waitq done_wq = WAITQ_INIT;

static void worker(void *arg)
{
    int cpu = (int)(uintptr_t)arg;
    if (arch_cpu_id() != cpu)
        __atomic_fetch_add(&wrong_cpu, 1, __ATOMIC_RELAXED);
    msleep(5); /* exercises this vCPU's VIRQ_TIMER */
    if (arch_cpu_id() != cpu)
        __atomic_fetch_add(&wrong_cpu, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&done, 1, __ATOMIC_ACQ_REL);
    waitq_wake_all(&done_wq);
}

int app_smp(const struct cmdline *cl)
{
    (void)cl;
    int n = smp_start();
    for (int cpu = 0; cpu < n; cpu++)
        if (!thread_create_on(cpu, "smp-worker", worker, (void *)(uintptr_t)cpu)) {
            printk("smp: FAIL cannot create a thread on vcpu %d\n", cpu);
            return 1;
        }
    bool ok = wait_event_until(&done_wq, __atomic_load_n(&done, __ATOMIC_ACQUIRE) == n,
                               monotonic_ns() + SMP_TIMEOUT_NS);
    if (!ok || wrong_cpu || n != (int)platform.nr_cpus) {
        printk("smp: FAIL cpus=%d of %u, finished=%d, wrong-cpu=%d\n", n, platform.nr_cpus,
               done, wrong_cpu);
        return 1;
    }
    printk("smp: ok cpus=%d\n", n);
    return 0;
}

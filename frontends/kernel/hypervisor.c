/*
 * Shutdown and panic.  Every way out of the kernel ends here so that the
 * console is flushed before the VMM tears the domain down.
 */
#include "arch.h"
#include "console.h"
#include "hypercall.h"
#include "hypervisor.h"
#include "kernel.h"
#include "public/sched.h"

void hypervisor_shutdown(unsigned int reason)
{
    console_flush();
    struct sched_shutdown op = { .reason = reason };
    for (;;) {
        long r = HYPERVISOR_sched_op(SCHEDOP_shutdown, &op);
        /* Only returns on failure; stop this vCPU for good. */
        printk("hypervisor: SCHEDOP_shutdown(%u) returned %ld\n", reason, r);
        arch_irq_disable();
        arch_idle();
    }
}

void panic(const char *fmt, ...)
{
    va_list ap;
    arch_irq_disable();
    printk("\npanic: ");
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    arch_backtrace();
    hypervisor_shutdown(SHUTDOWN_crash);
}

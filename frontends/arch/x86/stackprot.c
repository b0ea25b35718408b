/* Stack-protector failure (libfdt.a is built with -fstack-protector). */
#include "kernel.h"
#include "hypercall.h"
#include "public/sched.h"

void __stack_chk_fail(void);

__attribute__((noreturn)) void __stack_chk_fail(void)
{
    printk("*** stack protector: stack smashed\n");
    struct sched_shutdown sd = { .reason = SHUTDOWN_crash };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

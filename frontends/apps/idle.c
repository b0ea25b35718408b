/*
 * app=idle: sleeps until the toolstack asks for a shutdown through
 * xenstore, Xen's protocol. The kernel answers control/shutdown
 * (frontends/kernel/suspend.c: "poweroff", "halt", "reboot", "suspend");
 * this app waits until that watch is in place, says so, and sleeps. After
 * a suspend and restore it says where it woke up.
 */
#include "apps.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"
#include "suspend.h"
#include "thread.h"
#include "xenstore.h"

#define READY_WAIT_NS XS_TIMEOUT_NS   /* then say so, and wait on */

int app_idle(const struct cmdline *cl)
{
    (void)cl;
    if (!xs_available()) {
        printk("idle: no xenstore; sleeping until destroyed\n");
        for (;;)
            thread_block();
    }
    /* xenstored may not serve us yet (the toolstack introduces the domain
     * while it boots): the kernel keeps trying in the background. */
    if (!control_wait_ready(monotonic_ns() + READY_WAIT_NS)) {
        printk("idle: xenstore does not answer yet; still trying\n");
        control_wait_ready(0);
    }
    printk("idle: waiting for control/shutdown\n");
    for (unsigned int seen = 0;;) {
        seen = suspend_wait_resume(seen);
        printk("idle: resumed as domid %u; waiting for control/shutdown\n", platform.domid);
    }
}

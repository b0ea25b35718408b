/*
 * app=idle: sleeps until the toolstack asks for a shutdown through
 * xenstore, Xen's protocol: watch control/shutdown (relative to the
 * domain's home), and on "poweroff", "halt", "reboot" or "suspend"
 * acknowledge by writing "" back, then SCHEDOP_shutdown with the reason.
 */
#include "apps.h"
#include "hypervisor.h"
#include "kernel.h"
#include "kerrno.h"
#include "public/sched.h"
#include "thread.h"
#include "xenstore.h"

#define SHUTDOWN_KEY "control/shutdown"

static int reason_of(const char *req)
{
    if (strcmp(req, "poweroff") == 0 || strcmp(req, "halt") == 0)
        return SHUTDOWN_poweroff;
    if (strcmp(req, "reboot") == 0)
        return SHUTDOWN_reboot;
    if (strcmp(req, "suspend") == 0)
        return SHUTDOWN_suspend;
    return -1;
}

int app_idle(const struct cmdline *cl)
{
    (void)cl;
    if (!xs_available()) {
        printk("idle: no xenstore; sleeping until destroyed\n");
        for (;;)
            thread_block();
    }
    /* xenstored may not serve us yet (the toolstack introduces the domain
     * while it boots): keep trying while requests only time out. */
    int r;
    for (int tries = 0; (r = xs_watch(SHUTDOWN_KEY, "shutdown")) == -ETIMEDOUT; tries++)
        if (tries == 0)
            printk("idle: xenstore does not answer yet; still trying\n");
    if (r < 0) {
        printk("idle: watching %s failed (%d); sleeping until destroyed\n", SHUTDOWN_KEY, r);
        for (;;)
            thread_block();
    }
    printk("idle: waiting for %s\n", SHUTDOWN_KEY);
    for (;;) {
        char path[128], token[32], req[32];
        r = xs_read_watch(path, sizeof(path), token, sizeof(token), 0);
        if (r < 0) {
            printk("idle: xenstore failed (%d); sleeping until destroyed\n", r);
            for (;;)
                thread_block();
        }
        r = xs_read(SHUTDOWN_KEY, req, sizeof(req));
        if (r <= 0)
            continue; /* absent or empty: nothing asked (yet) */
        int reason = reason_of(req);
        if (reason < 0) {
            printk("idle: ignoring unknown shutdown request '%s'\n", req);
            continue;
        }
        printk("idle: shutdown request '%s'\n", req);
        xs_write(SHUTDOWN_KEY, "");
        hypervisor_shutdown((unsigned int)reason);
    }
}

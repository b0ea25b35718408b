/*
 * control/shutdown and suspend/resume (suspend.h). Runs on the xenbus
 * thread, in the watch callback: its own xenstore requests are done, so
 * xs_suspend can hold the only request slot across the save and no request
 * is lost half-way. Only a uniprocessor guest suspends (the other vCPUs
 * would need their own rebuild); a request it cannot honour is answered on
 * the console and the toolstack's wait times out.
 */
#include "arch.h"
#include "console.h"
#include "evtchn.h"
#include "gnttab.h"
#include "hypercall.h"
#include "hypervisor.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"
#include "public/sched.h"
#include "smp.h"
#include "spinlock.h"
#include "suspend.h"
#include "thread.h"
#include "xenbus.h"
#include "xenstore.h"

#define SHUTDOWN_KEY "control/shutdown"

static struct {
    struct spinlock lock;
    struct resume_hook *hooks;
    struct xenbus_watch watch;
    bool ready;
    unsigned int resumes;
    struct waitq wq;            /* woken when ready, and after each resume */
} ctl;

void suspend_add_resume_hook(struct resume_hook *h, void (*fn)(void *arg), void *arg)
{
    h->fn = fn;
    h->arg = arg;
    h->next = NULL;
    unsigned long flags = spin_lock_irqsave(&ctl.lock);
    struct resume_hook **pp = &ctl.hooks;
    while (*pp)
        pp = &(*pp)->next;
    *pp = h;
    spin_unlock_irqrestore(&ctl.lock, flags);
}

void suspend_remove_resume_hook(struct resume_hook *h)
{
    unsigned long flags = spin_lock_irqsave(&ctl.lock);
    for (struct resume_hook **pp = &ctl.hooks; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    spin_unlock_irqrestore(&ctl.lock, flags);
}

unsigned int suspend_resumes(void)
{
    return READ_ONCE(ctl.resumes);
}

bool control_ready(void)
{
    return __atomic_load_n(&ctl.ready, __ATOMIC_ACQUIRE);
}

bool control_wait_ready(uint64_t deadline)
{
    return wait_event_until(&ctl.wq, control_ready(), deadline);
}

unsigned int suspend_wait_resume(unsigned int seen)
{
    wait_event(&ctl.wq, READ_ONCE(ctl.resumes) != seen);
    return READ_ONCE(ctl.resumes);
}

/* Our domid is the new domain's: xenstore's "domid" under our home. */
static void learn_domid(void)
{
    char v[16];
    uint64_t id;
    int n = xenbus_read(XBT_NIL, "domid", v, sizeof(v));
    if (n > 0 && (size_t)n < sizeof(v) && xenbus_parse_u64(v, DOMID_FIRST_RESERVED - 1, &id) == 0)
        platform.domid = (uint32_t)id;
    else
        printk("suspend: cannot read our new domid; keeping %u\n", platform.domid);
}

static void advertise(void)
{
    static const char *const keys[] = { "control/feature-poweroff", "control/feature-reboot",
                                        "control/feature-suspend" };
    for (unsigned int i = 0; i < ARRAY_SIZE(keys); i++)
        if (xenbus_write(XBT_NIL, keys[i], "1") < 0)
            printk("suspend: writing %s failed\n", keys[i]);
}

/* Interrupts off, vcpu 0: what must be back before anything runs. */
static void rebuild_platform(void)
{
    evtchn_resume();
    time_resume();
    gnttab_resume();
}

static void run_hooks(void)
{
    unsigned long flags = spin_lock_irqsave(&ctl.lock);
    struct resume_hook *h = ctl.hooks;
    spin_unlock_irqrestore(&ctl.lock, flags);
    for (; h; h = h->next)
        h->fn(h->arg);
}

static void do_suspend(void)
{
    if (smp_cpus_online() > 1) {
        printk("suspend: %d vCPUs online; only a uniprocessor guest can suspend\n",
               smp_cpus_online());
        return;
    }
    if (xs_suspend() < 0) {
        printk("suspend: xenstore stays busy; not suspending\n");
        return;
    }
    printk("suspend: suspending (domid %u)\n", platform.domid);
    console_flush();
    unsigned long flags = arch_irq_save();
    struct sched_shutdown op = { .reason = SHUTDOWN_suspend };
    long r = HYPERVISOR_sched_op(SCHEDOP_shutdown, &op);
    if (r == 0)
        rebuild_platform();
    arch_irq_restore(flags);
    xs_resume(r == 0);
    if (r != 0) {
        printk("suspend: cancelled (%ld); carrying on\n", r);
        return;
    }
    learn_domid();
    ctl.resumes++;
    printk("suspend: resumed as domid %u\n", platform.domid);
    advertise();
    run_hooks();
    waitq_wake_all(&ctl.wq);
}

static void shutdown_requested(struct xenbus_watch *w, const char *path, void *arg)
{
    (void)w;
    (void)path;
    (void)arg;
    char req[32];
    int n = xenbus_read(XBT_NIL, SHUTDOWN_KEY, req, sizeof(req));
    if (n <= 0)
        return;   /* absent or empty: nothing asked */
    if ((size_t)n >= sizeof(req)) {
        printk("control: ignoring an over-long shutdown request\n");
        return;
    }
    unsigned int reason;
    if (!strcmp(req, "poweroff") || !strcmp(req, "halt"))
        reason = SHUTDOWN_poweroff;
    else if (!strcmp(req, "reboot"))
        reason = SHUTDOWN_reboot;
    else if (!strcmp(req, "suspend"))
        reason = SHUTDOWN_suspend;
    else {
        printk("control: ignoring unknown shutdown request '%s'\n", req);
        return;
    }
    printk("control: shutdown request '%s'\n", req);
    xenbus_write(XBT_NIL, SHUTDOWN_KEY, "");   /* the acknowledgement */
    if (reason == SHUTDOWN_suspend)
        do_suspend();
    else
        hypervisor_shutdown(reason);
}

int control_start(void)
{
    int r = xenbus_init();
    if (r < 0)
        return r;
    r = xenbus_watch_path(&ctl.watch, SHUTDOWN_KEY, shutdown_requested, NULL);
    if (r < 0)
        return r;
    __atomic_store_n(&ctl.ready, true, __ATOMIC_RELEASE);
    waitq_wake_all(&ctl.wq);
    if (xenbus_write(XBT_NIL, "control/feature-suspend", "1") < 0)
        printk("control: writing control/feature-suspend failed\n");
    return 0;
}

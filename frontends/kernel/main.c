/*
 * kernel_main: called by the arch layer in 64-bit mode with interrupts
 * off.  Brings the kernel up in dependency order — boot data, memory,
 * events, scheduler, clock, console ring, xenstore — then runs the app
 * named on the command line in the main thread and shuts the domain down
 * with the app's verdict.
 */
#include "apps.h"
#include "arch.h"
#include "cmdline.h"
#include "console.h"
#include "evtchn.h"
#include "hypervisor.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"
#include "platform.h"
#include "public/hvm/start_info.h"
#include "public/sched.h"
#include "suspend.h"
#include "thread.h"
#include "xenstore.h"

#define FEATURE_TRIES 12   /* XS_TIMEOUT_NS each */

static struct cmdline cmdline;

static void parse_cmdline(const struct hvm_start_info *si)
{
    const char *src = si->cmdline_paddr ? phys_to_virt(si->cmdline_paddr) : platform.bootargs;
    char err[160];
    if (cmdline_parse(&cmdline, src, CMDLINE_MAX + 1, err, sizeof(err)) < 0) {
        printk("%s\n", err);
        hypervisor_shutdown(SHUTDOWN_crash);
    }
}

static void start_console(void)
{
    const char *c = cmdline_get(&cmdline, "console");
    if (!platform.has_console || (c && strcmp(c, "io") == 0))
        return; /* keep console_io: no ring, or asked for */
    evtchn_bind(platform.console_port, console_event_handler, NULL);
    console_init(platform.console_ring, platform.console_port);
}

/* libxl looks for control/feature-* before it asks a guest to shut
 * down; written in the background so no app waits for xenstored. Then
 * the kernel answers control/shutdown itself (suspend.c), unless the app
 * reads watch events on its own; feature-suspend says it does. */
static void advertise_features(void *arg)
{
    const struct app *app = arg;
    static const char *const keys[] = { "control/feature-poweroff", "control/feature-reboot" };
    for (unsigned int i = 0; i < ARRAY_SIZE(keys); i++) {
        int r, tries = 0;
        /* xenstored may not serve us yet (the toolstack introduces the
         * domain while it boots): try for a minute while requests time out. */
        while ((r = xs_write(keys[i], "1")) == -ETIMEDOUT && i == 0 && ++tries < FEATURE_TRIES)
            ;
        if (r < 0) {
            printk("xenstore: writing %s failed (%d); is xenstored attached?\n", keys[i], r);
            return;
        }
    }
    if (!app->own_watches) {
        int r = control_start();
        if (r < 0)
            printk("control: cannot watch control/shutdown (%d)\n", r);
    }
}

static void start_xenstore(const struct app *app)
{
    if (!platform.has_xenstore || !xs_init(platform.xenstore_ring, platform.xenstore_port))
        return;
    const char *f = cmdline_get(&cmdline, "xs-features");
    if (!(f && strcmp(f, "0") == 0))
        thread_create("xs-features", advertise_features, (void *)app);
}

static const struct app *pick_app(void)
{
    const char *name = cmdline_get(&cmdline, "app");
    const struct app *app = app_find(name ? name : "hello");
    if (!app) {
        printk("unknown app=%s; the apps are:\n", name);
        app_list();
        hypervisor_shutdown(SHUTDOWN_crash);
    }
    return app;
}

void kernel_main(const struct hvm_start_info *si)
{
    if (platform_parse(si, arch_fdt()) < 0)
        panic("cannot use the boot information");
    parse_cmdline(si);
    mm_init(si);
    evtchn_init();
    sched_init_cpu(0, "main");
    time_init_cpu(0);
    arch_irq_enable();
    start_console();
    const struct app *app = pick_app();
    start_xenstore(app);
    printk("tandem guest: domid=%u cpu-mode=%s app=%s\n", platform.domid, arch_cpu_mode(),
           app->name);
    int rc = app->main(&cmdline);
    hypervisor_shutdown(rc == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

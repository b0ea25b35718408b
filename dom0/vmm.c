#include "vmm.h"
#include "config.h"
#include "rundir.h"
#include "util.h"
#include "vif.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VMM_ARGS_MAX 80

/* --name, --domid, --uuid; both platforms. */
static int identity_args(const struct vmm_launch *l, char **a, int n)
{
    a[n++] = xasprintf("--name");
    a[n++] = xasprintf("%s", l->cfg->name);
    a[n++] = xasprintf("--domid");
    a[n++] = xasprintf("%u", l->domid);
    a[n++] = xasprintf("--uuid");
    a[n++] = xasprintf("%s", l->uuid);
    return n;
}

/* [--xenstore S], then TANDEM_VMM_ARGS; ends the list. */
static char **last_args(const struct vmm_launch *l, char **a, int n)
{
    if (l->xenstore) {
        a[n++] = xasprintf("--xenstore");
        a[n++] = xasprintf("%s", l->xenstore);
    }
    const char *extra = getenv("TANDEM_VMM_ARGS");   /* e.g. "--stats" */
    if (extra && *extra)
        a[n++] = xasprintf("%s", extra);
    a[n] = NULL;
    return a;
}

/* type = "hvm": the PC boots its firmware, or kernel = ... directly. COM1
 * (serial = ...): on a pty by default, which the VMM publishes in xenstore
 * as serial/0/tty (`tandem console`, `tandem run` find it there); "stdio":
 * the VMM's own stdin and stdout (`tandem run`'s terminal; under `tandem
 * create`, output to the domain's log, as the PV console's); "file:PATH":
 * output to PATH. */
static char **pc_argv(const struct vmm_launch *l, char **a, int n)
{
    const struct tandem_config *c = l->cfg;
    a[n++] = xasprintf("--machine");
    a[n++] = xasprintf("pc");
    if (c->firmware) {
        a[n++] = xasprintf("--firmware");
        a[n++] = xasprintf("%s", c->firmware);
    }
    if (c->kernel) {   /* without firmware: the 64-bit boot protocol; with: its option ROM */
        a[n++] = xasprintf("--kernel");
        a[n++] = xasprintf("%s", l->kernel);
        if (c->ramdisk) {
            a[n++] = xasprintf("--ramdisk");
            a[n++] = xasprintf("%s", c->ramdisk);
        }
        a[n++] = xasprintf("--cmdline");
        a[n++] = xasprintf("%s", config_cmdline(c));
    }
    a[n++] = xasprintf("--memory");
    a[n++] = xasprintf("%ld", c->memory_mib);
    a[n++] = xasprintf("--vcpus");
    a[n++] = xasprintf("%ld", c->vcpus);
    for (size_t i = 0; i < c->nvifs; i++) {    /* e1000s on taps the VMM makes */
        const struct vif_spec *v = &c->vifs[i];
        char tap[VIF_NAME_MAX];
        if (v->vifname[0])
            snprintf(tap, sizeof(tap), "%s", v->vifname);
        else if (snprintf(tap, sizeof(tap), "vif%u.%u-emu", l->domid, v->devid) >= (int)sizeof(tap))
            snprintf(tap, sizeof(tap), "tdm%u.%u", l->domid, v->devid);   /* Xen's name is too long */
        a[n++] = xasprintf("--nic");
        a[n++] = xasprintf("tap=%s,bridge=%s,mac=%s", tap, v->bridge, v->mac);
    }
    for (size_t i = 0; i < c->ndisks; i++) {   /* NVMe namespaces 1, 2, ... in order */
        a[n++] = xasprintf("--disk");
        a[n++] = xasprintf("%s%s", c->disks[i].target, c->disks[i].readonly ? ",ro" : "");
    }
    n = identity_args(l, a, n);
    a[n++] = xasprintf("--run-dir");
    a[n++] = xasprintf("%s", rundir());
    a[n++] = xasprintf("--console");
    if (config_serial_is_pty(c))
        a[n++] = xasprintf("pty");
    else if (!strcmp(c->serial, "stdio"))
        a[n++] = xasprintf("%s", l->console ? l->console : "stdio");
    else
        a[n++] = xasprintf("%s", c->serial);   /* file:PATH */
    if (l->paused)
        a[n++] = xasprintf("--paused");
    return last_args(l, a, n);
}

char **vmm_argv(const struct vmm_launch *l)
{
    const struct tandem_config *c = l->cfg;
    char **a = calloc(VMM_ARGS_MAX, sizeof(char *));
    int n = 0;
    if (!a)
        return NULL;
    a[n++] = helper_path("TANDEM_VMM", "tandem-vmm");
    if (config_is_hvm(c))
        return pc_argv(l, a, n);
    a[n++] = xasprintf("--kernel");
    a[n++] = xasprintf("%s", l->kernel);
    if (c->ramdisk && !l->restore) {   /* a restored domain's memory holds it */
        a[n++] = xasprintf("--ramdisk");
        a[n++] = xasprintf("%s", c->ramdisk);
    }
    a[n++] = xasprintf("--memory");
    a[n++] = xasprintf("%ld", c->memory_mib);
    a[n++] = xasprintf("--vcpus");
    a[n++] = xasprintf("%ld", c->vcpus);
    a[n++] = xasprintf("--grant-frames");
    a[n++] = xasprintf("%ld", c->max_grant_frames);
    if (c->mem_path) {
        a[n++] = xasprintf("--mem-path");
        a[n++] = xasprintf("%s", c->mem_path);
    }
    a[n++] = xasprintf("--cmdline");
    a[n++] = xasprintf("%s", config_cmdline(c));
    n = identity_args(l, a, n);
    a[n++] = xasprintf("--cpu-mode=%s", config_cpu_mode_name(c->cpu_mode));
    a[n++] = xasprintf("--run-dir");
    a[n++] = xasprintf("%s", rundir());
    a[n++] = xasprintf("--console");
    a[n++] = xasprintf("%s", l->console ? l->console : "stdio");
    a[n++] = xasprintf("--console-daemon");   /* the ring is tandem-consoled's */
    if (l->paused)
        a[n++] = xasprintf("--paused");
    if (l->restore) {
        a[n++] = xasprintf("--restore");
        a[n++] = xasprintf("%s", l->restore);
    }
    return last_args(l, a, n);
}

void vmm_argv_free(char **argv)
{
    for (int i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

pid_t vmm_spawn(char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        msg("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        execvp(argv[0], argv);
        msg("cannot run %s: %s", argv[0], strerror(errno));
        _exit(VMM_FAILED);
    }
    return pid;
}

const char *vmm_status_name(int status)
{
    static const char *const names[] = {
        "poweroff", "VMM failure", "bad input", "reboot", "suspend",
        "crash", "watchdog", "guest failure", "destroyed",
    };
    if (status >= 0 && status < (int)(sizeof(names) / sizeof(names[0])))
        return names[status];
    return "unknown status";
}

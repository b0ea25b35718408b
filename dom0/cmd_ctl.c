/* Verbs that act on a running domain: shutdown, reboot, destroy, pause,
 * unpause. Shutdown and reboot use Xen's protocol (the toolstack writes
 * control/shutdown, the guest acts on it); the rest use the VMM's control
 * socket. */
#include "cmds.h"
#include "ctl_client.h"
#include "domain.h"
#include "domid.h"
#include "store.h"
#include "tdm_error.h"
#include "util.h"
#include "xsd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DESTROY_TIMEOUT_MS 5000
#define DOMAINS_MAX 1024

/* ---- shutdown / reboot ---- */

struct shutdown_opts {
    const char *reason;   /* "poweroff" or "reboot" */
    bool wait;
    bool fallback;
};

static bool guest_has_feature(struct xs_handle *xs, unsigned domid, const char *reason)
{
    char *v = store_read(xs, "/local/domain/%u/control/feature-%s", domid, reason);
    bool yes = v && !strcmp(v, "1");
    free(v);
    return yes;
}

/* Asks one domain to shut down; returns the VMM's pid (for -w) or -1. */
static int request_shutdown(struct xs_handle *xs, unsigned domid,
                            const struct shutdown_opts *o, pid_t *pid)
{
    struct tdm_ctl_reply reply;
    struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
    *pid = c ? tdm_ctl_peer_pid(c) : 0;
    int rc = 0;
    if (o->fallback && (!xs || !guest_has_feature(xs, domid, o->reason))) {
        /* -F: the guest did not say it handles control/shutdown; ask the
         * VMM to end it as if the guest had asked. */
        char *req = xasprintf("shutdown reason=%s", o->reason);
        if (!c || tdm_ctl_request(c, req, TDM_CTL_ANY_FDS, &reply) < 0) {
            msg("domain %u: %s", domid, tdm_last_error());
            rc = -1;
        }
        free(req);
    } else if (!xs) {
        msg("xenstored is not running (use -F to ask the VMM directly)");
        rc = -1;
    } else if (!store_exists(xs, "/local/domain/%u/control", domid)) {
        /* type = "hvm" without PV drivers: nobody reads control/shutdown (xl:
         * "PV control interface not available") */
        msg("domain %u has no PV control interface (no control/ in xenstore): use -F to have "
            "its VMM end it, or destroy it", domid);
        rc = -1;
    } else {
        char *path = xasprintf("/local/domain/%u/control/shutdown", domid);
        if (!store_write(xs, path, o->reason)) {
            msg("cannot write %s", path);
            rc = -1;
        }
        free(path);
    }
    tdm_ctl_close(c);
    return rc;
}

static void shutdown_usage(FILE *f, const char *verb)
{
    fprintf(f, "usage: tandem %s [-w] [-F] DOM | -a [-w] [-F]\n"
               "  -w  wait until the domain has %s\n"
               "  -F  if the guest does not advertise control/feature-%s, ask the VMM directly\n"
               "  -a  every domain\n",
            verb, strcmp(verb, "reboot") ? "shut down" : "rebooted (its VMM exited)",
            strcmp(verb, "reboot") ? "poweroff" : "reboot");
}

/* The supervisor (tandem run / create) cleans up after its VMM: a domain
 * is gone when it lets go of the domid (bounded: a supervisor that
 * restarts the domain keeps it). */
void wait_domid_released(unsigned domid)
{
    int64_t deadline = now_ms() + DESTROY_TIMEOUT_MS;
    long delay_us = 200;
    while (domid_held(domid) && now_ms() < deadline) {
        struct timespec ts = { 0, delay_us * 1000 };
        nanosleep(&ts, NULL);
        if (delay_us < 20000)
            delay_us *= 2;
    }
}

int cmd_shutdown(int argc, char **argv)
{
    bool reboot = !strcmp(argv[0], "reboot");
    struct shutdown_opts o = { .reason = reboot ? "reboot" : "poweroff" };
    bool all = false;
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "+wFah")) != -1) {
        switch (opt) {
        case 'w': o.wait = true; break;
        case 'F': o.fallback = true; break;
        case 'a': all = true; break;
        case 'h': shutdown_usage(stdout, argv[0]); return 0;
        default: shutdown_usage(stderr, argv[0]); return EXIT_BADINPUT;
        }
    }
    if (all ? optind != argc : optind != argc - 1) {
        shutdown_usage(stderr, argv[0]);
        return EXIT_BADINPUT;
    }
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    static struct domain_info doms[DOMAINS_MAX];
    pid_t pids[DOMAINS_MAX];
    size_t n = 0;
    int rc = 0;
    if (all) {
        n = domain_list(xs, doms, DOMAINS_MAX);
    } else if (domain_resolve(xs, argv[optind], &doms[0].domid) == 0) {
        n = 1;
    } else {
        rc = 1;
    }
    for (size_t i = 0; i < n; i++) {
        pids[i] = 0;
        if (request_shutdown(xs, doms[i].domid, &o, &pids[i]) < 0)
            rc = 1;
    }
    for (size_t i = 0; o.wait && rc == 0 && i < n; i++) {
        if (pids[i] > 0)
            wait_pid_gone(pids[i], -1);
        else if (xs) {
            char *path = xasprintf("/local/domain/%u", doms[i].domid);
            store_wait_gone(xs, path, -1);
            free(path);
        }
        wait_domid_released(doms[i].domid);
    }
    store_close(xs);
    return rc;
}

/* ---- destroy ---- */

/* When no VMM answers but xenstore still has the domain, clean it up. */
static int forget_stale(struct xs_handle *xs, unsigned domid)
{
    if (!xs)
        return -1;
    char *vm = store_read(xs, "/local/domain/%u/vm", domid);
    const char *uuid = vm && !strncmp(vm, "/vm/", 4) ? vm + 4 : NULL;
    store_forget_domain(xs, domid, uuid);
    free(vm);
    return 0;
}

int cmd_destroy(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(argc == 2 && !strcmp(argv[1], "-h") ? stdout : stderr,
                "usage: tandem destroy DOM\n");
        return argc == 2 && !strcmp(argv[1], "-h") ? 0 : EXIT_BADINPUT;
    }
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    unsigned domid;
    int rc = 0;
    if (domain_resolve(xs, argv[1], &domid) < 0) {
        store_close(xs);
        return 1;
    }
    struct tdm_ctl_reply reply;
    struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
    pid_t pid = c ? tdm_ctl_peer_pid(c) : 0;
    if (!c) {
        rc = forget_stale(xs, domid) < 0 ? 1 : 0;
    } else {
        if (tdm_ctl_request(c, "destroy", TDM_CTL_ANY_FDS, &reply) < 0 && pid > 0)
            kill(pid, SIGKILL);   /* the VMM no longer answers properly */
        tdm_ctl_close(c);
        if (pid > 0 && wait_pid_gone(pid, DESTROY_TIMEOUT_MS) < 0) {
            msg("domain %u: tandem-vmm (pid %d) ignored destroy; killing it", domid, (int)pid);
            kill(pid, SIGKILL);
            wait_pid_gone(pid, DESTROY_TIMEOUT_MS);
        }
    }
    wait_domid_released(domid);
    store_close(xs);
    return rc;
}

/* ---- pause / unpause ---- */

int cmd_pause(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: tandem %s DOM\n", argv[0]);
        return EXIT_BADINPUT;
    }
    struct xs_handle *xs = xsd_available() ? store_open(false) : NULL;
    unsigned domid;
    int rc = 0;
    if (domain_resolve(xs, argv[1], &domid) < 0) {
        rc = 1;
    } else {
        struct tdm_ctl_reply reply;
        struct tdm_ctl *c = tdm_ctl_connect(NULL, domid);
        if (!c || tdm_ctl_request(c, argv[0], TDM_CTL_ANY_FDS, &reply) < 0) {
            msg("%s domain %u: %s", argv[0], domid, tdm_last_error());
            rc = 1;
        }
        tdm_ctl_close(c);
    }
    store_close(xs);
    return rc;
}

/* `tandem run CFG [key=value ...]`: parse and check the configuration,
 * make sure xenstored runs, take a domid, start tandem-vmm with the console
 * on our stdout, wait for the domain to end (restarting it if the config
 * says so) and exit with its status. SIGINT/SIGTERM/SIGHUP destroy it. */
#include "cmds.h"
#include "config.h"
#include "ctl_client.h"
#include "domain.h"
#include "domid.h"
#include "rundir.h"
#include "store.h"
#include "util.h"
#include "vbd.h"
#include "vmm.h"
#include "xsd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DESTROY_GRACE_MS 3000

struct run {
    struct tandem_config cfg;
    char *kernel;
    char uuid[37];
    char *xs_socket;
    struct xs_handle *xs;
    struct domid_lease lease;
    sigset_t sigs;           /* blocked; taken with sigwaitinfo */
    bool destroying;
    bool verbose;
};

static void run_usage(FILE *f)
{
    fprintf(f, "usage: tandem run [-n] [-v] CONFIG [key=value ...]\n"
               "  -n  parse and check only; print the resulting configuration\n"
               "  -v  say which domid and uuid the domain got\n");
}

/* ---- before anything starts: configuration and its files ---- */

static int load_config(struct run *r, const char *file, int n, char **overrides)
{
    char err[CFG_ERR_MAX + 256];
    if (config_parse_file(&r->cfg, file, err, sizeof(err)) < 0)
        goto bad;
    for (int i = 0; i < n; i++)
        if (config_apply_override(&r->cfg, overrides[i], err, sizeof(err)) < 0)
            goto bad;
    if (config_finish(&r->cfg, err, sizeof(err)) < 0)
        goto bad;
    return 0;
bad:
    msg("%s", err);
    return -1;
}

/* The VMM checks the ELF itself; here only what needs the config's file and
 * line to be understood: kernel (and ramdisk) must be readable regular files. */
static int check_files(struct run *r)
{
    char err[CFG_ERR_MAX + 256];
    if (config_check_files(&r->cfg, err, sizeof(err)) < 0) {
        msg("%s", err);
        return -1;
    }
    r->kernel = strdup(r->cfg.kernel);
    if (!r->kernel) {
        msg("out of memory");
        return -1;
    }
    return 0;
}

/* Keys the configuration holds but this tandem-vmm cannot honour yet: an
 * error before anything starts (ramdisk) or a note (vif, whose devices
 * dom0/vif.c will create). Not for -n, which only prints. */
static int check_supported(struct run *r)
{
    char where[512];
    if (r->cfg.ramdisk) {
        config_where(&r->cfg, KEY_RAMDISK, where, sizeof(where));
        msg("%sramdisk: tandem-vmm cannot load an initial ramdisk yet", where);
        return -1;
    }
    if (r->cfg.vif.n) {
        config_where(&r->cfg, KEY_VIF, where, sizeof(where));
        msg("%snote: %zu vif item(s) kept, but network devices are not created yet",
            where, r->cfg.vif.n);
    }
    return 0;
}

static int check_memory(struct run *r)
{
    long host = host_memory_mib();
    if (host > 0 && r->cfg.memory_mib > host) {
        char where[512];
        config_where(&r->cfg, KEY_MEMORY, where, sizeof(where));
        msg("%smemory %ld MiB is more than the host has (%ld MiB)", where,
            r->cfg.memory_mib, host);
        return -1;
    }
    return 0;
}

/* ---- starting ---- */

static bool domid_taken(unsigned domid, void *ctx)
{
    struct run *r = ctx;
    if (r->xs && store_exists(r->xs, "/local/domain/%u", domid))
        return true;
    return domain_ctl_alive(domid);
}

static int prepare_domain(struct run *r)
{
    char err[512];
    unsigned other;
    if (rundir_ensure() < 0 || xsd_ensure() < 0)
        return -1;
    r->xs_socket = xsd_socket_path();
    r->xs = store_open(true);
    if (!r->xs)
        return -1;
    if (store_find_name(r->xs, r->cfg.name, &other) == 0) {
        msg("a domain named '%s' already exists (domid %u)", r->cfg.name, other);
        return -1;
    }
    if (r->cfg.ndisks && vbd_backend_ensure() < 0)
        return -1;
    if (domid_acquire(r->cfg.name, domid_taken, r, &r->lease, err, sizeof(err)) < 0) {
        msg("%s", err);
        return -1;
    }
    if (r->cfg.uuid)
        snprintf(r->uuid, sizeof(r->uuid), "%s", r->cfg.uuid);
    else if (make_uuid(r->uuid) < 0) {
        msg("cannot make a uuid: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- waiting ---- */

/* Asks the VMM to destroy the domain; kills it if it does not go. */
static void destroy_domain(struct run *r, pid_t pid)
{
    struct tdm_ctl_reply reply;
    struct tdm_ctl *c = tdm_ctl_connect(NULL, r->lease.domid);
    if (!c || tdm_ctl_request(c, "destroy", TDM_CTL_ANY_FDS, &reply) < 0)
        kill(pid, SIGTERM);   /* too early for the socket: the VMM takes SIGTERM as destroy */
    tdm_ctl_close(c);
    struct timespec ts = { DESTROY_GRACE_MS / 1000, (DESTROY_GRACE_MS % 1000) * 1000000L };
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int64_t deadline = now_ms() + DESTROY_GRACE_MS;
    while (now_ms() < deadline) {
        siginfo_t si = { .si_pid = 0 };
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            return;   /* exited; wait_domain reaps it */
        long left = (long)(deadline - now_ms());
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000L;
        sigtimedwait(&chld, NULL, &ts);
    }
    msg("domain %u did not stop; killing tandem-vmm (pid %d)", r->lease.domid, (int)pid);
    kill(pid, SIGKILL);
}

/* Returns the domain's status per docs/abi.md. */
static int wait_domain(struct run *r, pid_t pid)
{
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            if (WIFEXITED(st))
                return WEXITSTATUS(st);
            int sig = WTERMSIG(st);
            if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || r->destroying)
                return VMM_DESTROYED;
            msg("tandem-vmm (pid %d) died of signal %d (%s)", (int)pid, sig, strsignal(sig));
            return VMM_FAILED;
        }
        siginfo_t si;
        if (sigwaitinfo(&r->sigs, &si) < 0)
            continue;
        if (si.si_signo != SIGCHLD && !r->destroying) {
            r->destroying = true;
            destroy_domain(r, pid);
        }
    }
}

/* After the VMM is gone: whatever it could not remove (it was killed, say). */
static void clean_after(struct run *r)
{
    if (r->xs) {
        vbd_remove_all(r->xs, r->lease.domid);
        store_forget_domain(r->xs, r->lease.domid, r->uuid);
    }
    if (!domain_ctl_alive(r->lease.domid)) {
        char *ctl = rundir_ctl_path(r->lease.domid);
        unlink(ctl);
        free(ctl);
    }
}

static bool should_restart(const struct run *r, int status)
{
    if (r->destroying)
        return false;
    switch (status) {
    case VMM_POWEROFF: return r->cfg.on_poweroff == ACTION_RESTART;
    case VMM_REBOOT: return r->cfg.on_reboot == ACTION_RESTART;
    case VMM_CRASH:
    case VMM_WATCHDOG: return r->cfg.on_crash == ACTION_RESTART;
    default: return false;
    }
}

static bool stop_requested(struct run *r)
{
    sigset_t pending;
    if (sigpending(&pending) < 0)
        return false;
    if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
        sigismember(&pending, SIGHUP))
        r->destroying = true;
    return r->destroying;
}

static int supervise(struct run *r)
{
    struct vmm_launch l = { .cfg = &r->cfg, .kernel = r->kernel, .domid = r->lease.domid,
                            .uuid = r->uuid, .xenstore = r->xs_socket };
    char **argv = vmm_argv(&l);
    int status = VMM_FAILED;
    if (!argv) {
        msg("out of memory");
        return VMM_FAILED;
    }
    if (r->verbose)
        msg("domain '%s': domid %u, uuid %s", r->cfg.name, r->lease.domid, r->uuid);
    for (;;) {
        if (stop_requested(r)) {   /* Ctrl-C while starting or between restarts */
            status = VMM_DESTROYED;
            break;
        }
        fflush(stdout);
        if (vbd_add_all(r->xs, r->lease.domid, &r->cfg) < 0) {
            clean_after(r);
            status = VMM_FAILED;
            break;
        }
        pid_t pid = vmm_spawn(argv);
        if (pid < 0)
            break;
        status = wait_domain(r, pid);
        clean_after(r);
        if (!should_restart(r, status))
            break;
        msg("domain '%s' (domid %u): %s; restarting", r->cfg.name, r->lease.domid,
            vmm_status_name(status));
    }
    vmm_argv_free(argv);
    if (status != VMM_POWEROFF && status != VMM_BADINPUT)
        msg("domain '%s' (domid %u) ended: %s (status %d)", r->cfg.name, r->lease.domid,
            vmm_status_name(status), status);
    return status;
}

static void block_signals(struct run *r)
{
    sigemptyset(&r->sigs);
    sigaddset(&r->sigs, SIGINT);
    sigaddset(&r->sigs, SIGTERM);
    sigaddset(&r->sigs, SIGHUP);
    sigaddset(&r->sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &r->sigs, NULL);
}

static void run_free(struct run *r)
{
    domid_release(&r->lease);
    store_close(r->xs);
    free(r->xs_socket);
    free(r->kernel);
    config_free(&r->cfg);
}

int cmd_run(int argc, char **argv)
{
    struct run r = { .lease = { .fd = -1 } };
    bool dry = false;
    int opt, rc;
    config_init(&r.cfg);
    optind = 1;
    while ((opt = getopt(argc, argv, "+nvh")) != -1) {
        switch (opt) {
        case 'n': dry = true; break;
        case 'v': r.verbose = true; break;
        case 'h': run_usage(stdout); return 0;
        default: run_usage(stderr); return EXIT_BADINPUT;
        }
    }
    if (optind >= argc) {
        run_usage(stderr);
        return EXIT_BADINPUT;
    }
    /* Signals are blocked from here on so a Ctrl-C while starting still ends
     * in a clean destroy rather than a half-started domain. */
    block_signals(&r);
    if (load_config(&r, argv[optind], argc - optind - 1, argv + optind + 1) < 0 ||
        check_files(&r) < 0 || check_memory(&r) < 0 || vbd_check_disks(&r.cfg) < 0 ||
        (!dry && check_supported(&r) < 0)) {
        run_free(&r);
        return EXIT_BADINPUT;
    }
    if (dry) {
        config_print(stdout, &r.cfg);
        run_free(&r);
        return 0;
    }
    if (prepare_domain(&r) < 0)
        rc = EXIT_RUNTIME;
    else
        rc = supervise(&r);
    run_free(&r);
    return rc;
}

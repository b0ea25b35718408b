/* `tandem run CFG [key=value ...]`: parse and check the configuration,
 * make sure xenstored runs, take a domid, start tandem-vmm with the console
 * on our stdout, wait for the domain to end (restarting it if the config
 * says so) and exit with its status. SIGINT/SIGTERM/SIGHUP destroy it. */
#include "cmds.h"
#include "config.h"
#include "console.h"
#include "ctl_client.h"
#include "devtype.h"
#include "domain.h"
#include "domid.h"
#include "record.h"
#include "rundir.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "vbd.h"
#include "vmm.h"
#include "xsd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DESTROY_GRACE_MS 3000
/* create: the VMM's control socket must answer by then. Generous: 50
 * creates at once on a loaded host (or under emulation) take seconds each. */
#define READY_TIMEOUT_MS 60000
#define CONSOLE_GRACE_MS 3000     /* run: last output after the VMM exited */

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
    bool background;         /* create: supervised by a detached process */
    bool paused;             /* create -p */
    int ready_fd;            /* create: tells the waiting `tandem create` the outcome */
    char *log_path;          /* create: the VMM's and the supervisor's messages */
    const char *restore;     /* restore: the save file the first start comes from */
    unsigned saved_domid;    /* restore: the saved domain's domid, not given again */
};

static void run_usage(FILE *f, bool create)
{
    if (create)
        fprintf(f, "usage: tandem create [-c] [-p] [-n] [-v] CONFIG [key=value ...]\n"
                   "  -c  attach to the console once the domain runs (Ctrl-] detaches)\n"
                   "  -p  leave the domain paused (tandem unpause DOM starts it)\n");
    else
        fprintf(f, "usage: tandem run [-n] [-v] CONFIG [key=value ...]\n");
    fprintf(f, "  -n  parse and check only; print the resulting configuration\n"
               "  -v  say which domid and uuid the domain got\n"
               "See 'tandem help %s'.\n", create ? "create" : "run");
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
    r->kernel = r->cfg.kernel ? strdup(r->cfg.kernel) : NULL;   /* hvm: none */
    if (r->cfg.kernel && !r->kernel) {
        msg("out of memory");
        return -1;
    }
    return 0;
}

/* Keys the configuration holds but this tandem-vmm cannot honour yet: an
 * error before anything starts. Not for -n, which only prints. */
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
    if (r->restore && domid == r->saved_domid)
        return true;   /* as Xen, a restored domain gets a new domid */
    if (r->xs && store_exists(r->xs, "/local/domain/%u", domid))
        return true;
    return domain_ctl_alive(domid);
}

static int prepare_domain(struct run *r)
{
    char err[512];
    unsigned other;
    if (rundir_ensure() < 0 || xsd_ensure() < 0 || consoled_ensure() < 0)
        return -1;
    r->xs_socket = xsd_socket_path();
    r->xs = store_open(true);
    if (!r->xs)
        return -1;
    if (store_find_name(r->xs, r->cfg.name, &other) == 0) {
        msg("a domain named '%s' already exists (domid %u)", r->cfg.name, other);
        return -1;
    }
    if (devtype_backends_ensure(&r->cfg) < 0)
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
        devtype_remove_all(r->xs, r->lease.domid);
        store_forget_domain(r->xs, r->lease.domid, r->uuid);
    }
    if (!domain_ctl_alive(r->lease.domid)) {
        char *ctl = rundir_ctl_path(r->lease.domid);
        unlink(ctl);
        free(ctl);
    }
}

/* The configured action for how the domain ended (destroy for the rest). */
static enum cfg_action action_for(const struct run *r, int status)
{
    if (r->destroying)
        return ACTION_DESTROY;
    switch (status) {
    case VMM_POWEROFF: return r->cfg.on_poweroff;
    case VMM_REBOOT: return r->cfg.on_reboot;
    case VMM_CRASH:
    case VMM_WATCHDOG: return r->cfg.on_crash;
    default: return ACTION_DESTROY;
    }
}

static bool put_key(struct xs_handle *xs, const char *dir, const char *key, const char *val)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return store_write(xs, path, val);
}

/* create: tells the waiting parent that the VMM answers on its control
 * socket and the domain is registered ("ok DOMID"), or that the VMM ended
 * first ("exit"). */
static void report_ready(struct run *r, pid_t pid)
{
    if (r->ready_fd < 0)
        return;
    int64_t deadline = now_ms() + READY_TIMEOUT_MS;
    long delay_us = 200;
    char line[64];
    snprintf(line, sizeof(line), "timeout\n");
    while (now_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG | WNOWAIT) == pid || (kill(pid, 0) < 0 && errno == ESRCH)) {
            snprintf(line, sizeof(line), "exit\n");
            break;
        }
        /* Answering, and in the registry (the VMM registers after it
         * listens), so that `tandem console NAME` right after works. */
        if (domain_ctl_alive(r->lease.domid) &&
            (!r->xs || store_exists(r->xs, "/local/domain/%u/name", r->lease.domid))) {
            snprintf(line, sizeof(line), "ok %u\n", r->lease.domid);
            break;
        }
        struct timespec ts = { 0, delay_us * 1000 };
        nanosleep(&ts, NULL);
        if (delay_us < 20000)
            delay_us *= 2;
    }
    if (write(r->ready_fd, line, strlen(line)) < 0)
        msg("cannot tell tandem create: %s", strerror(errno));
    close(r->ready_fd);
    r->ready_fd = -1;
}

/* The end of the log, for a domain that did not start: what the VMM said. */
static void show_log_tail(const char *path)
{
    char buf[2048];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *p = buf;
    if (from > 0 && strchr(p, '\n'))
        p = strchr(p, '\n') + 1;   /* whole lines only */
    fputs(p, stderr);
}

/* The dead domain's entry in the registry (name, domid, memory, how it
 * ended; with uuid, a /vm entry of its own: a renamed one's new UUID, as
 * libxl_domain_preserve gives it), so that `list` shows it. false if it
 * could not be written. */
static bool mark_preserved(struct run *r, const char *name, const char *uuid, int status)
{
    char path[96], vm[64], mem[32], domid[16];
    unsigned id = r->lease.domid;
    snprintf(path, sizeof(path), "/local/domain/%u", id);
    snprintf(mem, sizeof(mem), "%ld", r->cfg.memory_mib * 1024);
    snprintf(domid, sizeof(domid), "%u", id);
    bool ok = r->xs && put_key(r->xs, path, "name", name) && put_key(r->xs, path, "domid", domid) &&
              put_key(r->xs, path, "memory/target", mem) &&
              put_key(r->xs, path, "tandem/preserved", vmm_status_name(status));
    if (ok && uuid) {
        snprintf(vm, sizeof(vm), "/vm/%s", uuid);
        ok = put_key(r->xs, vm, "uuid", uuid) && put_key(r->xs, vm, "name", name) &&
             put_key(r->xs, path, "vm", vm);
    }
    return ok;
}

/* Until `tandem destroy` removes the entry from xenstore, or a signal. */
static void wait_preserved(struct run *r)
{
    char path[96];
    snprintf(path, sizeof(path), "/local/domain/%u", r->lease.domid);
    struct timespec now = { 0, 0 };
    siginfo_t si;
    for (;;) {
        if (store_wait_state(r->xs, path, false, 200) == 0)
            break;
        if (sigtimedwait(&r->sigs, &si, &now) > 0 && si.si_signo != SIGCHLD)
            break;
    }
}

/* on_*=preserve: the dead domain stays listed until `tandem destroy`
 * removes it from xenstore, or a signal. */
static void preserve(struct run *r, int status)
{
    unsigned id = r->lease.domid;
    if (!mark_preserved(r, r->cfg.name, NULL, status)) {
        msg("domain '%s' (domid %u): cannot keep it listed; destroying", r->cfg.name, id);
        return;
    }
    msg("domain '%s' (domid %u) ended: %s; preserved until 'tandem destroy %s'", r->cfg.name, id,
        vmm_status_name(status), r->cfg.name);
    wait_preserved(r);
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

/* The name the domain has now (`tandem rename` while it ran rewrote the
 * lease's lock file). */
static void take_current_name(struct run *r)
{
    char now_named[CFG_NAME_MAX + 2];
    if (domid_lease_name(&r->lease, now_named, sizeof(now_named)) == 0 &&
        strcmp(now_named, r->cfg.name)) {
        char *n = strdup(now_named);
        if (n) {
            free(r->cfg.name);
            r->cfg.name = n;
        }
    }
}

/* A restart starts the domain from its record (record.h): with the
 * devices attached and without those detached while it ran, as libxl
 * reloads a domain's stored configuration. A record that cannot be read
 * leaves the configuration it started with (as xl: a warning). */
static void reload_record(struct run *r)
{
    char err[CFG_ERR_MAX + 256];
    struct tandem_config fresh;
    config_init(&fresh);
    char *name = strdup(r->cfg.name);
    bool ok = name && record_read(r->lease.domid, &fresh, err, sizeof(err)) == 0;
    if (ok && config_check_files(&fresh, err, sizeof(err)) < 0)
        ok = false;
    if (ok && vbd_check_disks(&fresh) < 0)
        snprintf(err, sizeof(err), "a disk of its record cannot be used"), ok = false;
    char *kernel = ok && fresh.kernel ? strdup(fresh.kernel) : NULL;   /* hvm: none */
    if (!ok || (fresh.kernel && !kernel)) {
        msg("warning: domain '%s' (domid %u): %s; restarting it with the configuration it "
            "started with", r->cfg.name, r->lease.domid, ok ? "out of memory" : err);
        config_free(&fresh);
        free(name);
        free(kernel);
        return;
    }
    free(fresh.name);
    fresh.name = name;   /* the record has the name it started with */
    config_free(&r->cfg);
    r->cfg = fresh;
    free(r->kernel);
    r->kernel = kernel;
}

/* xl's name for a domain kept by rename-restart: NAME-YYYYMMDDTHHMMZ
 * (the time in UTC); -2, -3 ... after it when that is taken (a second
 * one within the minute, which xl would refuse). NAME is shortened to
 * fit CFG_NAME_MAX. -1 if no free name was found. */
static int kept_name(struct run *r, char *out, size_t len)
{
    char suffix[32], err[512];
    time_t t = time(NULL);
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm) ||
        !strftime(suffix, sizeof(suffix), "-%Y%m%dT%H%MZ", &tm))
        return -1;
    int base = CFG_NAME_MAX - (int)strlen(suffix) - 3;
    for (int n = 1; n < 100; n++) {
        char more[8] = "";
        unsigned other;
        if (n > 1)
            snprintf(more, sizeof(more), "-%d", n);
        snprintf(out, len, "%.*s%s%s", base, r->cfg.name, suffix, more);
        if (config_check_name(out, err, sizeof(err)) < 0)
            return -1;
        if (store_find_name(r->xs, out, &other) == 0)
            continue;
        if (domid_rename(r->lease.domid, out, err, sizeof(err)) == 0)
            return 0;
        if (!strstr(err, "already exists")) {
            msg("%s", err);
            return -1;
        }
    }
    return -1;
}

static void run_free(struct run *r);

/* The keeper of a domain kept by rename-restart: holds its domid's lock
 * until `tandem destroy` (or a signal), then removes what is left. A
 * process of its own session, so that Ctrl-C on `tandem run` (which
 * destroys the new domain) leaves it. Never returns. */
static void __attribute__((noreturn)) keep_domain(struct run *r, const char *uuid)
{
    setsid();
    snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
    r->xs = store_open(true);
    if (r->xs)
        wait_preserved(r);
    clean_after(r);
    run_free(r);
    _exit(0);
}

static int open_log(struct run *r);

/* create: the supervisor's messages and the VMM's go to the new domid's
 * log (`tandem dmesg`) from here on. */
static int switch_log(struct run *r, char **console)
{
    free(r->log_path);
    r->log_path = NULL;
    int fd = open_log(r);
    if (fd < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    free(*console);
    *console = xasprintf("file:%s", r->log_path);
    return *console ? 0 : -1;
}

/* on_*=rename-restart, as xl's: the dead domain is kept, renamed (see
 * kept_name) with a new UUID, listed until `tandem destroy` (by a keeper
 * process that holds its domid); the domain starts again from its record
 * under a new domid, with its name and UUID. -1 (message printed) if it
 * cannot: then, as xl, the dead domain is left as it is (preserved). */
static int keep_renamed(struct run *r, int status, char **console)
{
    char kept[CFG_NAME_MAX + 1], uuid[37], err[512];
    unsigned old = r->lease.domid;
    if (kept_name(r, kept, sizeof(kept)) < 0 || make_uuid(uuid) < 0 ||
        !mark_preserved(r, kept, uuid, status)) {
        msg("domain '%s' (domid %u): cannot rename it for rename-restart; keeping it as it is",
            r->cfg.name, old);
        preserve(r, status);
        clean_after(r);
        return -1;
    }
    /* The keeper opens its own xenstore connection (this one's reader
     * thread does not survive fork), and so does this supervisor. */
    store_close(r->xs);
    r->xs = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t k = fork();
    if (k == 0)
        keep_domain(r, uuid);
    r->xs = store_open(true);
    if (k < 0) {
        msg("fork: %s", strerror(errno));
        if (r->xs)
            wait_preserved(r);   /* the kept domain stays until destroyed; no restart */
        return -1;
    }
    close(r->lease.fd);   /* the keeper holds the old domid's lock from here on */
    r->lease.fd = -1;
    record_remove(old);
    msg("domain '%s' (domid %u) ended: %s; kept as '%s' until 'tandem destroy %s'", r->cfg.name,
        old, vmm_status_name(status), kept, kept);
    if (!r->xs || domid_acquire(r->cfg.name, domid_taken, r, &r->lease, err, sizeof(err)) < 0) {
        msg("domain '%s': cannot restart it: %s", r->cfg.name, r->xs ? err : "no xenstore");
        return -1;
    }
    if (r->background && switch_log(r, console) < 0)
        return -1;
    return 0;
}

static int supervise(struct run *r)
{
    char *console = r->log_path ? xasprintf("file:%s", r->log_path) : NULL;
    struct vmm_launch l = { .cfg = &r->cfg, .xenstore = r->xs_socket, .paused = r->paused,
                            .restore = r->restore };
    char **argv = NULL;
    int status = VMM_FAILED;
    if (r->verbose)
        msg("domain '%s': domid %u, uuid %s", r->cfg.name, r->lease.domid, r->uuid);
    for (;;) {
        if (stop_requested(r)) {   /* Ctrl-C while starting or between restarts */
            status = VMM_DESTROYED;
            break;
        }
        fflush(stdout);
        record_write(r->lease.domid, &r->cfg);   /* for attach, detach and save */
        if (devtype_add_all(r->xs, r->lease.domid, &r->cfg) < 0) {
            clean_after(r);
            status = VMM_FAILED;
            break;
        }
        vmm_argv_free(argv);
        l.kernel = r->kernel;
        l.domid = r->lease.domid;
        l.uuid = r->uuid;
        l.console = console;
        argv = vmm_argv(&l);
        l.paused = false;   /* -p holds the first start only */
        l.restore = NULL;   /* a restart (on_reboot) boots the kernel */
        pid_t pid = argv ? vmm_spawn(argv) : -1;
        if (pid < 0)
            break;
        /* In the foreground, the console's pty relayed to stdout (an hvm
         * domain's COM1 on stdio or in a file has none: the VMM writes
         * it itself). */
        bool pty = !config_is_hvm(&r->cfg) || config_serial_is_pty(&r->cfg);
        struct console_follow *con =
            r->background || !pty ? NULL : console_follow_start(r->lease.domid, r->uuid);
        report_ready(r, pid);
        status = wait_domain(r, pid);
        console_follow_stop(con, CONSOLE_GRACE_MS);
        clean_after(r);
        enum cfg_action act = action_for(r, status);
        if (act == ACTION_PRESERVE) {
            preserve(r, status);
            clean_after(r);
        }
        if (act != ACTION_RESTART && act != ACTION_RENAME_RESTART)
            break;
        take_current_name(r);
        reload_record(r);
        if (act == ACTION_RENAME_RESTART && keep_renamed(r, status, &console) < 0) {
            status = VMM_FAILED;
            break;
        }
        msg("domain '%s' (domid %u): %s; restarting", r->cfg.name, r->lease.domid,
            vmm_status_name(status));
    }
    vmm_argv_free(argv);
    free(console);
    if (r->lease.fd >= 0)
        record_remove(r->lease.domid);
    if (status != VMM_POWEROFF && status != VMM_BADINPUT)
        msg("domain '%s' (domid %u) ended: %s (status %d)", r->cfg.name, r->lease.domid,
            vmm_status_name(status), status);
    return status;
}

/* The log of a created domain: RUNDIR/log/domN.log, started afresh by
 * each create (restarts append): the VMM's output and ours. */
static int open_log(struct run *r)
{
    char *dir = rundir_file("log");
    char *name = xasprintf("log/dom%u.log", r->lease.domid);
    r->log_path = name ? rundir_file(name) : NULL;
    free(name);
    if (!dir || !r->log_path || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        msg("cannot create %s: %s", dir ? dir : "the log directory", strerror(errno));
        free(dir);
        return -1;
    }
    free(dir);
    int fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        msg("%s: %s", r->log_path, strerror(errno));
        return -1;
    }
    time_t t = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    dprintf(fd, "--- tandem create '%s': domid %u, uuid %s, %s ---\n", r->cfg.name,
            r->lease.domid, r->uuid, when);
    return fd;
}

/* The supervising child of `tandem create`: a daemon in its own session
 * that runs the domain as `tandem run` would, with the VMM's output in the
 * log. Never returns. */
static void __attribute__((noreturn)) supervise_detached(struct run *r, int log, int ready)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    setsid();
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);     /* the VMM's output and ours, from the start */
    dup2(log, STDERR_FILENO);
    close(log);
    r->background = true;
    r->ready_fd = ready;
    r->xs = store_open(true);
    int status = r->xs ? supervise(r) : VMM_FAILED;
    if (r->ready_fd >= 0 && write(r->ready_fd, "exit\n", 5) < 0)
        status = VMM_FAILED;
    run_free(r);
    _exit(status);
}

/* `tandem create`: the domain runs under a detached supervisor; we return
 * once its VMM answers (or say why it did not start). */
static int create_background(struct run *r, bool attach)
{
    int p[2];
    int log = open_log(r);
    if (log < 0 || pipe2(p, O_CLOEXEC) < 0) {
        if (log >= 0)
            close(log);
        return EXIT_RUNTIME;
    }
    store_close(r->xs);           /* the child opens its own connection */
    r->xs = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    if (child < 0) {
        msg("fork: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    if (child == 0) {
        close(p[0]);
        supervise_detached(r, log, p[1]);
    }
    close(p[1]);
    close(log);
    close(r->lease.fd);           /* the child holds the lease now */
    r->lease.fd = -1;
    char line[64] = "";
    ssize_t n = read(p[0], line, sizeof(line) - 1);
    close(p[0]);
    line[n > 0 ? n : 0] = '\0';
    if (!strncmp(line, "timeout", 7)) {
        /* Still starting (a loaded host): it is not "stopped". */
        msg("domain '%s' (domid %u) did not answer within %d ms; it may still be starting "
            "(tandem list; tandem destroy %s); see %s", r->cfg.name, r->lease.domid,
            READY_TIMEOUT_MS, r->cfg.name, r->log_path);
        return EXIT_RUNTIME;
    }
    if (strncmp(line, "ok ", 3)) {
        /* The VMM ended before it was ready. The supervisor then exits,
         * unless an on_* action keeps the dead domain (preserve): do not
         * wait for that. */
        int st = 0;
        pid_t w = 0;
        int64_t deadline = now_ms() + READY_TIMEOUT_MS;
        while ((w = waitpid(child, &st, WNOHANG)) == 0 && now_ms() < deadline) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        show_log_tail(r->log_path);
        if (w != child)
            msg("domain '%s' stopped before it was ready and is kept (tandem list; tandem destroy "
                "%s); see %s", r->cfg.name, r->cfg.name, r->log_path);
        else
            msg("domain '%s' did not start (%s); see %s", r->cfg.name,
                WIFEXITED(st) ? vmm_status_name(WEXITSTATUS(st)) : "supervisor killed",
                r->log_path);
        return EXIT_RUNTIME;
    }
    if (r->verbose)
        msg("domain '%s': domid %u, uuid %s", r->cfg.name, r->lease.domid, r->uuid);
    if (!attach)
        return 0;
    struct xs_handle *xs = store_open(true);
    int rc = xs ? console_attach(xs, r->lease.domid, CONSOLE_ANY) : EXIT_RUNTIME;
    store_close(xs);
    return rc;
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
    free(r->log_path);
    config_free(&r->cfg);
}

/* `tandem restore` (cmd_save.c): create, from a configuration file, with
 * the first start coming from save_file. */
int cmd_run_restore(const char *cfg_file, const char *save_file, unsigned saved_domid,
                    bool paused, bool attach)
{
    struct run r = { .lease = { .fd = -1 }, .ready_fd = -1, .restore = save_file,
                     .saved_domid = saved_domid, .paused = paused };
    config_init(&r.cfg);
    block_signals(&r);
    int rc;
    if (load_config(&r, cfg_file, 0, NULL) < 0 || check_files(&r) < 0 || check_memory(&r) < 0 ||
        vbd_check_disks(&r.cfg) < 0)
        rc = EXIT_BADINPUT;
    else if (prepare_domain(&r) < 0)
        rc = EXIT_RUNTIME;
    else
        rc = create_background(&r, attach);
    run_free(&r);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run r = { .lease = { .fd = -1 }, .ready_fd = -1 };
    bool create = !strcmp(argv[0], "create");
    bool dry = false, attach = false;
    int opt, rc;
    config_init(&r.cfg);
    optind = 1;
    while ((opt = getopt(argc, argv, create ? "+nvhcp" : "+nvh")) != -1) {
        switch (opt) {
        case 'n': dry = true; break;
        case 'v': r.verbose = true; break;
        case 'c': attach = true; break;
        case 'p': r.paused = true; break;
        case 'h': run_usage(stdout, create); return 0;
        default: run_usage(stderr, create); return EXIT_BADINPUT;
        }
    }
    if (optind >= argc) {
        run_usage(stderr, create);
        return EXIT_BADINPUT;
    }
    /* Signals are blocked from here on so a Ctrl-C while starting still ends
     * in a clean destroy rather than a half-started domain. */
    block_signals(&r);
    if (load_config(&r, argv[optind], argc - optind - 1, argv + optind + 1) < 0 ||
        check_files(&r) < 0 || check_memory(&r) < 0 || vbd_check_disks(&r.cfg) < 0) {
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
    else if (create)
        rc = create_background(&r, attach);
    else
        rc = supervise(&r);
    run_free(&r);
    return rc;
}

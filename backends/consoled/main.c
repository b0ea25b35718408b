/* tandem-consoled: the console daemon of the control domain, as Xen's
 * xenconsoled. Serves every domain's console ring (cons_dom.h): finds
 * domains in xenstore (watching @introduceDomain and @releaseDomain), gets
 * each ring and its event channel from the domain's tandem-vmm, gives each
 * a pty (/local/domain/N/console/tty) and a log file
 * (LOG_DIR/guest-NAME.log). One thread, one epoll loop. SIGTERM/SIGINT:
 * a last pump of every ring, exit 0. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "cons_dom.h"
#include "tdm_evtchn.h"
#include "tdm_opts.h"

#define MAX_DOMS 1024
#define TICK_MS 50
#define RETRY_TICKS 100           /* ~5 s of rescans after a failed add */

enum ev_kind { EV_XS = 1, EV_SIG, EV_KICK, EV_PTY, EV_CTL };

struct daemon {
    struct cons_env env;
    struct xs_handle *xs;
    int epfd, sigfd;
    struct cons_dom *dom[MAX_DOMS];
    unsigned ndom;
    bool stop;
    int retry_ticks;              /* rescan on ticks while a domain could not be added */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-consoled [--run-dir DIR] [--log-dir DIR]\n"
               "Serves the console of every domain in xenstore ($XENSTORED_PATH):\n"
               "a pty each (/local/domain/N/console/tty) and a log each\n"
               "(DIR/guest-NAME.log; default log dir: RUN_DIR/consoled). The VMMs'\n"
               "control sockets are in DIR (default $TANDEM_RUNDIR or /run/tandem).\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t ev_data(enum ev_kind k, unsigned slot)
{
    return (uint64_t)slot << 8 | k;
}

static int ep_set(struct daemon *dm, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = { .events = events, .data.u64 = data };
    return epoll_ctl(dm->epfd, op, fd, &e);
}

/* ---- xenstore: which domains exist, and their console keys ---- */

static char *xs_get(struct daemon *dm, unsigned domid, const char *key)
{
    char path[128];
    unsigned len;
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, key);
    return xs_read(dm->xs, XBT_NULL, path, &len);
}

/* A whole-string unsigned number (decimal or 0x hex) from xenstore. */
static int xs_get_u64(struct daemon *dm, unsigned domid, const char *key, uint64_t max,
                      uint64_t *out)
{
    char *v = xs_get(dm, domid, key), *end;
    int rc = -1;
    if (v && v[0] && v[0] != '-' && v[0] != '+') {
        errno = 0;
        unsigned long long n = strtoull(v, &end, 0);
        if (!errno && !*end && n <= max) {
            *out = n;
            rc = 0;
        }
    }
    free(v);
    return rc;
}

/* The live console of domid: an ended one still draining its pty is a
 * previous incarnation (a reboot keeps the domid), not this one. */
static int find_slot(struct daemon *dm, unsigned domid)
{
    for (unsigned i = 0; i < dm->ndom; i++)
        if (dm->dom[i] && dm->dom[i]->domid == domid && !dm->dom[i]->ended)
            return (int)i;
    return -1;
}

static void register_fds(struct daemon *dm, unsigned slot)
{
    struct cons_dom *d = dm->dom[slot];
    ep_set(dm, EPOLL_CTL_ADD, d->pty_master, EPOLLIN, ev_data(EV_PTY, slot));
    ep_set(dm, EPOLL_CTL_ADD, d->ctl_fd, EPOLLRDHUP, ev_data(EV_CTL, slot));
}

/* Level-triggered pty events follow what we can act on: EPOLLIN only while
 * in[] has room, EPOLLOUT only while output waits. */
static void update_pty_events(struct daemon *dm, unsigned slot)
{
    struct cons_dom *d = dm->dom[slot];
    uint32_t ev = (d->input_stalled || d->ended ? 0 : EPOLLIN) | (d->npending ? EPOLLOUT : 0);
    ep_set(dm, EPOLL_CTL_MOD, d->pty_master, ev, ev_data(EV_PTY, slot));
}

static void try_bind(struct daemon *dm, unsigned slot)
{
    struct cons_dom *d = dm->dom[slot];
    if (d->local_port > 0 || d->ended)
        return;
    if (cons_dom_try_bind(d, &dm->env, now_ms()) == 1) {
        ep_set(dm, EPOLL_CTL_ADD, d->kick_fd, EPOLLIN, ev_data(EV_KICK, slot));
        cons_dom_pump(d, &dm->env);   /* what the guest wrote before we came */
        update_pty_events(dm, slot);
    }
}

static void add_domain(struct daemon *dm, unsigned domid)
{
    uint64_t gfn, port;
    unsigned slot = 0;
    while (slot < dm->ndom && dm->dom[slot])
        slot++;
    if (slot == MAX_DOMS)
        return;
    if (xs_get_u64(dm, domid, "console/ring-ref", UINT64_MAX >> 12, &gfn) < 0 ||
        xs_get_u64(dm, domid, "console/port", 4095, &port) < 0 || port == 0)
        return;   /* not (yet) a domain with a console */
    char *name = xs_get(dm, domid, "name");
    char *vm = xs_get(dm, domid, "vm");
    struct cons_dom *d = calloc(1, sizeof(*d));
    if (d)
        d->quiet = dm->retry_ticks > 0 && dm->retry_ticks < RETRY_TICKS;
    if (!d || cons_dom_open(d, &dm->env, domid, name ? name : "", vm ? vm : "", gfn << 12,
                            (uint32_t)port) < 0) {
        free(d);
        free(name);
        free(vm);
        dm->retry_ticks = RETRY_TICKS;   /* its VMM may not answer yet */
        return;
    }
    free(name);
    free(vm);
    char path[128];
    snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
    if (!xs_write(dm->xs, XBT_NULL, path, d->tty, (unsigned)strlen(d->tty)))
        fprintf(stderr, "tandem-consoled: dom%u: cannot write %s: %s\n", domid, path,
                strerror(errno));
    dm->dom[slot] = d;
    if (slot == dm->ndom)
        dm->ndom++;
    register_fds(dm, slot);
    try_bind(dm, slot);
}

static void remove_domain(struct daemon *dm, unsigned slot)
{
    struct cons_dom *d = dm->dom[slot];
    if (d->kick_fd >= 0)
        epoll_ctl(dm->epfd, EPOLL_CTL_DEL, d->kick_fd, NULL);
    epoll_ctl(dm->epfd, EPOLL_CTL_DEL, d->pty_master, NULL);
    epoll_ctl(dm->epfd, EPOLL_CTL_DEL, d->ctl_fd, NULL);
    cons_dom_close(d, &dm->env);
    free(d);
    dm->dom[slot] = NULL;
    while (dm->ndom && !dm->dom[dm->ndom - 1])
        dm->ndom--;
}

/* The VMM's control connection hung up: the domain is gone. */
static void end_domain(struct daemon *dm, unsigned slot)
{
    struct cons_dom *d = dm->dom[slot];
    cons_dom_end(d, &dm->env);
    if (d->kick_fd >= 0) {
        epoll_ctl(dm->epfd, EPOLL_CTL_DEL, d->kick_fd, NULL);
        tdm_evtchn_unbind(dm->env.evtchn, d->local_port);
        d->local_port = 0;
        d->kick_fd = -1;
    }
    epoll_ctl(dm->epfd, EPOLL_CTL_DEL, d->ctl_fd, NULL);
    update_pty_events(dm, slot);
}

/* New domains from the list in xenstore. Gone ones are noticed by their
 * control connection, which also covers a VMM that never registered its
 * removal. */
static void scan(struct daemon *dm)
{
    unsigned n = 0;
    char **ents = xs_directory(dm->xs, XBT_NULL, "/local/domain", &n);
    for (unsigned i = 0; ents && i < n; i++) {
        char *end;
        unsigned long domid = strtoul(ents[i], &end, 10);
        if (*end || domid == 0 || domid >= 0x7ff0 || !ents[i][0])
            continue;
        int slot = find_slot(dm, (unsigned)domid);
        if (slot < 0)
            add_domain(dm, (unsigned)domid);
    }
    free(ents);
}

/* The watch on /local/domain fires for every write below it (frontends,
 * our own console/tty); only a domain's console keys can add one. The
 * @introduceDomain / @releaseDomain events always can. */
static bool worth_a_scan(const char *path)
{
    const char *p = path;
    if (path[0] == '@')
        return true;
    if (strncmp(p, "/local/domain/", 14))
        return false;
    p += 14;
    p += strspn(p, "0123456789");
    return !*p || !strcmp(p, "/console/port") || !strcmp(p, "/console/ring-ref");
}

static void on_xs(struct daemon *dm)
{
    char **w;
    bool rescan = false;
    while ((w = xs_check_watch(dm->xs)) != NULL) {
        rescan |= worth_a_scan(w[XS_WATCH_PATH]);
        free(w);
    }
    if (errno != EAGAIN) {
        fprintf(stderr, "tandem-consoled: xenstored connection lost: %s\n", strerror(errno));
        dm->stop = true;
        return;
    }
    if (rescan)
        scan(dm);
}

static void on_tick(struct daemon *dm)
{
    if (dm->retry_ticks > 0) {
        dm->retry_ticks--;
        scan(dm);
    }
    for (unsigned i = 0; i < dm->ndom; i++) {
        struct cons_dom *d = dm->dom[i];
        if (!d)
            continue;
        if (d->ended) {
            if (cons_dom_drained(d))
                remove_domain(dm, i);
            else
                update_pty_events(dm, i);
        } else {
            try_bind(dm, i);
        }
    }
}

static bool any_waiting(struct daemon *dm)
{
    if (dm->retry_ticks > 0)
        return true;
    for (unsigned i = 0; i < dm->ndom; i++)
        if (dm->dom[i] && (dm->dom[i]->ended || dm->dom[i]->local_port <= 0))
            return true;
    return false;
}

static void on_event(struct daemon *dm, const struct epoll_event *e)
{
    enum ev_kind k = (enum ev_kind)(e->data.u64 & 0xff);
    unsigned slot = (unsigned)(e->data.u64 >> 8);
    if (k == EV_XS) {
        on_xs(dm);
        return;
    }
    if (k == EV_SIG) {
        struct signalfd_siginfo si;
        if (read(dm->sigfd, &si, sizeof(si)) == sizeof(si))
            dm->stop = true;
        return;
    }
    if (slot >= dm->ndom || !dm->dom[slot])
        return;
    struct cons_dom *d = dm->dom[slot];
    if (k == EV_KICK) {
        uint64_t v;
        if (read(d->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return;
    } else if (k == EV_CTL) {
        end_domain(dm, slot);
        return;
    }
    if (e->events & EPOLLOUT)
        cons_dom_flush(d);
    cons_dom_pump(d, &dm->env);
    update_pty_events(dm, slot);
}

static int run(struct daemon *dm)
{
    struct epoll_event ev[32];
    int64_t next_tick = now_ms() + TICK_MS;
    scan(dm);
    while (!dm->stop) {
        int timeout = -1;
        if (any_waiting(dm)) {
            int64_t left = next_tick - now_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        int n = epoll_wait(dm->epfd, ev, 32, timeout);
        if (n < 0 && errno != EINTR) {
            perror("tandem-consoled: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n && !dm->stop; i++)
            on_event(dm, &ev[i]);
        if (now_ms() >= next_tick) {
            on_tick(dm);
            next_tick = now_ms() + TICK_MS;
        }
    }
    for (unsigned i = 0; i < dm->ndom; i++)
        if (dm->dom[i]) {
            cons_dom_pump(dm->dom[i], &dm->env);
            remove_domain(dm, i);
        }
    return 0;
}

/* One daemon per log directory: a second one would fight over the rings. */
static int take_lock(const char *log_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/lock", log_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "tandem-consoled: %s: %s\n", path,
                errno == EWOULDBLOCK ? "another tandem-consoled serves this run directory"
                                     : strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int setup(struct daemon *dm)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    dm->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    dm->epfd = epoll_create1(EPOLL_CLOEXEC);
    dm->env.evtchn = tdm_evtchn_open(dm->env.run_dir);
    dm->xs = xs_open(0);
    if (dm->sigfd < 0 || dm->epfd < 0 || !dm->env.evtchn) {
        perror("tandem-consoled: setup");
        return -1;
    }
    if (!dm->xs) {
        fprintf(stderr, "tandem-consoled: cannot connect to xenstored: %s\n", strerror(errno));
        return -1;
    }
    if (!xs_watch(dm->xs, "@introduceDomain", "intro") ||
        !xs_watch(dm->xs, "@releaseDomain", "release") ||
        !xs_watch(dm->xs, "/local/domain", "tree")) {
        fprintf(stderr, "tandem-consoled: xs_watch: %s\n", strerror(errno));
        return -1;
    }
    ep_set(dm, EPOLL_CTL_ADD, xs_fileno(dm->xs), EPOLLIN, ev_data(EV_XS, 0));
    ep_set(dm, EPOLL_CTL_ADD, dm->sigfd, EPOLLIN, ev_data(EV_SIG, 0));
    return 0;
}

int main(int argc, char **argv)
{
    static struct daemon dm;
    const char *log_opt = NULL;
    char *log_dir = NULL;
    const char *env = getenv("TANDEM_RUNDIR");
    dm.env.run_dir = env && *env ? env : "/run/tandem";
    const struct tdm_opt opts[] = {
        { "run-dir", TDM_OPT_STR, &dm.env.run_dir, 0, 0 },
        { "log-dir", TDM_OPT_STR, &log_opt, 0, 0 },
        { NULL, 0, NULL, 0, 0 },
    };
    int prc = tdm_opts_parse("tandem-consoled", usage, opts, argc, argv);
    if (prc)
        return prc > 0 ? 0 : 2;
    if (log_opt && !(log_dir = strdup(log_opt)))
        return 1;
    if (!log_dir && asprintf(&log_dir, "%s/consoled", dm.env.run_dir) < 0)
        return 1;
    if (mkdir(log_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "tandem-consoled: %s: %s\n", log_dir, strerror(errno));
        return 1;
    }
    dm.env.log_dir = log_dir;
    int lock = take_lock(log_dir);
    if (lock < 0)
        return 1;
    int rc = setup(&dm) < 0 ? 1 : run(&dm);
    if (dm.xs)
        xs_close(dm.xs);
    tdm_evtchn_close(dm.env.evtchn);
    close(lock);
    free(log_dir);
    return rc;
}

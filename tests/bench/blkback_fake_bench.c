/*
 * blkback_fake_bench: what tandem-blkback costs per request, without a
 * guest. Starts the real daemon ($TANDEM_BIN/tandem-blkback) against the
 * xenstored at $XENSTORED_PATH and the in-process fake VMM
 * (tests/unit/evtchn_fake_vmm.c), and drives one device on FILE from the
 * fake blkfront (tests/unit/blkback_fakefront.c) the way a good frontend
 * does at speed:
 *  - keeps the ring full to the queue depth (refills every slot as soon as
 *    its response is taken);
 *  - kicks only when the backend asked (req_event), and while it polls
 *    leaves rsp_event behind, so the backend has no reason to notify; it
 *    arms rsp_event only just before it sleeps on its event channel;
 *  - polls the ring for --poll-us (default 100, as Tandem's blkfront) before
 *    sleeping;
 *  - grants every buffer page (and, above 11 segments, one indirect page
 *    per slot) once and reuses it: persistent grants when the backend
 *    offers them, as Linux's blkfront does; each slot's buffer is
 *    contiguous guest memory.
 * After --warmup-ms it measures for --seconds and prints one line with the
 * keys of tests/bench/blkback_fake_bench.sh (and of blk_bench.sh's host
 * side): iops= mbps= p50_us= p99_us= (per-request latency, push to
 * response), then the counts behind them (requests, the frontend's kicks
 * and sleeps, the backend's kicks and notifications from its queue's
 * closing log line), CPU time per request (fe_cpu_us: the frontend's
 * thread while measuring; be_cpu_us: the whole daemon, user + system,
 * over every request it served, warm-up included — spinning counts, so
 * it is the work per request only with the daemon's polling off) and
 * what was agreed (direct I/O, persistent grants).
 *
 * usage: blkback_fake_bench --file PATH --rw randread|randwrite|read|write
 *            --bs BYTES --qd N [--seconds S] [--warmup-ms N] [--poll-us N]
 *            [--mem-dir DIR] [--log PATH] [--blkback-arg ARG]... [--cpus FE,BE]
 * --mem-dir: the fake guest's memory is a file in DIR (e.g. a tmpfs mounted
 * huge=always, for 2 MiB pages) instead of a memfd. --blkback-arg: one
 * more argument for the daemon (e.g. --busy-poll-us=0), repeatable.
 * --cpus: pins the fake frontend and the daemon to one CPU each.
 * Every process it starts it stops by pid (and the daemon dies with it);
 * the fake VMM's run directory and the daemon's log (unless --log) are
 * removed, and so are the device's xenstore directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blkback_fakefront.h"

#define PROG "blkback_fake_bench"
#define DOMID 3
#define DEVID 51712                 /* xvda */
#define PORT 10
#define MAX_QD 32                   /* one ring page: 32 slots, as Linux's default */
#define MAX_SEGS 256                /* 1 MiB requests (one indirect page) */
#define WAIT_MS 5000
#define STALL_MS 5000               /* no response for this long: the backend is stuck */
#define MAX_DAEMON_ARGS 8

enum pattern { PAT_RANDREAD, PAT_RANDWRITE, PAT_READ, PAT_WRITE };

struct opts {
    const char *file, *log, *mem_dir;
    enum pattern pat;
    unsigned bs, qd, warmup_ms, poll_us;
    double seconds;
    char *daemon_args[MAX_DAEMON_ARGS];
    unsigned ndaemon_args;
    int fe_cpu, be_cpu;             /* --cpus FE,BE; -1: not pinned */
};

struct slot {
    unsigned frame;                 /* first of bs/4096 contiguous pages */
    uint32_t refs[MAX_SEGS];
    unsigned ind_frame;             /* indirect page (segs > 11) */
    uint32_t ind_ref;
    uint64_t t_push;
    bool busy;
};

struct run {
    struct ff f;
    struct slot slots[MAX_QD];
    unsigned free_list[MAX_QD], nfree;
    unsigned segs;
    uint64_t nblocks, next_block, rng;
    uint32_t *lat;                  /* ns, measured phase only */
    size_t nlat, lat_cap;
    uint64_t requests, kicks, sleeps;
    bool recording;
};

static char tmpdir[64], logpath[PATH_MAX];
static bool keep_log;
static pid_t blk_pid;
static struct fake_vmm *vmm;
static struct xs_handle *xs;
static struct ff *dev;              /* created in xenstore */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void stop_blkback(int sig)
{
    int st;

    if (blk_pid <= 0)
        return;
    kill(blk_pid, sig);
    waitpid(blk_pid, &st, 0);
    blk_pid = 0;
}

/* Everything but the daemon (stopped first): the device's xenstore
 * directories, the fake VMM, the log unless kept, the temp dir. */
static void clean_up(void)
{
    if (dev && xs) {
        xs_rm(xs, XBT_NULL, dev->fe);
        xs_rm(xs, XBT_NULL, dev->be);
    }
    dev = NULL;
    if (xs)
        xs_close(xs);
    xs = NULL;
    if (vmm)
        fake_vmm_stop(vmm);
    vmm = NULL;
    if (!keep_log && logpath[0])
        unlink(logpath);
    if (tmpdir[0])
        rmdir(tmpdir);
}

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    stop_blkback(SIGKILL);
    if (logpath[0] && !keep_log) {
        char cmd[PATH_MAX + 32];

        snprintf(cmd, sizeof(cmd), "tail -n 5 '%s' >&2", logpath);  /* the daemon's last words */
        if (system(cmd) != 0)
            fprintf(stderr, PROG ": (no daemon log)\n");
    }
    clean_up();
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the command line (checked here, trusted below) ---- */

static unsigned parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (!v[0] || *end || errno || v[0] == '-' || n < lo || n > hi)
        die("%s: '%s' is not a number in %u..%u", opt, v, lo, hi);
    return (unsigned)n;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " --file PATH --rw randread|randwrite|read|write --bs BYTES "
                    "--qd N [--seconds S] [--warmup-ms N] [--poll-us N] [--mem-dir DIR] [--log PATH] "
                    "[--blkback-arg ARG]... [--cpus FE,BE]\n");
    exit(2);
}

static struct opts parse_args(int argc, char **argv)
{
    struct opts o = { .bs = 0, .qd = 0, .warmup_ms = 300, .poll_us = 100, .seconds = 5,
                      .fe_cpu = -1, .be_cpu = -1 };
    static const char *const pats[] = { "randread", "randwrite", "read", "write" };
    bool have_rw = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            usage();
        i++;
        if (strcmp(a, "--file") == 0) {
            o.file = v;
        } else if (strcmp(a, "--blkback-arg") == 0) {
            if (o.ndaemon_args == MAX_DAEMON_ARGS)
                die("--blkback-arg: at most %d", MAX_DAEMON_ARGS);
            o.daemon_args[o.ndaemon_args++] = (char *)v;
        } else if (strcmp(a, "--cpus") == 0) {
            char fe[16], be[16];

            if (sscanf(v, "%15[0-9],%15[0-9]", fe, be) != 2)
                die("--cpus: '%s' is not FE,BE (two CPU numbers)", v);
            o.fe_cpu = (int)parse_uint(a, fe, 0, CPU_SETSIZE - 1);
            o.be_cpu = (int)parse_uint(a, be, 0, CPU_SETSIZE - 1);
        } else if (strcmp(a, "--mem-dir") == 0) {
            o.mem_dir = v;
        } else if (strcmp(a, "--log") == 0) {
            o.log = v;
        } else if (strcmp(a, "--rw") == 0) {
            unsigned k;

            for (k = 0; k < 4 && strcmp(v, pats[k]) != 0; k++)
                ;
            if (k == 4)
                die("--rw: '%s' is not randread, randwrite, read or write", v);
            o.pat = (enum pattern)k;
            have_rw = true;
        } else if (strcmp(a, "--bs") == 0) {
            o.bs = parse_uint(a, v, 4096, MAX_SEGS * 4096);
            if (o.bs % 4096)
                die("--bs: %u is not a multiple of 4096", o.bs);
        } else if (strcmp(a, "--qd") == 0) {
            o.qd = parse_uint(a, v, 1, MAX_QD);
        } else if (strcmp(a, "--warmup-ms") == 0) {
            o.warmup_ms = parse_uint(a, v, 0, 60000);
        } else if (strcmp(a, "--poll-us") == 0) {
            o.poll_us = parse_uint(a, v, 0, 100000);
        } else if (strcmp(a, "--seconds") == 0) {
            char *end;

            o.seconds = strtod(v, &end);
            if (!v[0] || *end || !(o.seconds >= 0.01 && o.seconds <= 3600))
                die("--seconds: '%s' is not a number in 0.01..3600", v);
        } else {
            usage();
        }
    }
    if (!o.file || !have_rw || !o.bs || !o.qd)
        usage();
    return o;
}

/* ---- the daemon ---- */

static void pin(int cpu, const char *who)
{
    cpu_set_t set;

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        fprintf(stderr, PROG ": pinning %s to CPU %d: %s\n", who, cpu, strerror(errno));
}

static const char *bin_dir(void)
{
    const char *b = getenv("TANDEM_BIN");

    return b ? b : "build/bin";
}

static void start_blkback(const struct opts *o)
{
    char exe[PATH_MAX];
    char *argv[MAX_DAEMON_ARGS + 2] = { exe };

    snprintf(exe, sizeof(exe), "%s/tandem-blkback", bin_dir());
    memcpy(argv + 1, o->daemon_args, o->ndaemon_args * sizeof(argv[0]));
    if (access(exe, X_OK) != 0)
        die("no %s (build it first)", exe);
    setenv("TANDEM_RUNDIR", fake_vmm_run_dir(vmm), 1);
    blk_pid = fork();
    if (blk_pid < 0)
        die("fork: %s", strerror(errno));
    if (blk_pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* no orphan if we die */
        pin(o->be_cpu, "tandem-blkback");
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(exe, argv);
        _exit(127);
    }
    pin(o->fe_cpu, "the fake frontend");
}

/* The backend's own counts, from its queue's closing log line. */
static void backend_counts(unsigned long long *reqs, unsigned long long *kicks,
                           unsigned long long *notifies)
{
    FILE *l = fopen(logpath, "r");
    char line[1024];

    *reqs = *kicks = *notifies = 0;
    if (!l)
        return;
    while (fgets(line, sizeof(line), l)) {
        const char *q = strstr(line, " queue 0: ");
        unsigned long long r, refused, k, n;

        if (q && sscanf(q, " queue 0: %llu requests (%llu refused), %llu kicks, %llu notifications",
                        &r, &refused, &k, &n) == 4) {
            *reqs = r;
            *kicks = k;
            *notifies = n;
        }
    }
    fclose(l);
}

/* ---- the frontend ---- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static bool is_read(enum pattern p) { return p == PAT_RANDREAD || p == PAT_READ; }

/* Pages and grants of every slot, made once. */
static void setup_slots(struct run *r, const struct opts *o)
{
    for (unsigned i = 0; i < o->qd; i++) {
        struct slot *s = &r->slots[i];

        for (unsigned k = 0; k < r->segs; k++) {
            unsigned frame = ff_page(&r->f);        /* consecutive: one buffer */

            if (k == 0)
                s->frame = frame;
            /* A write's pages may be granted read-only; Linux grants them
             * writable so they can become persistent: do the same. */
            s->refs[k] = ff_grant(&r->f, frame, false);
        }
        if (r->segs > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            struct blkif_request_segment *list;

            s->ind_frame = ff_page(&r->f);
            s->ind_ref = ff_grant(&r->f, s->ind_frame, true);
            list = (struct blkif_request_segment *)ff_addr(&r->f, s->ind_frame);
            for (unsigned k = 0; k < r->segs; k++)
                list[k] = (struct blkif_request_segment){ s->refs[k], 0, 7 };
        }
        r->free_list[r->nfree++] = i;
    }
}

static uint64_t next_sector(struct run *r, const struct opts *o)
{
    uint64_t b;

    if (o->pat == PAT_RANDREAD || o->pat == PAT_RANDWRITE) {
        b = xorshift(&r->rng) % r->nblocks;
    } else {
        b = r->next_block;
        r->next_block = (b + 1) % r->nblocks;
    }
    return b * (o->bs / 512);
}

static void put_request(struct run *r, const struct opts *o, unsigned i)
{
    struct slot *s = &r->slots[i];
    uint8_t op = is_read(o->pat) ? BLKIF_OP_READ : BLKIF_OP_WRITE;
    uint64_t sector = next_sector(r, o);

    if (r->segs > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        struct blkif_request_indirect req = {
            .operation = BLKIF_OP_INDIRECT, .indirect_op = op, .nr_segments = (uint16_t)r->segs,
            .id = i, .sector_number = sector, .indirect_grefs = { s->ind_ref },
        };

        ff_put(&r->f, 0, &req, sizeof(req));
    } else {
        struct blkif_request req = { .operation = op, .nr_segments = (uint8_t)r->segs, .id = i,
                                     .sector_number = sector };

        for (unsigned k = 0; k < r->segs; k++)
            req.seg[k] = (struct blkif_request_segment){ s->refs[k], 0, 7 };
        ff_put(&r->f, 0, &req, sizeof(req));
    }
    s->busy = true;
}

/* Fills every free slot and pushes (the kick only if the backend asked). */
static void refill(struct run *r, const struct opts *o)
{
    uint64_t t;

    if (!r->nfree)
        return;
    t = now_ns();
    while (r->nfree) {
        unsigned i = r->free_list[--r->nfree];

        put_request(r, o, i);
        r->slots[i].t_push = t;
    }
    if (ff_push(&r->f, 0) && r->recording)
        r->kicks++;
}

static void record(struct run *r, uint64_t ns)
{
    if (r->nlat == r->lat_cap) {
        size_t cap = r->lat_cap ? r->lat_cap * 2 : 1 << 16;
        uint32_t *p = realloc(r->lat, cap * sizeof(*p));

        if (!p)
            die("out of memory for %zu latency samples", cap);
        r->lat = p;
        r->lat_cap = cap;
    }
    r->lat[r->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Takes what the ring holds; returns how many. */
static unsigned take(struct run *r, const struct opts *o)
{
    struct blkif_response rsp[MAX_QD];
    unsigned n = ff_take(&r->f, 0, rsp, MAX_QD);
    uint64_t t;

    if (!n)
        return 0;
    t = now_ns();
    for (unsigned k = 0; k < n; k++) {
        struct slot *s;

        if (rsp[k].id >= o->qd || !r->slots[rsp[k].id].busy)
            die("response with id %llu, which is not in flight", (unsigned long long)rsp[k].id);
        if (rsp[k].status != BLKIF_RSP_OKAY)
            die("request %llu answered with status %d", (unsigned long long)rsp[k].id,
                rsp[k].status);
        s = &r->slots[rsp[k].id];
        if (r->recording) {
            record(r, t - s->t_push);
            r->requests++;
        }
        s->busy = false;
        r->free_list[r->nfree++] = (unsigned)rsp[k].id;
    }
    return n;
}

/* Polls for --poll-us, then arms rsp_event and sleeps on the event channel. */
static void wait_responses(struct run *r, const struct opts *o)
{
    uint64_t end = now_ns() + (uint64_t)o->poll_us * 1000u, stall = now_ns();

    while (now_ns() < end)
        if (take(r, o))
            return;
    for (;;) {
        if (r->recording)
            r->sleeps++;
        if (ff_wait_responses(&r->f, 0, 100) && take(r, o))
            return;
        if (now_ns() - stall > (uint64_t)STALL_MS * 1000000u)
            die("no response for %d ms with %u requests in flight", STALL_MS, o->qd - r->nfree);
    }
}

/* Keeps the ring full until `until`. */
static void drive(struct run *r, const struct opts *o, uint64_t until)
{
    while (now_ns() < until) {
        refill(r, o);
        if (!take(r, o))
            wait_responses(r, o);
    }
}

static void drain(struct run *r, const struct opts *o)
{
    r->recording = false;
    while (r->nfree < o->qd)
        if (!take(r, o))
            wait_responses(r, o);
}

/* CPU time (user + system) in µs. */
static double ru_us(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e6 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

static double thread_cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return ru_us(&ru);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static double pct_us(const struct run *r, double p)
{
    size_t i;

    if (!r->nlat)
        return 0;
    i = (size_t)(p * (double)(r->nlat - 1) + 0.5);
    return r->lat[i] / 1000.0;
}

static bool key_is(struct ff *f, const char *key, const char *want)
{
    char *v = ff_backend_key(f, key);
    bool yes = v && strcmp(v, want) == 0;

    free(v);
    return yes;
}

int main(int argc, char **argv)
{
    struct opts o = parse_args(argc, argv);
    struct fake_vmm_config cfg = { .domid = DOMID, .nr_grant_frames = 4, .mem_dir = o.mem_dir };
    static struct run r;
    struct stat st;
    char *sectors;
    uint64_t t0, t1;
    unsigned long long be_reqs, be_kicks, be_notifies;
    bool direct, persistent;
    int status;
    struct rusage be_ru;
    double fe_cpu0, fe_cpu1;

    if (!getenv("XENSTORED_PATH"))
        die("XENSTORED_PATH is not set (the xenstored to use)");
    if (stat(o.file, &st) < 0)
        die("%s: %s", o.file, strerror(errno));
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tandem-blkfake.XXXXXX");
    if (!mkdtemp(tmpdir))
        die("mkdtemp: %s", strerror(errno));
    keep_log = o.log != NULL;
    snprintf(logpath, sizeof(logpath), "%s", o.log ? o.log : "");
    if (!o.log)
        snprintf(logpath, sizeof(logpath), "%s/blkback.log", tmpdir);
    xs = xs_open(0);
    if (!xs)
        die("xs_open(%s): %s", getenv("XENSTORED_PATH"), strerror(errno));
    vmm = fake_vmm_start(&cfg);
    start_blkback(&o);

    r.segs = o.bs / 4096;
    r.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 20 ^ now_ns();
    dev = &r.f;
    if (!ff_create(&r.f, vmm, xs, DEVID, o.file, "w"))
        die("creating the device: %s", ff_error());
    if (!ff_wait_backend(&r.f, 2, WAIT_MS))
        die("backend InitWait: %s", ff_error());
    r.f.persistent = persistent = key_is(&r.f, "feature-persistent", "1");
    if (r.segs > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        char *m = ff_backend_key(&r.f, "feature-max-indirect-segments");
        unsigned max = m ? (unsigned)strtoul(m, NULL, 10) : 0;

        free(m);
        if (max < r.segs)
            die("--bs %u needs %u segments; the backend takes %u per request", o.bs, r.segs, max);
    }
    if (!ff_connect(&r.f, 1, 0, PORT))
        die("connecting: %s", ff_error());
    direct = key_is(&r.f, "direct-io", "1");
    sectors = ff_backend_key(&r.f, "sectors");
    r.nblocks = (sectors ? strtoull(sectors, NULL, 10) : 0) / (o.bs / 512);
    free(sectors);
    if (r.nblocks == 0)
        die("%s is smaller than one %u-byte block", o.file, o.bs);
    setup_slots(&r, &o);

    drive(&r, &o, now_ns() + (uint64_t)o.warmup_ms * 1000000u);
    r.recording = true;
    fe_cpu0 = thread_cpu_us();
    t0 = now_ns();
    drive(&r, &o, t0 + (uint64_t)(o.seconds * 1e9));
    t1 = now_ns();
    fe_cpu1 = thread_cpu_us();
    drain(&r, &o);

    if (!ff_close(&r.f))
        die("closing: %s", ff_error());
    kill(blk_pid, SIGTERM);
    if (wait4(blk_pid, &status, 0, &be_ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        blk_pid = 0;
        die("tandem-blkback stopped with status 0x%x", status);
    }
    blk_pid = 0;
    backend_counts(&be_reqs, &be_kicks, &be_notifies);
    clean_up();

    qsort(r.lat, r.nlat, sizeof(r.lat[0]), cmp_u32);
    {
        double secs = (double)(t1 - t0) / 1e9, iops = (double)r.requests / secs;

        printf("iops=%.0f mbps=%.1f p50_us=%.1f p99_us=%.1f requests=%llu kicks=%llu sleeps=%llu "
               "be_requests=%llu be_kicks=%llu be_notifies=%llu fe_cpu_us=%.2f be_cpu_us=%.2f "
               "direct=%d persistent=%d\n",
               iops, iops * o.bs / 1e6, pct_us(&r, 0.50), pct_us(&r, 0.99),
               (unsigned long long)r.requests, (unsigned long long)r.kicks,
               (unsigned long long)r.sleeps, be_reqs, be_kicks, be_notifies,
               (fe_cpu1 - fe_cpu0) / (double)(r.requests ? r.requests : 1),
               ru_us(&be_ru) / (double)(be_reqs ? be_reqs : 1), direct, persistent);
    }
    free(r.lat);
    return 0;
}

/*
 * xenstore benchmark: ops/s of read, write, directory and a
 * read-modify-write transaction through libxenstore against a running
 * xenstored, with 1 and 8 concurrent clients (threads, each with its own
 * connection), next to the floor measured in the same run: a bare
 * unix-socket round trip of the same message sizes to a trivial echo
 * server in a child process.  Prints a markdown table.
 *
 * Each cell is measured `rounds` times, the cells interleaved, and the
 * median is reported, which keeps drift on a noisy host out of the ratios.
 * --server-cpu pins the echo server (the script pins xenstored the same
 * way) and --client-cpus the clients, so that floor and daemon see the
 * same placement.
 *
 * --xen-lib PATH adds a row for a read through Xen's own libxenstore (the
 * Debian library, dlopen'ed: it writes header and payload with two
 * system calls, ours with one).  Then a fairness table: one client's reads
 * alone and while another connection floods the daemon with pipelined
 * reads (worst read and rate kept).
 *
 * usage: xenstore_bench --socket PATH [--seconds S] [--rounds N]
 *                       [--server-cpu C] [--client-cpus A-B] [--xen-lib SO]
 */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#define VALUE_LEN 32
#define DIR_ENTRIES 10
#define MAX_CLIENTS 8
#define READ_PATH "/bench/r"

enum op { OP_ECHO, OP_READ, OP_READ_XEN, OP_READ_WATCHED, OP_WRITE, OP_DIRECTORY, OP_RMW,
          OP_COUNT };
static const char *const op_names[OP_COUNT] = {
    "unix-socket echo (floor)", "read", "read through Xen's libxenstore",
    "read, handle with a watch (reader thread)",
    "write", "directory (10 entries)",
    "transaction: read-modify-write (4 round trips)",
};

/* Xen's library, when --xen-lib names it: the three calls we use. */
static struct {
    void *(*open)(unsigned long flags);
    void *(*read)(void *h, xs_transaction_t t, const char *path, unsigned int *len);
    void (*close)(void *h);
} xen;

static bool load_xen_lib(const char *so)
{
    void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);

    if (!dl) {
        fprintf(stderr, "xenstore_bench: %s\n", dlerror());
        return false;
    }
    *(void **)&xen.open = dlsym(dl, "xs_open");
    *(void **)&xen.read = dlsym(dl, "xs_read");
    *(void **)&xen.close = dlsym(dl, "xs_close");
    return xen.open && xen.read && xen.close;
}

struct client {
    int id;
    enum op op;
    const char *echo_path;
    struct xs_handle *h;
    void *xh; /* Xen's library's handle */
    int echo_fd;
    unsigned long ops, retries;
    int error;
};

static atomic_bool stop_flag;
static cpu_set_t client_cpus;
static bool pin_clients;
static pthread_barrier_t start_barrier;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool set_path(struct sockaddr_un *a, const char *path)
{
    size_t n = strlen(path);

    if (n >= sizeof(a->sun_path)) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(a->sun_path, path, n + 1);
    return true;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || !set_path(&a, path) || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static bool read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Echo server: answers each message (header + payload) with a header and
 * as many payload bytes as the request's tx_id field asks for. */
static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];

    for (;;) {
        struct xsd_sockmsg hdr;
        size_t out;

        if (!read_full(fd, &hdr, sizeof(hdr)) || hdr.len > XENSTORE_PAYLOAD_MAX ||
            !read_full(fd, buf, hdr.len) || hdr.tx_id > XENSTORE_PAYLOAD_MAX)
            break;
        out = hdr.tx_id;
        hdr.len = hdr.tx_id;
        memcpy(buf, &hdr, sizeof(hdr));
        memset(buf + sizeof(hdr), 'v', out);
        if (send(fd, buf, sizeof(hdr) + out, MSG_NOSIGNAL) != (ssize_t)(sizeof(hdr) + out))
            break;
    }
    close(fd);
    return NULL;
}

static void echo_server(int lfd)
{
    for (;;) {
        pthread_t t;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
}

static pid_t echo_start(const char *path, int cpu)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pid_t pid;

    unlink(path);
    if (lfd < 0 || !set_path(&a, path) || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 64) != 0) {
        perror("xenstore_bench: echo server socket");
        exit(1);
    }
    pid = fork();
    if (pid == 0) {
        if (cpu >= 0) {
            cpu_set_t set;

            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        echo_server(lfd);
        _exit(0);
    }
    close(lfd);
    return pid;
}

/* One bare round trip with the sizes of a read of READ_PATH. */
static bool echo_once(int fd)
{
    char msg[sizeof(struct xsd_sockmsg) + sizeof(READ_PATH)];
    char reply[sizeof(struct xsd_sockmsg) + VALUE_LEN];
    struct xsd_sockmsg hdr = { .type = XS_READ, .tx_id = VALUE_LEN, .len = sizeof(READ_PATH) };

    memcpy(msg, &hdr, sizeof(hdr));
    memcpy(msg + sizeof(hdr), READ_PATH, sizeof(READ_PATH));
    if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
        return false;
    return read_full(fd, reply, sizeof(reply));
}

static bool rmw_once(struct client *c, const char *path)
{
    for (;;) {
        xs_transaction_t t = xs_transaction_start(c->h);
        char *v, buf[32];
        unsigned int len;
        int n;

        if (t == XBT_NULL)
            return false;
        v = xs_read(c->h, t, path, &len);
        if (!v) {
            xs_transaction_end(c->h, t, true);
            return false;
        }
        n = snprintf(buf, sizeof(buf), "%ld", strtol(v, NULL, 10) + 1);
        free(v);
        if (!xs_write(c->h, t, path, buf, (unsigned int)n)) {
            xs_transaction_end(c->h, t, true);
            return false;
        }
        if (xs_transaction_end(c->h, t, false))
            return true;
        if (errno != EAGAIN)
            return false;
        c->retries++;
    }
}

static bool do_op(struct client *c, const char *own_path, const char *value)
{
    unsigned int n;
    void *p;

    switch (c->op) {
    case OP_ECHO:
        return echo_once(c->echo_fd);
    case OP_READ:
    case OP_READ_WATCHED:
        p = xs_read(c->h, XBT_NULL, READ_PATH, &n);
        free(p);
        return p != NULL;
    case OP_READ_XEN:
        p = xen.read(c->xh, XBT_NULL, READ_PATH, &n);
        free(p);
        return p != NULL;
    case OP_WRITE:
        return xs_write(c->h, XBT_NULL, own_path, value, VALUE_LEN);
    case OP_DIRECTORY:
        p = xs_directory(c->h, XBT_NULL, "/bench/dir", &n);
        free(p);
        return p != NULL && n == DIR_ENTRIES;
    case OP_RMW:
        return rmw_once(c, own_path);
    default:
        return false;
    }
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    char own[64], value[VALUE_LEN];

    memset(value, 'w', sizeof(value));
    snprintf(own, sizeof(own), "/bench/c%d", c->id);
    if (pin_clients)
        pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
    pthread_barrier_wait(&start_barrier);
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        if (!do_op(c, own, value)) {
            c->error = errno ? errno : EIO;
            break;
        }
        c->ops++;
    }
    return NULL;
}

struct result {
    double ops_per_s;
    unsigned long retries;
    double cost, scale; /* medians of the per-round ratios (vs floor, 8 vs 1) */
};

/* Runs nclients clients doing op for `seconds`; connections are opened
 * before the clock starts. */
static int measure(enum op op, int nclients, double seconds, const char *echo_path,
                   struct result *res)
{
    struct client c[MAX_CLIENTS] = { 0 };
    pthread_t th[MAX_CLIENTS];
    struct timespec dur = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    unsigned long total = 0;
    double t0, t1;
    int err = 0;

    for (int i = 0; i < nclients; i++) {
        c[i] = (struct client){ .id = i, .op = op, .echo_path = echo_path, .echo_fd = -1 };
        if (op == OP_ECHO)
            c[i].echo_fd = unix_connect(echo_path);
        else if (op == OP_READ_XEN)
            c[i].xh = xen.open(XS_OPEN_SOCKETONLY);
        else
            c[i].h = xs_open(0);
        if (op == OP_ECHO ? c[i].echo_fd < 0 : op == OP_READ_XEN ? !c[i].xh : c[i].h == NULL) {
            fprintf(stderr, "xenstore_bench: connect: %s\n", strerror(errno));
            return -1;
        }
        /* A watch makes the library hand every reply over from its
         * reader thread, as in any service that watches. */
        if (op == OP_READ_WATCHED && !xs_watch(c[i].h, "/bench/watched", "bench")) {
            fprintf(stderr, "xenstore_bench: xs_watch: %s\n", strerror(errno));
            return -1;
        }
    }
    atomic_store(&stop_flag, false);
    pthread_barrier_init(&start_barrier, NULL, (unsigned)nclients + 1);
    for (int i = 0; i < nclients; i++)
        pthread_create(&th[i], NULL, client_main, &c[i]);
    pthread_barrier_wait(&start_barrier);
    t0 = now_s();
    nanosleep(&dur, NULL); /* the measuring interval itself */
    atomic_store(&stop_flag, true);
    for (int i = 0; i < nclients; i++)
        pthread_join(th[i], NULL);
    t1 = now_s();
    pthread_barrier_destroy(&start_barrier);
    res->retries = 0;
    for (int i = 0; i < nclients; i++) {
        total += c[i].ops;
        res->retries += c[i].retries;
        if (c[i].error)
            err = c[i].error;
        if (c[i].h)
            xs_close(c[i].h);
        if (c[i].xh)
            xen.close(c[i].xh);
        if (c[i].echo_fd >= 0)
            close(c[i].echo_fd);
    }
    if (err) {
        fprintf(stderr, "xenstore_bench: %s: %s\n", op_names[op], strerror(err));
        return -1;
    }
    res->ops_per_s = (double)total / (t1 - t0);
    return 0;
}

static int populate(void)
{
    struct xs_handle *h = xs_open(0);
    char path[64], value[VALUE_LEN];
    bool ok;

    if (!h) {
        fprintf(stderr, "xenstore_bench: xs_open: %s\n", strerror(errno));
        return -1;
    }
    memset(value, 'v', sizeof(value));
    ok = xs_write(h, XBT_NULL, READ_PATH, value, VALUE_LEN);
    for (int i = 0; ok && i < DIR_ENTRIES; i++) {
        snprintf(path, sizeof(path), "/bench/dir/entry%d", i);
        ok = xs_write(h, XBT_NULL, path, "", 0);
    }
    for (int i = 0; ok && i < MAX_CLIENTS; i++) {
        snprintf(path, sizeof(path), "/bench/c%d", i);
        ok = xs_write(h, XBT_NULL, path, "0", 1);
    }
    if (!ok)
        fprintf(stderr, "xenstore_bench: populate: %s\n", strerror(errno));
    xs_close(h);
    return ok ? 0 : -1;
}

#define MAX_ROUNDS_FAIR 15

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* "A-B" or "A": a CPU range for the clients. */
static bool parse_cpus(const char *s, cpu_set_t *set)
{
    char *end;
    long a = strtol(s, &end, 10), b = a;

    if (end == s || a < 0)
        return false;
    if (*end == '-')
        b = strtol(end + 1, &end, 10);
    if (*end != '\0' || b < a || b >= CPU_SETSIZE)
        return false;
    CPU_ZERO(set);
    for (long i = a; i <= b; i++)
        CPU_SET((int)i, set);
    return true;
}

/* ---- fairness: one reader while another connection floods ---------- */
#define FLOOD_BATCH 64

struct flood {
    int fd;
    unsigned long replies;
};

/* Sends batches of pipelined reads as fast as the daemon takes them. */
static void *flood_send(void *arg)
{
    struct flood *f = arg;
    char buf[FLOOD_BATCH * (sizeof(struct xsd_sockmsg) + sizeof(READ_PATH))];
    size_t len = 0;

    if (pin_clients)
        pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
    for (int i = 0; i < FLOOD_BATCH; i++) {
        struct xsd_sockmsg h = { .type = XS_READ, .req_id = (uint32_t)i, .len = sizeof(READ_PATH) };
        memcpy(buf + len, &h, sizeof(h));
        memcpy(buf + len + sizeof(h), READ_PATH, sizeof(READ_PATH));
        len += sizeof(h) + sizeof(READ_PATH);
    }
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed))
        if (send(f->fd, buf, len, MSG_NOSIGNAL) < 0)
            break;
    return NULL;
}

/* Reads and counts the flood's replies (so the daemon never stalls on it). */
static void *flood_recv(void *arg)
{
    struct flood *f = arg;
    static char buf[1 << 16];
    size_t have = 0;

    if (pin_clients)
        pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
    for (;;) {
        ssize_t n = read(f->fd, buf + have, sizeof(buf) - have);
        size_t off = 0;

        if (n <= 0)
            break;
        have += (size_t)n;
        while (have - off >= sizeof(struct xsd_sockmsg)) {
            struct xsd_sockmsg h;
            memcpy(&h, buf + off, sizeof(h));
            if (have - off < sizeof(h) + h.len)
                break;
            off += sizeof(h) + h.len;
            f->replies++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    return NULL;
}

struct fair {
    double ops_per_s, worst_ms, flood_per_s;
};

/* One client reading for `seconds`, alone or (flood) next to a flooder. */
static int measure_fair(const char *sock, bool flood, double seconds, struct fair *out)
{
    struct xs_handle *h = xs_open(0);
    struct flood f = { .fd = -1 };
    pthread_t ts, tr;
    unsigned long ops = 0;
    double t0, t1, worst = 0;

    if (!h)
        return -1;
    atomic_store(&stop_flag, false);
    if (flood) {
        f.fd = unix_connect(sock);
        if (f.fd < 0) {
            xs_close(h);
            return -1;
        }
        pthread_create(&ts, NULL, flood_send, &f);
        pthread_create(&tr, NULL, flood_recv, &f);
        while (__atomic_load_n(&f.replies, __ATOMIC_RELAXED) < 10 * FLOOD_BATCH)
            sched_yield(); /* until the flood runs */
    }
    if (pin_clients)
        pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
    t0 = t1 = now_s();
    while (t1 - t0 < seconds) {
        unsigned int n;
        void *p = xs_read(h, XBT_NULL, READ_PATH, &n);
        double t = now_s();

        if (!p)
            break;
        free(p);
        worst = t - t1 > worst ? t - t1 : worst;
        t1 = t;
        ops++;
    }
    out->flood_per_s = (double)__atomic_load_n(&f.replies, __ATOMIC_RELAXED);
    if (flood) {
        atomic_store(&stop_flag, true);
        shutdown(f.fd, SHUT_RDWR);
        pthread_join(ts, NULL);
        pthread_join(tr, NULL);
        close(f.fd);
    }
    xs_close(h);
    out->ops_per_s = (double)ops / (t1 - t0);
    out->worst_ms = worst * 1e3;
    out->flood_per_s /= t1 - t0;
    return t1 - t0 >= seconds ? 0 : -1;
}

static int fairness(const char *sock, double seconds, int rounds)
{
    static double rate[2][MAX_ROUNDS_FAIR], flood_rate[MAX_ROUNDS_FAIR], kept[MAX_ROUNDS_FAIR];
    double med[2], wmax[2] = { 0, 0 }, fmed, kmed;

    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 2; k++) {
            struct fair one;
            if (measure_fair(sock, k == 1, seconds, &one) != 0) {
                fprintf(stderr, "xenstore_bench: fairness run failed\n");
                return -1;
            }
            rate[k][r] = one.ops_per_s;
            if (k)
                flood_rate[r] = one.flood_per_s;
            wmax[k] = one.worst_ms > wmax[k] ? one.worst_ms : wmax[k];
        }
    for (int r = 0; r < rounds; r++)
        kept[r] = rate[0][r] > 0 ? rate[1][r] / rate[0][r] : 0;
    qsort(kept, (size_t)rounds, sizeof(double), cmp_double);
    kmed = kept[rounds / 2];
    for (int k = 0; k < 2; k++) {
        qsort(rate[k], (size_t)rounds, sizeof(double), cmp_double);
        med[k] = rate[k][rounds / 2];
    }
    qsort(flood_rate, (size_t)rounds, sizeof(double), cmp_double);
    fmed = flood_rate[rounds / 2];
    printf("\n### xenstore fairness: one reader while another connection floods\n\n");
    printf("The flood: one socket connection sending batches of %d pipelined reads as fast as\n"
           "the daemon takes them (a second thread reads the replies). The reader: libxenstore\n"
           "reads one at a time. Median of %d interleaved runs of %.1f s (the rate kept: median\n"
           "of the per-run ratios); worst = the slowest single read of all runs.\n\n",
           FLOOD_BATCH, rounds, seconds);
    printf("| reader | reads/s | worst read | flood replies/s |\n|---|---:|---:|---:|\n");
    printf("| alone | %.0f | %.2f ms | |\n", med[0], wmax[0]);
    printf("| during the flood | %.0f | %.2f ms | %.0f |\n", med[1], wmax[1], fmed);
    printf("\nTargets: during the flood the reader keeps %.2f of its idle rate (target >= 0.33: %s); "
           "its worst read takes %.2f ms (target < 100 ms: %s).\n", kmed,
           kmed >= 1.0 / 3 ? "met" : "MISSED", wmax[1], wmax[1] < 100 ? "met" : "MISSED");
    return 0;
}

#define MAX_ROUNDS 15

int main(int argc, char **argv)
{
    static const int client_counts[] = { 1, MAX_CLIENTS };
    static double samples[OP_COUNT][2][MAX_ROUNDS];
    struct result r[OP_COUNT][2];
    unsigned long retries = 0;
    const char *sock = NULL, *xen_lib = NULL;
    double seconds = 0.5;
    int rounds = 3, server_cpu = -1, rc = 0;
    bool bad = false;
    char echo_path[128];
    pid_t echo_pid;

    for (int i = 1; i < argc && !bad; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;

        if (!next)
            bad = true;
        else if (strcmp(argv[i], "--socket") == 0)
            sock = next;
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(next);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(next);
        else if (strcmp(argv[i], "--server-cpu") == 0)
            server_cpu = atoi(next);
        else if (strcmp(argv[i], "--client-cpus") == 0)
            bad = !(pin_clients = parse_cpus(next, &client_cpus));
        else if (strcmp(argv[i], "--xen-lib") == 0)
            xen_lib = next;
        else
            bad = true;
        i++;
    }
    if (bad || !sock || seconds <= 0 || seconds > 60 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: xenstore_bench --socket PATH [--seconds S (0..60)] "
                        "[--rounds N (1..%d)] [--server-cpu C] [--client-cpus A-B] "
                        "[--xen-lib SO]\n", MAX_ROUNDS);
        return 2;
    }
    if (xen_lib && !load_xen_lib(xen_lib))
        return 1;
    setenv("XENSTORED_PATH", sock, 1);
    if (populate() != 0)
        return 1;
    snprintf(echo_path, sizeof(echo_path), "%s.echo", sock);
    echo_pid = echo_start(echo_path, server_cpu);

    /* In a round, the 1-client cells one after the other, then the
     * 8-client ones: each ratio pairs cells measured moments apart. */
    for (int round = 0; round < rounds && rc == 0; round++)
        for (int k = 0; k < 2 && rc == 0; k++)
            for (int op = 0; op < OP_COUNT && rc == 0; op++) {
                struct result one = { 0 };

                if (op == OP_READ_XEN && !xen_lib)
                    continue;
                rc = measure((enum op)op, client_counts[k], seconds, echo_path, &one);
                samples[op][k][round] = one.ops_per_s;
                if (op == OP_RMW && k == 1)
                    retries += one.retries;
            }
    kill(echo_pid, SIGKILL);
    waitpid(echo_pid, NULL, 0);
    unlink(echo_path);
    if (rc)
        return 1;
    /* Ratios are taken within each round, then their median: the load of
     * a shared host drifts between rounds more than within one. */
    for (int op = 0; op < OP_COUNT; op++) {
        double cost[MAX_ROUNDS], scale[MAX_ROUNDS];

        for (int i = 0; i < rounds; i++) {
            cost[i] = samples[op][0][i] > 0 ? samples[OP_ECHO][0][i] / samples[op][0][i] : 0;
            scale[i] = samples[op][0][i] > 0 ? samples[op][1][i] / samples[op][0][i] : 0;
        }
        qsort(cost, (size_t)rounds, sizeof(double), cmp_double);
        qsort(scale, (size_t)rounds, sizeof(double), cmp_double);
        r[op][0].cost = cost[rounds / 2];
        r[op][0].scale = scale[rounds / 2];
        for (int k = 0; k < 2; k++) {
            qsort(samples[op][k], (size_t)rounds, sizeof(double), cmp_double);
            r[op][k].ops_per_s = samples[op][k][rounds / 2];
        }
    }

    printf("### xenstore (libxenstore -> xenstored over a unix socket)\n\n");
    printf("Median of %d interleaved runs of %.1f s per cell (ratios: median of the per-run ratios);\n"
           "value %d bytes; floor = bare round trip of the same message sizes to a trivial echo\n"
           "server%s.\n\n",
           rounds, seconds, VALUE_LEN,
           server_cpu >= 0 ? "; servers pinned to one CPU, clients to the others" : "");
    printf("| operation | ops/s, 1 client | us/op, 1 client | ops/s, 8 clients | 8 vs 1 | 1-client cost vs floor |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int op = 0; op < OP_COUNT; op++) {
        double one = r[op][0].ops_per_s, eight = r[op][1].ops_per_s;

        if (op == OP_READ_XEN && !xen_lib)
            continue;
        printf("| %s | %.0f | %.1f | %.0f | %.2fx | %.2fx |\n", op_names[op], one, 1e6 / one,
               eight, r[op][0].scale, r[op][0].cost);
    }
    if (retries)
        printf("\nTransaction conflicts retried with 8 clients (all runs): %lu.\n", retries);
    {
        double cost = r[OP_READ][0].cost, scale = r[OP_READ][0].scale;

        printf("\nTargets: a read costs %.2fx the floor (target <= 1.5x: %s); "
               "8 clients read at %.2fx the ops/s of one (target >= 1.5x: %s).\n",
               cost, cost <= 1.5 ? "met" : "MISSED", scale, scale >= 1.5 ? "met" : "MISSED");
        if (xen_lib) {
            double xcost = r[OP_READ_XEN][0].cost;
            printf("A read through Xen's libxenstore costs %.2fx the floor (target <= 1.15x: %s).\n",
                   xcost, xcost <= 1.15 ? "met" : "MISSED");
        }
    }
    return fairness(sock, seconds, rounds) == 0 ? 0 : 1;
}

/* A fake guest with one vif, for the netback integration test and
 * benchmark: the fake VMM (guest memory, grants, event channels) and the
 * fake netfront of the unit tests, as a process that the scripts run next
 * to a real xenstored and tandem-netback in a network namespace they made.
 *
 *   net_fakeguest echo  --ip A.B.C.D [--vifname N] [--bridge BR]
 *       answers ARP for its address, ICMP echo, and UDP on port 7 (echoed
 *       to the sender); reconnects when the backend goes away and comes
 *       back. Runs until SIGTERM.
 *   net_fakeguest bench --bridge BR --tap T --floor-bridge FB --tap2 A [...]
 *       for each round and each frame size (64 and 1514 bytes, or --size):
 *       the floor (a thread writes frames into tap A, another reads them
 *       from tap A2, both on bridge FB), then guest->tap (the fake guest
 *       sends on the vif, a thread reads tap T on bridge BR) and tap->guest
 *       (a thread writes into tap T, the guest receives), each at full
 *       speed for --seconds. Prints one line per measurement:
 *       "case=floor|tx|rx size=N pps=... mbit=... frames=...", counting
 *       what arrived.
 *
 * The first line on stdout is "rundir DIR": the fake VMM's control socket
 * directory, for tandem-netback --run-dir. With --wait-backend the program
 * then waits for the backend before it connects. Exit status: 0 done, 1
 * failure (message on stderr). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netback_fakefront.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

struct opts {
    const char *mode, *vifname, *bridge, *tap, *tap2, *floor_bridge;
    uint8_t ip[4];
    unsigned size, seconds, rounds;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
    fprintf(stderr, "net_fakeguest: %s: %s / %s\n", what, nf_error(), ff_error());
    return 1;
}

/* ---- a tap for the host side of the benchmark ---- */

static int open_tap(const char *name, const char *bridge)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), s;

    if (fd < 0)
        return -1;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        return -1;
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return -1;
    if (bridge) {
        struct ifreq br = { 0 };

        snprintf(br.ifr_name, sizeof(br.ifr_name), "%s", bridge);
        br.ifr_ifindex = (int)if_nametoindex(name);
        if (ioctl(s, SIOCBRADDIF, &br) < 0)
            return -1;
    }
    close(s);
    return fd;
}

/* Broadcast frame of len bytes, local experimental ethertype. */
static void bench_frame(uint8_t *f, size_t len)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)i;
}

struct counter {
    int fd;
    unsigned size;
    volatile int *running;
    uint64_t frames;
};

/* Reads frames of the bench's size while running. */
static void *tap_reader(void *arg)
{
    struct counter *c = arg;
    uint8_t buf[2048];

    while (*c->running && !stop) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 20) <= 0)
            continue;
        while ((n = read(c->fd, buf, sizeof(buf))) > 0)
            if (n == (ssize_t)c->size && buf[12] == 0x88 && buf[13] == 0xb5)
                __atomic_fetch_add(&c->frames, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *tap_writer(void *arg)
{
    struct counter *c = arg;
    uint8_t f[2048];

    bench_frame(f, c->size);
    while (*c->running && !stop) {
        if (write(c->fd, f, c->size) < 0 && errno != EAGAIN && errno != ENOBUFS) {
            fprintf(stderr, "net_fakeguest: tap write: %s\n", strerror(errno));
            break;
        }
    }
    return NULL;
}

static void report(const char *name, uint64_t frames, double secs, unsigned size)
{
    printf("case=%s size=%u pps=%.0f mbit=%.1f frames=%llu seconds=%.2f\n", name, size,
           frames / secs, frames * (double)size * 8 / secs / 1e6, (unsigned long long)frames,
           secs);
    fflush(stdout);
}

/* A measurement window: counts what `c` saw (or *own) over `seconds`. */
static void window(unsigned seconds, double *t0, double *t1)
{
    double end;

    *t0 = now_s();
    end = *t0 + seconds;
    while (!stop && now_s() < end)
        poll(NULL, 0, 20);          /* the measurement window */
    *t1 = now_s();
}

static void floor_run(int wfd, int rfd, unsigned size, unsigned seconds)
{
    volatile int running = 1;
    struct counter rd = { .fd = rfd, .size = size, .running = &running };
    struct counter wr = { .fd = wfd, .size = size, .running = &running };
    pthread_t tr, tw;
    uint64_t before, after;
    double t0, t1;

    pthread_create(&tr, NULL, tap_reader, &rd);
    pthread_create(&tw, NULL, tap_writer, &wr);
    poll(NULL, 0, 200);             /* warm-up */
    before = __atomic_load_n(&rd.frames, __ATOMIC_RELAXED);
    window(seconds, &t0, &t1);
    after = __atomic_load_n(&rd.frames, __ATOMIC_RELAXED);
    running = 0;
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    report("floor", after - before, t1 - t0, size);
}

/* ---- the guest ---- */

static int backend_state(struct nf *n)
{
    char *v = ff_backend_key(&n->ff, "state");
    int s = v ? atoi(v) : 0;

    free(v);
    return s;
}

/* Guest -> tap: the guest fills the TX ring as fast as responses free it. */
static void tx_run(struct nf *n, int tapfd, unsigned size, unsigned seconds)
{
    volatile int running = 1;
    struct counter host = { .fd = tapfd, .size = size, .running = &running };
    uint8_t f[2048];
    pthread_t th;
    uint64_t before = 0, after;
    double t0 = 0, t1, end, warm;

    bench_frame(f, size);
    pthread_create(&th, NULL, tap_reader, &host);
    warm = now_s() + 0.2;
    end = warm + seconds;
    while (!stop && (t1 = now_s()) < end) {
        unsigned put = 0;

        if (t0 == 0 && t1 >= warm) {
            t0 = t1;
            before = __atomic_load_n(&host.frames, __ATOMIC_RELAXED);
        }
        while (nf_tx_frame(n, 0, f, size, 1, 0))
            put++;
        if (put)
            nf_tx_push(n, 0);
        if (nf_tx_reap(n, 0) == 0 && put == 0) {
            struct netif_tx_response rsp;

            if (nf_tx_collect(n, 0, &rsp, 1, 100) == 1)   /* ring full: wait for one */
                continue;
        }
    }
    after = __atomic_load_n(&host.frames, __ATOMIC_RELAXED);
    t1 = now_s();
    running = 0;
    pthread_join(th, NULL);
    while (nf_tx_reap(n, 0) || n->q[0].tx.rsp_cons != n->q[0].tx.req_prod_pvt) {
        struct netif_tx_response rsp;

        nf_tx_collect(n, 0, &rsp, 1, 100);              /* drain before the next case */
    }
    report("tx", after - before, t1 - t0, size);
}

/* Tap -> guest: a thread floods the tap; the guest takes and reposts. */
static void rx_run(struct nf *n, int tapfd, unsigned size, unsigned seconds)
{
    volatile int running = 1;
    struct counter host = { .fd = tapfd, .size = size, .running = &running };
    static uint8_t got[65536];
    uint64_t frames = 0;
    pthread_t th;
    double t0, t1, end;
    uint16_t flags;
    int16_t st;

    nf_rx_post(n, 0, NF_SLOTS);
    pthread_create(&th, NULL, tap_writer, &host);
    t0 = now_s() + 0.2;
    end = t0 + seconds;
    while (!stop && now_s() < t0)
        if (nf_rx_recv(n, 0, got, sizeof(got), &flags, &st, 20) >= 0)
            nf_rx_post(n, 0, NF_SLOTS);               /* warm-up */
    while (!stop && now_s() < end) {
        if (nf_rx_recv(n, 0, got, sizeof(got), &flags, &st, 20) == (int)size)
            frames++;
        if ((frames & 15) == 0)
            nf_rx_post(n, 0, NF_SLOTS);
    }
    t1 = now_s();
    running = 0;
    pthread_join(th, NULL);
    while (nf_rx_recv(n, 0, got, sizeof(got), &flags, &st, 50) >= 0)
        nf_rx_post(n, 0, NF_SLOTS);                   /* drain before the next case */
    report("rx", frames, t1 - t0, size);
}

static int bench(struct nf *n, const struct opts *o)
{
    static const unsigned sizes[] = { 64, 1514 };
    int tapfd = open_tap(o->tap, o->bridge);
    int fa = open_tap(o->tap2, o->floor_bridge), fb;
    char name2[IFNAMSIZ];

    snprintf(name2, sizeof(name2), "%.13s-b", o->tap2);
    fb = open_tap(name2, o->floor_bridge);
    if (tapfd < 0 || fa < 0 || fb < 0) {
        fprintf(stderr, "net_fakeguest: taps: %s\n", strerror(errno));
        return 1;
    }
    for (unsigned r = 0; r < o->rounds && !stop; r++)
        for (unsigned k = 0; k < 2 && !stop; k++) {
            unsigned size = o->size ? o->size : sizes[k];

            floor_run(fa, fb, size, o->seconds);
            tx_run(n, tapfd, size, o->seconds);
            rx_run(n, tapfd, size, o->seconds);
        }
    close(tapfd);
    close(fa);
    close(fb);
    return 0;
}

/* ---- echo: ARP, ICMP echo, UDP port 7 ---- */

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x00 };

/* Turns the frame in f into its answer in place; its length, or 0. */
static size_t answer(uint8_t *f, size_t len, const uint8_t ip[4])
{
    uint16_t type;

    if (len < 14)
        return 0;
    type = (uint16_t)(f[12] << 8 | f[13]);
    if (type == 0x0806 && len >= 42 && f[21] == 1 && memcmp(f + 38, ip, 4) == 0) {
        memcpy(f, f + 6, 6);
        memcpy(f + 6, guest_mac, 6);
        f[21] = 2;                                  /* reply */
        memcpy(f + 32, f + 22, 10);                 /* target = the asker */
        memcpy(f + 22, guest_mac, 6);
        memcpy(f + 28, ip, 4);
        return 42;
    }
    if (type != 0x0800 || len < 34 || (f[14] >> 4) != 4 || memcmp(f + 30, ip, 4) != 0)
        return 0;
    {
        size_t ihl = (f[14] & 15u) * 4, tot = (size_t)(f[16] << 8 | f[17]);
        uint8_t *l4 = f + 14 + ihl, tmp[4];

        if (ihl < 20 || tot < ihl || 14 + tot > len)
            return 0;
        if (f[23] == 1 && tot >= ihl + 8 && l4[0] == 8) {          /* echo request */
            l4[0] = 0;
            l4[2] = l4[3] = 0;
            uint16_t c = csum(l4, tot - ihl, 0);
            l4[2] = (uint8_t)(c >> 8);
            l4[3] = (uint8_t)c;
        } else if (f[23] == 17 && tot >= ihl + 8 && l4[2] == 0 && l4[3] == 7) {
            memcpy(tmp, l4, 2);                     /* swap ports */
            memcpy(l4, l4 + 2, 2);
            memcpy(l4 + 2, tmp, 2);
            l4[6] = l4[7] = 0;                      /* checksum optional in IPv4 */
        } else {
            return 0;
        }
        memcpy(tmp, f + 26, 4);                     /* swap addresses */
        memcpy(f + 26, f + 30, 4);
        memcpy(f + 30, tmp, 4);
        memcpy(f, f + 6, 6);
        memcpy(f + 6, guest_mac, 6);
        f[24] = f[25] = 0;
        uint16_t c = csum(f + 14, ihl, 0);
        f[24] = (uint8_t)(c >> 8);
        f[25] = (uint8_t)c;
        return 14 + tot;
    }
}

static int echo(struct nf *n, const struct opts *o)
{
    static uint8_t f[65536];
    unsigned port = 10;

    while (!stop) {
        uint16_t flags;
        int16_t st;
        int len;
        size_t out;

        nf_rx_post(n, 0, NF_SLOTS / 2);
        nf_tx_reap(n, 0);
        len = nf_rx_recv(n, 0, f, sizeof(f), &flags, &st, 200);
        if (len == -1) {
            int s = backend_state(n);

            if (s == 5 || s == 6) {                 /* backend gone and back: start over */
                port += 4;
                fprintf(stderr, "net_fakeguest: backend state %d; reconnecting\n", s);
                if (!nf_reconnect(n, port) && !stop)
                    fprintf(stderr, "net_fakeguest: reconnect: %s\n", nf_error());
            }
            continue;
        }
        if (len > 0 && (out = answer(f, (size_t)len, o->ip)) > 0) {
            unsigned slots = (unsigned)((out + 4095) / 4096);

            if (nf_tx_frame(n, 0, f, out, slots, 0))
                nf_tx_push(n, 0);
        }
    }
    return 0;
}

/* ---- main ---- */

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        { "ip", required_argument, NULL, 'i' }, { "vifname", required_argument, NULL, 'v' },
        { "bridge", required_argument, NULL, 'b' }, { "tap", required_argument, NULL, 't' },
        { "tap2", required_argument, NULL, 'T' }, { "size", required_argument, NULL, 's' },
        { "seconds", required_argument, NULL, 'S' }, { "rounds", required_argument, NULL, 'R' },
        { "floor-bridge", required_argument, NULL, 'F' }, { 0 },
    };
    int c;

    if (argc < 2)
        return -1;
    memset(o, 0, sizeof(*o));
    o->mode = argv[1];
    o->seconds = 3;
    o->rounds = 1;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (inet_pton(AF_INET, optarg, o->ip) != 1)
                return -1;
            break;
        case 'v': o->vifname = optarg; break;
        case 'b': o->bridge = optarg; break;
        case 't': o->tap = optarg; break;
        case 'T': o->tap2 = optarg; break;
        case 's': o->size = (unsigned)atoi(optarg); break;
        case 'S': o->seconds = (unsigned)atoi(optarg); break;
        case 'R': o->rounds = (unsigned)atoi(optarg); break;
        case 'F': o->floor_bridge = optarg; break;
        default: return -1;
        }
    }
    if ((o->size && (o->size < 60 || o->size > 1514)) || o->seconds == 0 || o->seconds > 600 ||
        o->rounds == 0 || o->rounds > 20)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct fake_vmm_config cfg = { .domid = 3, .nr_grant_frames = 4 };
    struct sigaction sa = { .sa_handler = on_signal };
    struct fake_vmm *vmm;
    struct xs_handle *xs;
    static struct nf n;
    struct opts o;
    int rc;

    if (parse(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: net_fakeguest echo --ip A.B.C.D [--vifname N] [--bridge BR]\n"
                        "       net_fakeguest bench --bridge BR --tap T --floor-bridge FB "
                        "--tap2 A [--size N] [--seconds S] [--rounds R]\n");
        return 2;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(o.mode, "echo") != 0 &&
        (strcmp(o.mode, "bench") != 0 || !o.tap || !o.tap2 || !o.bridge || !o.floor_bridge))
        return 2;
    vmm = fake_vmm_start(&cfg);
    xs = xs_open(0);
    if (!vmm || !xs) {
        fprintf(stderr, "net_fakeguest: fake VMM or xenstored: %s\n", strerror(errno));
        return 1;
    }
    printf("rundir %s\n", fake_vmm_run_dir(vmm));
    fflush(stdout);
    if (!nf_create(&n, vmm, xs, 0, o.vifname, o.bridge))
        return die("creating the vif");
    if (!ff_wait_backend(&n.ff, 2, 20000))
        return die("the backend did not reach InitWait");
    if (!nf_connect(&n, 1, false, 10, true))
        return die("connecting");
    printf("connected\n");
    fflush(stdout);
    if (strcmp(o.mode, "echo") == 0)
        rc = echo(&n, &o);
    else
        rc = bench(&n, &o);
    xs_close(xs);
    fake_vmm_stop(vmm);
    return rc;
}

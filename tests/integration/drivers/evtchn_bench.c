/*
 * The raw event path, for tests/bench/evtchn_bench.sh: binds the port the
 * bounce test guest (hypervisor/testguest/bounce_main.c) allocated, with
 * a plain `evtchn-bind` over the control socket (no tdm_evtchn, no 2-level
 * bits), and times write(irqfd) -> guest vector -> doorbell ->
 * ioeventfd -> read(kick). Also measures, in the same run, the host
 * references: one write() to an eventfd and an eventfd ping-pong between
 * two threads, and the TSC frequency (to turn the guest's doorbell cycles
 * into ns; the guest TSC equals the host's).
 *
 *   evtchn_bench --domid N --port P [--n N] [--doorbells N] [--run-dir DIR]
 *
 * Prints key=value lines; exit 1 on a lost or duplicate event.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bounce_link.h"
#include "stats_util.h"

struct opts {
    unsigned domid;
    uint64_t port, n, doorbells;
    const char *run_dir;
};

static int pp_fd[2];
static uint64_t pp_n;

static void *pp_echo(void *arg)
{
    (void)arg;
    uint64_t v;
    for (uint64_t i = 0; i < pp_n; i++)
        if (read(pp_fd[0], &v, sizeof(v)) != sizeof(v) || write(pp_fd[1], &v, sizeof(v)) != sizeof(v))
            break;
    return NULL;
}

/* Host reference: an eventfd ping-pong between two threads. */
static uint64_t host_pingpong_median(uint64_t n, uint64_t *buf)
{
    pthread_t t;
    uint64_t one = 1, v;
    pp_n = n;
    pp_fd[0] = eventfd(0, EFD_CLOEXEC);
    pp_fd[1] = eventfd(0, EFD_CLOEXEC);
    if (pp_fd[0] < 0 || pp_fd[1] < 0 || pthread_create(&t, NULL, pp_echo, NULL))
        return 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t0 = stats_now_ns();
        if (write(pp_fd[0], &one, sizeof(one)) != sizeof(one) || read(pp_fd[1], &v, sizeof(v)) != sizeof(v))
            break;
        buf[i] = stats_now_ns() - t0;
    }
    pthread_join(t, NULL);
    close(pp_fd[0]);
    close(pp_fd[1]);
    return stats_summarize(buf, n).median;
}

/* Host reference for the doorbell: one write() to an eventfd, in ns. */
static double host_eventfd_write_ns(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t one = 1, v, t0 = stats_now_ns();
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        if (write(fd, &one, sizeof(one)) < 0)
            break;
        if ((i & 1023) == 1023 && read(fd, &v, sizeof(v)) < 0)
            break;
    }
    double ns = (double)(stats_now_ns() - t0) / N;
    close(fd);
    return ns;
}

static uint64_t tsc_khz(void)
{
    uint64_t t0 = stats_now_ns(), c0 = __rdtsc();
    while (stats_now_ns() - t0 < 50000000)
        ;
    return (__rdtsc() - c0) * 1000000 / (stats_now_ns() - t0);
}

static int run(const struct opts *o)
{
    struct bounce_link l;
    uint64_t *buf = calloc(o->n, sizeof(*buf));
    if (!buf || !bounce_link_open(&l, o->run_dir, o->domid, (uint32_t)o->port, o->doorbells) ||
        !bounce_link_rtt(&l, o->n, buf))
        return 1;
    struct stats_summary s = stats_summarize(buf, o->n);
    printf("bare_rtt_median_ns=%" PRIu64 "\nbare_rtt_p99_ns=%" PRIu64 "\n", s.median, s.p99);
    printf("host_eventfd_pingpong_median_ns=%" PRIu64 "\n", host_pingpong_median(o->n, buf));
    printf("host_eventfd_write_ns=%.0f\ntsc_khz=%" PRIu64 "\n", host_eventfd_write_ns(), tsc_khz());
    free(buf);
    bounce_link_close(&l);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .n = 20000, .doorbells = 20000 };
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        char *end;
        if (!strcmp(argv[i], "--run-dir")) {
            o.run_dir = argv[i + 1];
            continue;
        }
        errno = 0;
        uint64_t v = strtoull(argv[i + 1], &end, 10);
        ok = !errno && !*end && *argv[i + 1] && v >= 1;
        if (!strcmp(argv[i], "--domid") && v < 0x7ff0)
            o.domid = (unsigned)v;
        else if (!strcmp(argv[i], "--port") && v < 4096)
            o.port = v;
        else if (!strcmp(argv[i], "--n") && v <= 10000000)
            o.n = v;
        else if (!strcmp(argv[i], "--doorbells") && v <= 100000000)
            o.doorbells = v;
        else
            ok = false;
    }
    if (!ok || !o.domid || !o.port) {
        fprintf(stderr, "usage: evtchn_bench --domid N --port P [--n N] [--doorbells N] [--run-dir DIR]\n");
        return 2;
    }
    return run(&o);
}

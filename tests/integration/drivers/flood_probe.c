/*
 * Measures what a flooding guest (app=flood, domain F) costs dom0's other
 * clients, idle vs flooding, in one run:
 *   - a dom0 xenstore client's read latency (its own connection);
 *   - an unrelated event-channel round trip to the bounce guest (domain B,
 *     bare irqfd -> doorbell path, drivers/bounce_link.c);
 *   - the flooding domain's own VMM: an `info` request on its control
 *     socket (its main loop must stay responsive).
 *
 *   flood_probe --flood-domid F --bounce-domid B --bounce-port P
 *               [--bounce-burst N] [--n N] [--run-dir DIR]
 *
 * --bounce-burst: doorbells the bounce guest rings once its port is first
 * bound (20000; 0 when an earlier probe already collected them).
 *
 * Prints the idle and flooding medians of each figure as key=value lines
 * (flood_dom0.sh judges them). The flood runs between cmd=start and
 * cmd=stop in the flooding guest's data/flood/. Exit 1 if a measurement
 * or a step failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tandem/ctl_client.h>
#include <tandem/tdm_error.h>
#include <xenstore.h>

#include "bounce_link.h"
#include "stats_util.h"
#include "xs_step.h"

#define STEP_MS 30000

struct opts {
    unsigned flood, bounce;
    uint64_t port, n, burst;
    const char *run_dir;
};

struct probes {
    struct xs_handle *xs;
    char xs_path[64];
    struct bounce_link link;
    struct tdm_ctl *vmm;
    uint64_t *buf;
};

enum { FIG_XS_READ, FIG_EVTCHN_RTT, FIG_VMM_INFO, NFIG };
static const char *const fig_name[NFIG] = { "xenstore_read", "evtchn_rtt", "vmm_info" };

static bool xs_reads(struct probes *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        unsigned len;
        uint64_t t0 = stats_now_ns();
        char *v = xs_read(p->xs, XBT_NULL, p->xs_path, &len);
        p->buf[i] = stats_now_ns() - t0;
        if (!v) {
            fprintf(stderr, "flood_probe: read %s: %s\n", p->xs_path, strerror(errno));
            return false;
        }
        free(v);
    }
    return true;
}

static bool vmm_infos(struct probes *p, uint64_t n)
{
    struct tdm_ctl_reply r;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t0 = stats_now_ns();
        if (tdm_ctl_request(p->vmm, "info", 0, &r) < 0) {
            fprintf(stderr, "flood_probe: info: %s\n", tdm_last_error());
            return false;
        }
        p->buf[i] = stats_now_ns() - t0;
    }
    return true;
}

/* The three medians, n samples each. */
static bool measure(struct probes *p, uint64_t n, uint64_t med[NFIG])
{
    if (!xs_reads(p, n))
        return false;
    med[FIG_XS_READ] = stats_summarize(p->buf, n).median;
    if (!bounce_link_rtt(&p->link, n, p->buf))
        return false;
    med[FIG_EVTCHN_RTT] = stats_summarize(p->buf, n).median;
    if (!vmm_infos(p, n / 10 ? n / 10 : 1))
        return false;
    med[FIG_VMM_INFO] = stats_summarize(p->buf, n / 10 ? n / 10 : 1).median;
    return true;
}

static bool open_probes(const struct opts *o, struct probes *p)
{
    p->buf = calloc(o->n, sizeof(*p->buf));
    p->xs = xs_open(0);
    snprintf(p->xs_path, sizeof(p->xs_path), "/local/domain/%u/name", o->bounce);
    p->vmm = tdm_ctl_connect(o->run_dir, o->flood);
    if (!p->buf || !p->xs || !p->vmm) {
        fprintf(stderr, "flood_probe: setup: %s\n", p->vmm ? strerror(errno) : tdm_last_error());
        return false;
    }
    return bounce_link_open(&p->link, o->run_dir, o->bounce, (uint32_t)o->port, o->burst);
}

static int run(const struct opts *o)
{
    struct probes p = { 0 };
    struct xs_step *fl = xs_step_open(o->flood, "flood");
    uint64_t idle[NFIG], busy[NFIG], ops = 0;
    if (!fl || !open_probes(o, &p) || !xs_step_wait(fl, "state", "ready", STEP_MS))
        return 1;
    if (!measure(&p, o->n, idle))
        return 1;
    if (!xs_step_put(fl, "cmd", "start") || !xs_step_wait(fl, "state", "flooding", STEP_MS) ||
        !measure(&p, o->n, busy))
        return 1;
    if (!xs_step_put(fl, "cmd", "stop") || !xs_step_wait(fl, "state", "stopped", STEP_MS))
        return 1;
    if (!xs_step_get_u64(fl, "ops", &ops)) {
        fprintf(stderr, "flood_probe: the guest reported no data/flood/ops\n");
        return 1;
    }
    xs_step_put(fl, "cmd", "bye");
    printf("flood_ops=%" PRIu64 "\n", ops);
    for (int f = 0; f < NFIG; f++)
        printf("%s_idle_ns=%" PRIu64 "\n%s_flood_ns=%" PRIu64 "\n", fig_name[f], idle[f],
               fig_name[f], busy[f]);
    bounce_link_close(&p.link);
    tdm_ctl_close(p.vmm);
    xs_close(p.xs);
    xs_step_close(fl);
    free(p.buf);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .n = 2000, .burst = 20000 };
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        char *end;
        if (!strcmp(k, "--run-dir")) {
            o.run_dir = v;
            continue;
        }
        errno = 0;
        uint64_t n = strtoull(v, &end, 10);
        ok = !errno && !*end && *v;
        if (!strcmp(k, "--bounce-burst")) {
            o.burst = n;
            continue;
        }
        ok = ok && n >= 1;
        if (!strcmp(k, "--flood-domid") && n < 0x7ff0)
            o.flood = (unsigned)n;
        else if (!strcmp(k, "--bounce-domid") && n < 0x7ff0)
            o.bounce = (unsigned)n;
        else if (!strcmp(k, "--bounce-port") && n < 4096)
            o.port = n;
        else if (!strcmp(k, "--n") && n >= 10 && n <= 10000000)
            o.n = n;
        else
            ok = false;
    }
    if (!ok || !o.flood || !o.bounce || !o.port) {
        fprintf(stderr, "usage: flood_probe --flood-domid F --bounce-domid B --bounce-port P "
                        "[--bounce-burst N] [--n 10..1e7] [--run-dir DIR]\n");
        return 2;
    }
    return run(&o);
}

/*
 * Dom0 side of the event-channel ping-pong with the guest's app=pingpong
 * (frontends/apps/pingpong.c describes the phases), through tdm_evtchn:
 *
 *   evtchn_pingpong --domid N [--n N] [--run-dir DIR] [--quiet]
 *
 * Each round trip waits for the guest's doorbell on the binding's eventfd
 * and requires its counter to be exactly 1: a lost event is a timeout, a
 * duplicate a count of 2 or a leftover at the end. Prints the phase-1
 * round-trip median and p99 (dom0 -> guest upcall -> doorbell -> dom0).
 * Exit 0 on success, 1 with "pingpong: FAIL ..." on stderr otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tandem/tdm_evtchn.h>
#include <time.h>
#include <unistd.h>

#include "stats_util.h"
#include "xs_step.h"

#define STEP_MS 30000
#define KICK_MS 2000

struct opts {
    unsigned domid;
    uint64_t n;
    const char *run_dir;
};

static int die(const char *what)
{
    fprintf(stderr, "pingpong: FAIL %s\n", what);
    return 1;
}

/* One doorbell from the guest on fd: exactly one, within KICK_MS. */
static bool wait_kick(int fd, const char *phase, uint64_t i)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint64_t v = 0;
    int r = poll(&p, 1, KICK_MS);
    if (r == 1 && read(fd, &v, sizeof(v)) == sizeof(v) && v == 1)
        return true;
    fprintf(stderr, "pingpong: FAIL %s round %" PRIu64 ": %s (count %" PRIu64 ")\n", phase, i,
            r == 0 ? "guest's event lost (timeout)" : v > 1 ? "duplicate event" : strerror(errno), v);
    return false;
}

/* Nothing more may be queued on fd (a late duplicate). */
static bool quiet(int fd, const char *port)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) == sizeof(v)) {
        fprintf(stderr, "pingpong: FAIL %" PRIu64 " extra event(s) on port %s\n", v, port);
        return false;
    }
    return true;
}

static bool phase1(struct tdm_evtchn *h, int la, uint64_t n, uint64_t *rtt)
{
    int fd = tdm_evtchn_port_fd(h, la);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t0 = stats_now_ns();
        if (tdm_evtchn_notify(h, la) < 0) {
            fprintf(stderr, "pingpong: FAIL notify: %s\n", tdm_last_error());
            return false;
        }
        if (!wait_kick(fd, "phase 1", i + 1))
            return false;
        rtt[i] = stats_now_ns() - t0;
    }
    return true;
}

static bool phase2(struct tdm_evtchn *h, int lb, uint64_t n)
{
    int fd = tdm_evtchn_port_fd(h, lb);
    for (uint64_t i = 0; i < n; i++) {
        if (!wait_kick(fd, "phase 2", i + 1))
            return false;
        if (tdm_evtchn_notify(h, lb) < 0) {
            fprintf(stderr, "pingpong: FAIL notify: %s\n", tdm_last_error());
            return false;
        }
    }
    return true;
}

/* Port A (guest-allocated) and port B (dom0-allocated, guest-bound). */
static bool bind_ports(struct tdm_evtchn *h, struct xs_step *xs, unsigned domid, int *la, int *lb,
                       int64_t *dom0_port)
{
    int64_t d0 = tdm_evtchn_alloc_unbound(h, domid);
    *dom0_port = d0;
    uint64_t a, b;
    if (d0 < 0) {
        fprintf(stderr, "pingpong: FAIL evtchn-alloc: %s\n", tdm_last_error());
        return false;
    }
    if (!xs_step_put_u64(xs, "dom0-port", (uint64_t)d0) || !xs_step_put(xs, "cmd", "dom0-port") ||
        !xs_step_wait(xs, "state", "ports", STEP_MS) || !xs_step_get_u64(xs, "port-a", &a) ||
        !xs_step_get_u64(xs, "port-b", &b))
        return false;
    *la = tdm_evtchn_bind_interdomain(h, domid, (uint32_t)a);
    *lb = *la > 0 ? tdm_evtchn_bind_allocated(h, domid, (uint32_t)d0) : -1;
    if (*la < 0 || *lb < 0) {
        fprintf(stderr, "pingpong: FAIL bind: %s\n", tdm_last_error());
        return false;
    }
    if (tdm_evtchn_remote_port(h, *lb) != (int64_t)b) {
        fprintf(stderr, "pingpong: FAIL dom0 port %" PRId64 " resolved to guest port %" PRId64
                ", guest says %" PRIu64 "\n", d0, tdm_evtchn_remote_port(h, *lb), b);
        return false;
    }
    return true;
}

/* Masked port: dom0 sends once; after the guest unmasks, exactly one answer. */
static bool mask_step(struct tdm_evtchn *h, struct xs_step *xs, int la)
{
    if (!xs_step_wait(xs, "state", "masked", STEP_MS))
        return false;
    if (tdm_evtchn_notify(h, la) < 0 || !xs_step_put(xs, "cmd", "masked-sent"))
        return false;
    return wait_kick(tdm_evtchn_port_fd(h, la), "unmask", 1) &&
           xs_step_wait(xs, "state", "unmasked", STEP_MS);
}

static bool check_totals(struct xs_step *xs, uint64_t n)
{
    uint64_t ha, hb;
    if (!xs_step_get_u64(xs, "hits-a", &ha) || !xs_step_get_u64(xs, "hits-b", &hb))
        return false;
    if (ha != n + 1 || hb != n) {
        fprintf(stderr, "pingpong: FAIL guest counted a=%" PRIu64 " (want %" PRIu64 ") b=%" PRIu64
                " (want %" PRIu64 ")\n", ha, n + 1, hb, n);
        return false;
    }
    return true;
}

static int run(const struct opts *o, struct tdm_evtchn *h, struct xs_step *xs, uint64_t *rtt)
{
    int la, lb;
    int64_t d0;
    if (!bind_ports(h, xs, o->domid, &la, &lb, &d0))
        return die("port setup");
    if (!phase1(h, la, o->n, rtt) || !quiet(tdm_evtchn_port_fd(h, la), "a"))
        return die("phase 1 (dom0 leads)");
    if (!xs_step_put(xs, "cmd", "phase1-done") || !mask_step(h, xs, la))
        return die("mask/unmask step");
    printf("pingpong: mask ok (pending while masked, one upcall after unmask)\n");
    if (!xs_step_put(xs, "cmd", "phase2") || !phase2(h, lb, o->n))
        return die("phase 2 (guest leads)");
    if (!xs_step_wait(xs, "state", "phase2-done", STEP_MS) || !check_totals(xs, o->n) ||
        !quiet(tdm_evtchn_port_fd(h, la), "a") || !quiet(tdm_evtchn_port_fd(h, lb), "b"))
        return die("totals");
    if (!xs_step_put(xs, "cmd", "done"))
        return die("final step");
    /* The guest resets its ports: dom0's port D is unbound again (the
     * guest's end is gone), so binding it says EAGAIN. */
    if (!xs_step_wait(xs, "state", "reset", STEP_MS))
        return die("EVTCHNOP_reset step");
    if (tdm_evtchn_bind_allocated(h, o->domid, (uint32_t)d0) != -1 ||
        errno != EAGAIN) {
        fprintf(stderr, "pingpong: FAIL after the guest's reset, dom0 port %" PRId64
                " is not unbound: %s\n", d0, tdm_last_error());
        return die("EVTCHNOP_reset step");
    }
    printf("pingpong: reset ok (guest ports closed, dom0 port unbound again)\n");
    xs_step_put(xs, "cmd", "bye");
    struct stats_summary s = stats_summarize(rtt, o->n);
    printf("pingpong: ok n=%" PRIu64 " rtt_median_ns=%" PRIu64 " rtt_p99_ns=%" PRIu64
           " rtt_min_ns=%" PRIu64 "\n", o->n, s.median, s.p99, s.min);
    return 0;
}

static bool parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .n = 100000 };
    bool have_dom = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end;
        if (!strcmp(argv[i], "--run-dir")) {
            o->run_dir = argv[i + 1];
            continue;
        }
        errno = 0;
        unsigned long long v = strtoull(argv[i + 1], &end, 10);
        if (errno || *end || !*argv[i + 1])
            return false;
        if (!strcmp(argv[i], "--domid") && v >= 1 && v < 0x7ff0) {
            o->domid = (unsigned)v;
            have_dom = true;
        } else if (!strcmp(argv[i], "--n") && v >= 1 && v <= 100000000) {
            o->n = v;
        } else {
            return false;
        }
    }
    return have_dom && argc % 2 == 1;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: evtchn_pingpong --domid N [--n 1..1e8] [--run-dir DIR]\n");
        return 2;
    }
    struct tdm_evtchn *h = tdm_evtchn_open(o.run_dir);
    struct xs_step *xs = xs_step_open(o.domid, "pingpong");
    uint64_t *rtt = calloc(o.n, sizeof(*rtt));
    int rc = h && xs && rtt ? run(&o, h, xs, rtt) : die("setup (evtchn handle, xenstore, memory)");
    if (rc && xs)
        xs_step_put(xs, "cmd", "fail:dom0");
    free(rtt);
    xs_step_close(xs);
    tdm_evtchn_close(h);
    return rc;
}

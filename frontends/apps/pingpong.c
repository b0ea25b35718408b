/*
 * app=pingpong [n=N] [deadlines=0]: event-channel ping-pong with a dom0 test program
 * (tests/integration/drivers/evtchn_pingpong.c), steps agreed through
 * xenstore nodes under data/pingpong/ (never by sleeping).
 *
 *   port A: we allocate it for domain 0 (alloc_unbound), dom0 binds it.
 *   port B: dom0 allocates a dom0 port (`evtchn-alloc`), we bind it
 *           (bind_interdomain, remote_dom 0).
 *
 * Phase 1 (dom0 leads, port A): dom0 notifies, our upcall handler rings
 * the doorbell back at once; N round trips.  Masking: we mask A, dom0
 * sends, we see the pending bit but no upcall, we unmask and get exactly
 * one.  Phase 2 (we lead, port B): we ring, dom0 answers, our thread waits
 * for the answer before ringing again; N round trips.  Strict alternation
 * makes a lost event a timeout and a duplicate an extra count, on either
 * side; both sides check the totals.  Finally EVTCHNOP_reset: A and B
 * closed, dom0's port unbound again, xenstore and console ports kept.
 */
#include "apps.h"
#include "evtchn.h"
#include "hypercall.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "thread.h"
#include "xenstore.h"

#define DIR "data/pingpong/"
#define STEP_WAIT_NS (20 * NSEC_PER_SEC)
#define REPLY_WAIT_NS (2 * NSEC_PER_SEC)

static uint64_t hits_a, hits_b;   /* upcalls per port */
/* deadlines=0 on the command line: the timed phases wait without a
 * deadline (dom0's driver still times out). With a deadline, every idle
 * entry of the kernel re-arms its one-shot timer, a hypercall that exits
 * to the VMM (~40 us on PVM) right when the next event arrives; the
 * benchmark measures both. */
static bool timed_deadlines = true;
static struct waitq wq = WAITQ_INIT;

/* Phase 1 and the mask step: answer at once from the upcall. */
static void on_a(evtchn_port_t port, void *arg)
{
    (void)arg;
    __atomic_fetch_add(&hits_a, 1, __ATOMIC_ACQ_REL);
    evtchn_notify(port);
}

static void on_b(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    __atomic_fetch_add(&hits_b, 1, __ATOMIC_ACQ_REL);
    waitq_wake_all(&wq);
}

static uint64_t load(uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int fail(const char *what, long err)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "fail:%s", what);
    xs_write(DIR "state", buf);
    printk("pingpong: FAIL %s (%ld) hits a=%llu b=%llu\n", what, err,
           (unsigned long long)load(&hits_a), (unsigned long long)load(&hits_b));
    return 1;
}

/* Waits until DIR<node> reads `want` (a watch wakes us on every change). */
static int wait_node_until(const char *node, const char *want, bool deadline_on)
{
    char path[64], got[64], wpath[64], token[16];
    snprintf(path, sizeof(path), DIR "%s", node);
    int r = xs_watch(path, "pp");
    if (r < 0)
        return r;
    uint64_t deadline = deadline_on ? monotonic_ns() + STEP_WAIT_NS : 0;
    for (;;) {
        r = xs_read(path, got, sizeof(got));
        if (r >= 0 && strcmp(got, want) == 0)
            break;
        if (r >= 0 && strncmp(got, "fail", 4) == 0) {
            r = -EIO;
            break;
        }
        r = xs_read_watch(wpath, sizeof(wpath), token, sizeof(token), deadline);
        if (r < 0)
            break;
    }
    xs_unwatch(path, "pp");
    return r < 0 ? r : 0;
}

static int wait_node(const char *node, const char *want)
{
    return wait_node_until(node, want, true);
}

/*
 * Phase 1 lasts as long as dom0 makes it: n round trips of ~15 us on KVM,
 * a few hundred each under emulation. Its deadline guards a stall (no
 * event for STEP_WAIT_NS), not the whole phase.
 */
static int wait_phase1_done(void)
{
    for (;;) {
        uint64_t before = load(&hits_a);
        int r = wait_node_until("cmd", "phase1-done", timed_deadlines);
        if (r != -ETIMEDOUT || load(&hits_a) == before)
            return r;
    }
}

static int put(const char *node, uint64_t v)
{
    char path[64], val[24];
    snprintf(path, sizeof(path), DIR "%s", node);
    snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
    return xs_write(path, val);
}

static bool port_pending(evtchn_port_t p)
{
    struct shared_info *s = evtchn_shared_info();
    return __atomic_load_n(&s->evtchn_pending[p / 64], __ATOMIC_ACQUIRE) & (1UL << (p % 64));
}

/* Masked: dom0's event sets the pending bit but no upcall; unmasking
 * delivers exactly one (the handler answers it, dom0 counts it). */
static int mask_step(evtchn_port_t a)
{
    int r;
    evtchn_mask(a);
    uint64_t before = load(&hits_a);
    if ((r = xs_write(DIR "state", "masked")) < 0 || (r = wait_node("cmd", "masked-sent")) < 0)
        return fail("waiting for dom0's send to the masked port", r);
    if (!port_pending(a))
        return fail("masked port not pending after dom0's send", 0);
    if (load(&hits_a) != before)
        return fail("upcall on a masked port", (long)(load(&hits_a) - before));
    evtchn_unmask(a);
    wait_event_until(&wq, load(&hits_a) != before, monotonic_ns() + REPLY_WAIT_NS);
    if (load(&hits_a) != before + 1)
        return fail("unmask did not deliver exactly one upcall", (long)(load(&hits_a) - before));
    return 0;
}

/* We lead on port B: ring, wait for dom0's answer, n times. */
static int phase2(evtchn_port_t b, uint64_t n)
{
    uint64_t t0 = monotonic_ns();
    for (uint64_t i = 1; i <= n; i++) {
        evtchn_notify(b);
        uint64_t deadline = timed_deadlines ? monotonic_ns() + REPLY_WAIT_NS : 0;
        if (!wait_event_until(&wq, load(&hits_b) >= i, deadline))
            return fail("phase 2: dom0's answer lost", (long)i);
        if (load(&hits_b) != i)
            return fail("phase 2: duplicate answer", (long)i);
    }
    uint64_t ns = monotonic_ns() - t0;
    printk("pingpong: phase 2 %llu round trips, %llu ns each\n", (unsigned long long)n,
           (unsigned long long)(ns / n));
    return 0;
}

static long setup_ports(evtchn_port_t *a, evtchn_port_t *b)
{
    char val[24];
    long r = evtchn_alloc_unbound(0, on_a, NULL);
    if (r < 0)
        return fail("alloc_unbound for dom0", r);
    *a = (evtchn_port_t)r;
    if ((r = wait_node("cmd", "dom0-port")) < 0 || (r = xs_read(DIR "dom0-port", val, sizeof(val))) < 0)
        return fail("waiting for dom0-port", r);
    r = evtchn_bind_interdomain(0, (evtchn_port_t)strtoul(val, NULL, 10), on_b, NULL);
    if (r < 0)
        return fail("bind_interdomain to the dom0 port", r);
    *b = (evtchn_port_t)r;
    if ((r = put("port-a", *a)) < 0 || (r = put("port-b", *b)) < 0 ||
        (r = xs_write(DIR "state", "ports")) < 0)
        return fail("publishing ports", r);
    return 0;
}

static uint32_t port_status(evtchn_port_t p)
{
    struct evtchn_status st = { .dom = DOMID_SELF, .port = p };
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 ? st.status : 0xffffffffu;
}

/* Last step: EVTCHNOP_reset closes A and B (dom0 then finds its port
 * unbound again) and keeps the platform's xenstore and console ports. The
 * kernel's own ports (timer VIRQ, IPIs) go too: only the xenstore
 * handshake, woken by port 1, follows. */
static int reset_step(evtchn_port_t a, evtchn_port_t b)
{
    evtchn_mask(a);
    evtchn_mask(b);
    struct evtchn_reset rs = { .dom = DOMID_SELF };
    long r = HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs);
    if (r < 0)
        return fail("EVTCHNOP_reset", r);
    if (port_status(a) != EVTCHNSTAT_closed || port_status(b) != EVTCHNSTAT_closed)
        return fail("ports still open after EVTCHNOP_reset", (long)port_status(a));
    if (port_status(1) != EVTCHNSTAT_interdomain || port_status(2) != EVTCHNSTAT_interdomain)
        return fail("EVTCHNOP_reset closed a platform port", (long)port_status(1));
    if ((r = xs_write(DIR "state", "reset")) < 0 || (r = wait_node_until("cmd", "bye", false)) < 0)
        return fail("after reset", r);
    return 0;
}

int app_pingpong(const struct cmdline *cl)
{
    uint64_t n;
    char err[96];
    evtchn_port_t a = 0, b = 0;
    if (cmdline_get_u64(cl, "n", 100000, 100000000, &n, err, sizeof(err)) < 0 || n == 0) {
        printk("pingpong: %s\n", n == 0 ? "n must be >= 1" : err);
        return 1;
    }
    const char *dl = cmdline_get(cl, "deadlines");
    timed_deadlines = !dl || strcmp(dl, "0") != 0;
    if (!xs_available())
        return fail("no xenstore", -EIO);
    if (setup_ports(&a, &b))
        return 1;
    int r;
    if ((r = wait_phase1_done()) < 0)
        return fail("phase 1 (dom0 leads): stalled or failed", r);
    if (load(&hits_a) != n)
        return fail("phase 1: upcall count differs from n", (long)load(&hits_a));
    if (mask_step(a))
        return 1;
    if ((r = xs_write(DIR "state", "unmasked")) < 0 || (r = wait_node("cmd", "phase2")) < 0)
        return fail("waiting for phase 2", r);
    if (phase2(b, n))
        return 1;
    if ((r = put("hits-a", load(&hits_a))) < 0 || (r = put("hits-b", load(&hits_b))) < 0 ||
        (r = xs_write(DIR "state", "phase2-done")) < 0 || (r = wait_node("cmd", "done")) < 0)
        return fail("final handshake", r);
    if (load(&hits_a) != n + 1 || load(&hits_b) != n)
        return fail("late duplicate events", (long)(load(&hits_a) + load(&hits_b)));
    if (reset_step(a, b))
        return 1;
    printk("pingpong: ok n=%llu ports a=%u b=%u\n", (unsigned long long)n, a, b);
    return 0;
}

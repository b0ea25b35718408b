/* Fake blkfront (see blkback_fakefront.h). */
#include "blkback_fakefront.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "public/grant_table.h"
#include "public/xen.h"

#define FF_FIRST_FRAME 256           /* guest pages handed out from 1 MiB up */
#define FF_GRANT_FRAMES 4            /* the fake VMM's table: 2048 refs */

static char ff_msg[512];
/* Shared by every fake device of the process: pages and refs are never
 * handed out twice. */
static unsigned next_frame = FF_FIRST_FRAME, next_ref = GNTTAB_NR_RESERVED_ENTRIES;

const char *ff_error(void) { return ff_msg; }

static bool fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ff_msg, sizeof(ff_msg), fmt, ap);
    va_end(ap);
    return false;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- xenstore ---- */

static bool put(struct ff *f, xs_transaction_t t, const char *dir, const char *key, const char *fmt,
                ...)
{
    char path[160], val[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write(f->xs, t, path, val, (unsigned)strlen(val));
}

bool ff_create(struct ff *f, struct fake_vmm *vmm, struct xs_handle *xs, unsigned devid,
               const char *params, const char *mode)
{
    xs_transaction_t t;
    char watch[128];
    bool ok;

    memset(f, 0, sizeof(*f));
    f->vmm = vmm;
    f->xs = xs;
    f->domid = 3;
    f->devid = devid;
    snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vbd/%u", f->domid, devid);
    snprintf(f->be, sizeof(f->be), "/local/domain/0/backend/vbd/%u/%u", f->domid, devid);
    snprintf(watch, sizeof(watch), "%s/state", f->be);
    if (!xs_watch(xs, watch, "ff"))
        return fail("watch %s: %s", watch, strerror(errno));
    t = xs_transaction_start(xs);
    ok = t != XBT_NULL;
    ok = ok && put(f, t, f->fe, "backend", "%s", f->be);
    ok = ok && put(f, t, f->fe, "backend-id", "0");
    ok = ok && put(f, t, f->fe, "virtual-device", "%u", devid);
    ok = ok && put(f, t, f->fe, "device-type", "disk");
    ok = ok && put(f, t, f->fe, "state", "1");
    ok = ok && put(f, t, f->be, "frontend", "%s", f->fe);
    ok = ok && put(f, t, f->be, "frontend-id", "%u", f->domid);
    ok = ok && put(f, t, f->be, "params", "%s", params);
    ok = ok && put(f, t, f->be, "mode", "%s", mode);
    ok = ok && put(f, t, f->be, "online", "1");
    ok = ok && put(f, t, f->be, "state", "1");
    if (!ok || !xs_transaction_end(xs, t, false))
        return fail("writing the device directories: %s", strerror(errno));
    return true;
}

char *ff_backend_key(struct ff *f, const char *key)
{
    char path[160];
    unsigned len;

    snprintf(path, sizeof(path), "%s/%s", f->be, key);
    return xs_read(f->xs, XBT_NULL, path, &len);
}

static int backend_state(struct ff *f)
{
    char *v = ff_backend_key(f, "state");
    int s = v ? atoi(v) : 0;

    free(v);
    return s;
}

bool ff_wait_backend(struct ff *f, int state, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    struct pollfd p = { .fd = xs_fileno(f->xs), .events = POLLIN };

    for (;;) {
        char **w;
        long left;

        while ((w = xs_check_watch(f->xs)) != NULL)
            free(w);
        if (backend_state(f) == state)
            return true;
        left = deadline - now_ms();
        if (left <= 0)
            return fail("backend state %d, waited %d ms for %d", backend_state(f), timeout_ms,
                        state);
        poll(&p, 1, (int)left);
    }
}

bool ff_set_state(struct ff *f, int state)
{
    if (!put(f, XBT_NULL, f->fe, "state", "%d", state))
        return fail("writing frontend state: %s", strerror(errno));
    return true;
}

/* ---- memory and grants ---- */

unsigned ff_page(struct ff *f)
{
    unsigned frame = next_frame++;

    memset(ff_addr(f, frame), 0, 4096);
    return frame;
}

uint8_t *ff_addr(struct ff *f, unsigned frame)
{
    return fake_vmm_gpa(f->vmm, (uint64_t)frame * 4096);
}

static struct grant_entry_v1 *entry(struct ff *f, uint32_t ref)
{
    if (ref >= FF_GRANT_FRAMES * 512)
        abort();                    /* the test ran out of refs: test bug */
    return (struct grant_entry_v1 *)fake_vmm_gpa(f->vmm, FAKE_GNT_GPA(0)) + ref;
}

uint32_t ff_grant(struct ff *f, unsigned frame, bool readonly)
{
    uint32_t ref = next_ref++;
    struct grant_entry_v1 *e = entry(f, ref);

    e->domid = 0;
    e->frame = frame;
    __atomic_store_n(&e->flags, GTF_permit_access | (readonly ? GTF_readonly : 0),
                     __ATOMIC_RELEASE);
    return ref;
}

uint32_t ff_ungranted_ref(struct ff *f)
{
    uint32_t ref = next_ref++;

    __atomic_store_n(&entry(f, ref)->flags, GTF_invalid, __ATOMIC_RELEASE);
    return ref;
}

bool ff_end_access(struct ff *f, uint32_t ref)
{
    uint16_t *flags = &entry(f, ref)->flags;
    uint16_t old = __atomic_load_n(flags, __ATOMIC_ACQUIRE);

    do {
        if (old & (GTF_reading | GTF_writing))
            return false;
    } while (!__atomic_compare_exchange_n(flags, &old, 0, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return true;
}

/* ---- connecting ---- */

static bool publish_queue(struct ff *f, xs_transaction_t t, unsigned i)
{
    struct ff_queue *q = &f->q[i];
    char dir[128];
    bool ok = true;

    if (f->nq == 1)
        snprintf(dir, sizeof(dir), "%s", f->fe);
    else
        snprintf(dir, sizeof(dir), "%s/queue-%u", f->fe, i);
    ok = ok && put(f, t, dir, "event-channel", "%u", q->port);
    if (f->order == 0)
        return ok && put(f, t, dir, "ring-ref", "%u", q->ring_refs[0]);
    for (unsigned k = 0; k < (1u << f->order); k++) {
        char key[32];

        snprintf(key, sizeof(key), "ring-ref%u", k);
        ok = ok && put(f, t, dir, key, "%u", q->ring_refs[k]);
    }
    return ok;
}

static void setup_queue(struct ff *f, unsigned i, unsigned port)
{
    struct ff_queue *q = &f->q[i];
    unsigned pages = 1u << f->order, first = 0;

    for (unsigned k = 0; k < pages; k++) {
        unsigned frame = ff_page(f);        /* consecutive: one view for the front */

        if (k == 0)
            first = frame;
        q->ring_refs[k] = ff_grant(f, frame, false);
    }
    SHARED_RING_INIT((blkif_sring_t *)ff_addr(f, first));
    FRONT_RING_INIT(&q->ring, (blkif_sring_t *)ff_addr(f, first), (size_t)4096 << f->order);
    q->port = port;
    fake_vmm_allow_port(f->vmm, port);
}

bool ff_publish(struct ff *f, unsigned nq, unsigned order, unsigned first_port)
{
    xs_transaction_t t;
    bool ok;

    if (nq == 0 || nq > FF_MAX_QUEUES || order > 4)
        return fail("bad queue count or order");
    f->nq = nq;
    f->order = order;
    for (unsigned i = 0; i < nq; i++)
        setup_queue(f, i, first_port + i);
    t = xs_transaction_start(f->xs);
    ok = t != XBT_NULL;
    ok = ok && put(f, t, f->fe, "protocol", "%s", f->protocol ? f->protocol : "x86_64-abi");
    if (nq > 1)
        ok = ok && put(f, t, f->fe, "multi-queue-num-queues", "%u", nq);
    if (f->persistent)
        ok = ok && put(f, t, f->fe, "feature-persistent", "1");
    if (order > 0)
        ok = ok && put(f, t, f->fe, "ring-page-order", "%u", order);
    for (unsigned i = 0; i < nq; i++)
        ok = ok && publish_queue(f, t, i);
    ok = ok && put(f, t, f->fe, "state", "3");
    if (!ok || !xs_transaction_end(f->xs, t, false))
        return fail("publishing the rings: %s", strerror(errno));
    return true;
}

bool ff_connect(struct ff *f, unsigned nq, unsigned order, unsigned first_port)
{
    return ff_publish(f, nq, order, first_port) && ff_wait_backend(f, 4, 5000);
}

/* ---- requests ---- */

void ff_put(struct ff *f, unsigned qi, const void *req, size_t len)
{
    blkif_front_ring_t *r = &f->q[qi].ring;
    void *slot = RING_GET_REQUEST(r, r->req_prod_pvt);

    memset(slot, 0, sizeof(struct blkif_request));
    memcpy(slot, req, len);
    r->req_prod_pvt++;
}

bool ff_push(struct ff *f, unsigned qi)
{
    const uint64_t one = 1;
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->q[qi].ring, notify);
    if (notify && write(fake_vmm_kick_fd(f->vmm, f->q[qi].port), &one, sizeof(one)) < 0)
        fail("kick: %s", strerror(errno));
    return notify;
}

void ff_ack_ports(struct fake_vmm *vmm, const unsigned *ports, unsigned n)
{
    struct shared_info *s = (struct shared_info *)fake_vmm_gpa(vmm, FAKE_SHINFO_GPA);
    uint64_t junk;

    __atomic_store_n(&s->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_exchange_n(&s->vcpu_info[0].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    for (unsigned w = 0; w < sizeof(s->evtchn_pending) / sizeof(s->evtchn_pending[0]); w++)
        __atomic_exchange_n(&s->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < n; i++) {
        int fd = fake_vmm_irq_fd(vmm, ports[i]);

        if (fd >= 0)
            while (read(fd, &junk, sizeof(junk)) > 0)
                ;
    }
}

static void ack_events(struct ff *f)
{
    unsigned ports[FF_MAX_QUEUES];

    for (unsigned i = 0; i < f->nq; i++)
        ports[i] = f->q[i].port;
    ff_ack_ports(f->vmm, ports, f->nq);
}

static void wait_irq(struct ff *f, long left)
{
    struct pollfd p[FF_MAX_QUEUES];

    for (unsigned i = 0; i < f->nq; i++)
        p[i] = (struct pollfd){ .fd = fake_vmm_irq_fd(f->vmm, f->q[i].port), .events = POLLIN };
    poll(p, f->nq, (int)left);
}

unsigned ff_take(struct ff *f, unsigned qi, struct blkif_response *out, unsigned max)
{
    blkif_front_ring_t *r = &f->q[qi].ring;
    unsigned got = 0;

    while (got < max && RING_HAS_UNCONSUMED_RESPONSES(r)) {
        RING_COPY_RESPONSE(r, r->rsp_cons, &out[got]);
        r->rsp_cons++;
        got++;
    }
    return got;
}

bool ff_wait_responses(struct ff *f, unsigned qi, int timeout_ms)
{
    blkif_front_ring_t *r = &f->q[qi].ring;
    struct pollfd p = { .fd = fake_vmm_irq_fd(f->vmm, f->q[qi].port), .events = POLLIN };
    int more;

    RING_FINAL_CHECK_FOR_RESPONSES(r, more);
    if (!more) {
        poll(&p, 1, timeout_ms);
        ack_events(f);
    }
    return RING_HAS_UNCONSUMED_RESPONSES(r);
}

unsigned ff_collect(struct ff *f, unsigned qi, struct blkif_response *out, unsigned n,
                    int timeout_ms)
{
    blkif_front_ring_t *r = &f->q[qi].ring;
    long deadline = now_ms() + timeout_ms;
    unsigned got = 0;

    for (;;) {
        int more;
        long left;

        ack_events(f);
        got += ff_take(f, qi, out + got, n - got);
        if (got == n)
            return got;
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
        if (more)
            continue;
        left = deadline - now_ms();
        if (left <= 0) {
            fail("queue %u: %u of %u responses after %d ms", qi, got, n, timeout_ms);
            return got;
        }
        wait_irq(f, left);
    }
}

bool ff_close(struct ff *f)
{
    return ff_set_state(f, 5) && ff_wait_backend(f, 5, 5000) && ff_set_state(f, 6) &&
           ff_wait_backend(f, 6, 5000);
}

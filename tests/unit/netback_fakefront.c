/* Fake netfront (see netback_fakefront.h). */
#include "netback_fakefront.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "public/xen.h"

static char nf_msg[256];

const char *nf_error(void) { return nf_msg; }

static bool fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(nf_msg, sizeof(nf_msg), fmt, ap);
    va_end(ap);
    return false;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool put(struct nf *n, xs_transaction_t t, const char *dir, const char *key,
                const char *fmt, ...)
{
    char path[192], val[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write(n->ff.xs, t, path, val, (unsigned)strlen(val));
}

bool nf_create(struct nf *n, struct fake_vmm *vmm, struct xs_handle *xs, unsigned devid,
               const char *vifname, const char *bridge)
{
    struct ff *f = &n->ff;
    xs_transaction_t t;
    char watch[160];
    bool ok;

    memset(n, 0, sizeof(*n));
    n->sg = true;
    f->vmm = vmm;
    f->xs = xs;
    f->domid = 3;
    f->devid = devid;
    snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vif/%u", f->domid, devid);
    snprintf(f->be, sizeof(f->be), "/local/domain/0/backend/vif/%u/%u", f->domid, devid);
    snprintf(watch, sizeof(watch), "%s/state", f->be);
    if (!xs_watch(xs, watch, "nf"))
        return fail("watch %s: %s", watch, strerror(errno));
    t = xs_transaction_start(xs);
    ok = t != XBT_NULL;
    ok = ok && put(n, t, f->fe, "backend", "%s", f->be);
    ok = ok && put(n, t, f->fe, "backend-id", "0");
    ok = ok && put(n, t, f->fe, "handle", "%u", devid);
    ok = ok && put(n, t, f->fe, "mac", "00:16:3e:00:00:%02x", devid & 0xff);
    ok = ok && put(n, t, f->fe, "state", "1");
    ok = ok && put(n, t, f->be, "frontend", "%s", f->fe);
    ok = ok && put(n, t, f->be, "frontend-id", "%u", f->domid);
    ok = ok && put(n, t, f->be, "handle", "%u", devid);
    ok = ok && put(n, t, f->be, "mac", "00:16:3e:00:00:%02x", devid & 0xff);
    ok = ok && (!vifname || put(n, t, f->be, "vifname", "%s", vifname));
    ok = ok && (!bridge || put(n, t, f->be, "bridge", "%s", bridge));
    ok = ok && put(n, t, f->be, "online", "1");
    ok = ok && put(n, t, f->be, "state", "1");
    if (!ok || !xs_transaction_end(xs, t, false))
        return fail("writing the vif directories: %s", strerror(errno));
    return true;
}

/* ---- connecting ---- */

static void make_pool(struct nf *n, struct nf_queue *q)
{
    if (q->pool)
        return;
    for (unsigned i = 0; i < NF_SLOTS; i++) {
        q->tx_frame[i] = ff_page(&n->ff);
        q->tx_gref[i] = ff_grant(&n->ff, q->tx_frame[i], true);
        q->rx_frame[i] = ff_page(&n->ff);
        q->rx_gref[i] = ff_grant(&n->ff, q->rx_frame[i], false);
    }
    q->pool = true;
}

static void setup_queue(struct nf *n, unsigned i, unsigned port)
{
    struct nf_queue *q = &n->q[i];
    unsigned txf = ff_page(&n->ff), rxf = ff_page(&n->ff);

    make_pool(n, q);
    q->tx_ref = ff_grant(&n->ff, txf, false);
    q->rx_ref = ff_grant(&n->ff, rxf, false);
    SHARED_RING_INIT((netif_tx_sring_t *)ff_addr(&n->ff, txf));
    SHARED_RING_INIT((netif_rx_sring_t *)ff_addr(&n->ff, rxf));
    FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)ff_addr(&n->ff, txf), XEN_PAGE_SIZE);
    FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)ff_addr(&n->ff, rxf), XEN_PAGE_SIZE);
    q->port_tx = port;
    q->port_rx = n->split ? port + 1 : port;
    fake_vmm_allow_port(n->ff.vmm, q->port_tx);
    fake_vmm_allow_port(n->ff.vmm, q->port_rx);
}

static bool publish_queue(struct nf *n, xs_transaction_t t, unsigned i)
{
    struct nf_queue *q = &n->q[i];
    char dir[160];
    bool ok = true;

    if (n->nq == 1)
        snprintf(dir, sizeof(dir), "%s", n->ff.fe);
    else
        snprintf(dir, sizeof(dir), "%s/queue-%u", n->ff.fe, i);
    ok = ok && put(n, t, dir, "tx-ring-ref", "%u", q->tx_ref);
    ok = ok && put(n, t, dir, "rx-ring-ref", "%u", q->rx_ref);
    if (n->split) {
        ok = ok && put(n, t, dir, "event-channel-tx", "%u", q->port_tx);
        ok = ok && put(n, t, dir, "event-channel-rx", "%u", q->port_rx);
    } else {
        ok = ok && put(n, t, dir, "event-channel", "%u", q->port_tx);
    }
    return ok;
}

bool nf_connect(struct nf *n, unsigned nq, bool split, unsigned first_port, bool wait)
{
    xs_transaction_t t;
    bool ok;

    if (nq == 0 || nq > NF_MAX_QUEUES)
        return fail("bad queue count");
    n->nq = nq;
    n->split = split;
    for (unsigned i = 0; i < nq; i++)
        setup_queue(n, i, first_port + 2 * i);
    t = xs_transaction_start(n->ff.xs);
    ok = t != XBT_NULL;
    ok = ok && put(n, t, n->ff.fe, "request-rx-copy", "%u", n->flip ? 0 : 1);
    if (n->no_rx_notify) {
        char path[192];

        snprintf(path, sizeof(path), "%s/feature-rx-notify", n->ff.fe);
        xs_rm(n->ff.xs, t, path);
    } else {
        ok = ok && put(n, t, n->ff.fe, "feature-rx-notify", "1");
    }
    ok = ok && put(n, t, n->ff.fe, "feature-sg", "%u", n->sg ? 1 : 0);
    ok = ok && put(n, t, n->ff.fe, "feature-gso-tcpv4", "%u", n->gso ? 1 : 0);
    ok = ok && put(n, t, n->ff.fe, "feature-gso-tcpv6", "%u", n->gso ? 1 : 0);
    if (nq > 1)
        ok = ok && put(n, t, n->ff.fe, "multi-queue-num-queues", "%u", nq);
    for (unsigned i = 0; i < nq; i++)
        ok = ok && publish_queue(n, t, i);
    ok = ok && put(n, t, n->ff.fe, "state", "4");
    if (!ok || !xs_transaction_end(n->ff.xs, t, false))
        return fail("publishing the rings: %s", strerror(errno));
    return !wait || ff_wait_backend(&n->ff, 4, 5000) || fail("backend not Connected");
}

bool nf_reconnect(struct nf *n, unsigned first_port)
{
    if (!ff_set_state(&n->ff, 1) || !ff_wait_backend(&n->ff, 2, 5000))
        return fail("backend not back in InitWait");
    return nf_connect(n, n->nq, n->split, first_port, true);
}

/* ---- events ---- */

static void ack_events(struct nf *n)
{
    unsigned ports[2 * NF_MAX_QUEUES];

    for (unsigned i = 0; i < n->nq; i++) {
        ports[2 * i] = n->q[i].port_tx;
        ports[2 * i + 1] = n->q[i].port_rx;
    }
    ff_ack_ports(n->ff.vmm, ports, 2 * n->nq);
}

static void wait_irq(struct nf *n, unsigned port, long left)
{
    struct pollfd p = { .fd = fake_vmm_irq_fd(n->ff.vmm, port), .events = POLLIN };

    poll(&p, 1, (int)(left > 100 ? 100 : left));   /* rechecks the ring at least every 100 ms */
}

static void kick(struct nf *n, unsigned port)
{
    const uint64_t one = 1;

    if (write(fake_vmm_kick_fd(n->ff.vmm, port), &one, sizeof(one)) < 0)
        fail("kick: %s", strerror(errno));
}

/* ---- TX ---- */

uint32_t nf_tx_next_gref(struct nf *n, unsigned qi)
{
    struct nf_queue *q = &n->q[qi];

    return q->tx_gref[q->tx.req_prod_pvt % NF_SLOTS];
}

void nf_tx_raw(struct nf *n, unsigned qi, const union netif_tx_slot *slot)
{
    netif_tx_front_ring_t *r = &n->q[qi].tx;

    memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), slot, sizeof(*slot));
    r->req_prod_pvt++;
}

bool nf_tx_frame(struct nf *n, unsigned qi, const uint8_t *frame, size_t len, unsigned nslots,
                 uint16_t flags)
{
    struct nf_queue *q = &n->q[qi];
    size_t per = (len + nslots - 1) / nslots, done = 0;

    if (RING_FREE_REQUESTS(&q->tx) < nslots || per > XEN_PAGE_SIZE)
        return false;
    for (unsigned s = 0; s < nslots; s++) {
        unsigned slot = q->tx.req_prod_pvt % NF_SLOTS;
        size_t chunk = len - done < per ? len - done : per;
        union netif_tx_slot t = { .req = {
            .gref = q->tx_gref[slot], .offset = 0, .id = (uint16_t)slot,
            .size = (uint16_t)(s == 0 ? len : chunk),
            .flags = (uint16_t)((s == 0 ? flags : 0) |
                                (s + 1 < nslots ? XEN_NETTXF_more_data : 0)) } };

        memcpy(ff_addr(&n->ff, q->tx_frame[slot]), frame + done, chunk);
        done += chunk;
        nf_tx_raw(n, qi, &t);
    }
    return true;
}

void nf_tx_push(struct nf *n, unsigned qi)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&n->q[qi].tx, notify);
    if (notify)
        kick(n, n->q[qi].port_tx);
}

unsigned nf_tx_reap(struct nf *n, unsigned qi)
{
    netif_tx_front_ring_t *r = &n->q[qi].tx;
    unsigned got = 0;
    int more;

    do {
        while (RING_HAS_UNCONSUMED_RESPONSES(r)) {
            r->rsp_cons++;
            got++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
    } while (more);
    return got;
}

unsigned nf_tx_collect(struct nf *n, unsigned qi, struct netif_tx_response *out, unsigned cnt,
                       int timeout_ms)
{
    netif_tx_front_ring_t *r = &n->q[qi].tx;
    long deadline = now_ms() + timeout_ms;
    unsigned got = 0;

    for (;;) {
        int more;
        long left;

        ack_events(n);
        while (got < cnt && RING_HAS_UNCONSUMED_RESPONSES(r)) {
            RING_COPY_RESPONSE(r, r->rsp_cons, &out[got]);
            r->rsp_cons++;
            got++;
        }
        if (got == cnt)
            return got;
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
        if (more)
            continue;
        left = deadline - now_ms();
        if (left <= 0) {
            fail("queue %u: %u of %u TX responses after %d ms", qi, got, cnt, timeout_ms);
            return got;
        }
        wait_irq(n, n->q[qi].port_tx, left);
    }
}

/* ---- RX ---- */

void nf_rx_post(struct nf *n, unsigned qi, unsigned count)
{
    struct nf_queue *q = &n->q[qi];
    int notify;

    while (q->rx.req_prod_pvt - q->rx.rsp_cons < count && !RING_FULL(&q->rx)) {
        unsigned slot = q->rx.req_prod_pvt % NF_SLOTS;
        struct netif_rx_request *req = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);

        req->id = (uint16_t)slot;
        req->gref = q->rx_gref[slot];
        q->rx.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        kick(n, q->port_rx);
}

static bool next_rx(struct nf *n, unsigned qi, struct netif_rx_response *rsp, long deadline)
{
    netif_rx_front_ring_t *r = &n->q[qi].rx;

    for (;;) {
        int more;

        if (RING_HAS_UNCONSUMED_RESPONSES(r)) {
            RING_COPY_RESPONSE(r, r->rsp_cons, rsp);
            r->rsp_cons++;
            return true;
        }
        ack_events(n);              /* only when idle, as a guest's handler batches */
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
        if (more)
            continue;
        if (now_ms() >= deadline)
            return false;
        wait_irq(n, n->q[qi].port_rx, deadline - now_ms());
    }
}

int nf_rx_recv(struct nf *n, unsigned qi, uint8_t *buf, size_t cap, uint16_t *flags,
               int16_t *status, int timeout_ms)
{
    struct nf_queue *q = &n->q[qi];
    long deadline = now_ms() + timeout_ms;
    struct netif_rx_response rsp;
    size_t len = 0;
    bool first = true, extra = false, more = true, err = false;

    while (more || extra) {
        if (!next_rx(n, qi, &rsp, deadline)) {
            fail("queue %u: no RX response within %d ms", qi, timeout_ms);
            return -1;
        }
        if (extra && !first) {      /* the slot holds a netif_extra_info */
            extra = false;
            continue;
        }
        if (first) {
            *flags = rsp.flags;
            extra = rsp.flags & XEN_NETRXF_extra_info;
            first = false;
        }
        more = rsp.flags & XEN_NETRXF_more_data;
        /* netif.h: each response in the slot of its request (whose id is
         * its slot here) */
        if (rsp.id != (q->rx.rsp_cons - 1) % NF_SLOTS)
            n->misplaced++;
        if (rsp.status < 0) {
            *status = rsp.status;
            err = true;
        } else if (rsp.id < NF_SLOTS && len + (size_t)rsp.status <= cap &&
                   rsp.offset + (size_t)rsp.status <= XEN_PAGE_SIZE) {
            memcpy(buf + len, ff_addr(&n->ff, q->rx_frame[rsp.id]) + rsp.offset,
                   (size_t)rsp.status);
            len += (size_t)rsp.status;
        } else {
            fail("bad RX response id %u offset %u status %d", rsp.id, rsp.offset, rsp.status);
            return -2;
        }
    }
    return err ? -2 : (int)len;
}

/*
 * netfront (netfront.h): the vif protocol over xenfront's handshake.
 * Every response is copied off the ring once and checked (id, length,
 * producer index) before it is acted on: a backend is outside input too.
 */
#include "netfront.h"
#include "evtchn.h"
#include "gnttab.h"
#include "kerrno.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "net.h"

#define LOG_LIMIT 16

static bool connected(const struct netfront *nf)
{
    return nf->xf.state == XENFRONT_CONNECTED && !nf->xf.backend_lost;
}

bool netfront_connected(const struct netfront *nf)
{
    return connected(nf);
}

static void upcall(evtchn_port_t port, void *arg)
{
    (void)port;
    struct netfront *nf = arg;
    nf->upcalls++;
    waitq_wake_all(&nf->wq);
}

static void complain(struct netfront *nf, const char *what, unsigned int v)
{
    if (++nf->st.rx_bad <= LOG_LIMIT)
        printk("netfront %s: backend %s (%u); ignored\n", nf->id, what, v);
}

/* ---- connect / disconnect (xenfront callbacks) ---- */

static int read_mac(struct netfront *nf)
{
    char v[32], path[XENBUS_PATH_MAX];
    snprintf(path, sizeof(path), "%s/mac", nf->xf.xb.nodename);
    int rc = xenbus_read(XBT_NIL, path, v, sizeof(v));
    if (rc < 0 || net_parse_mac(v, nf->mac) < 0) {
        printk("netfront %s: no valid mac in %s/mac (%d)\n", nf->id, nf->xf.xb.nodename, rc);
        return rc < 0 ? rc : -EINVAL;
    }
    return 0;
}

static void post_rx(struct netfront *nf, uint16_t id)
{
    struct netif_rx_request *req = RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);
    req->id = id;
    req->gref = nf->rx_ref[id];
    nf->rx_posted[id] = true;
    nf->rx.req_prod_pvt++;
}

/* The pool: one page per id, granted; pages lost to a dead backend's
 * marks were set to NULL by teardown and are replaced here. */
static int grant_pool(struct netfront *nf)
{
    for (unsigned int i = 0; i < NETFRONT_IDS; i++) {
        if (!nf->tx_page[i] && !(nf->tx_page[i] = page_alloc(1)))
            return -ENOMEM;
        if (!nf->rx_page[i] && !(nf->rx_page[i] = page_alloc(1)))
            return -ENOMEM;
        int t = gnttab_grant_page(nf->backend_id, nf->tx_page[i], true);
        if (t < 0)
            return t;
        nf->tx_ref[i] = (grant_ref_t)t;
        int r = gnttab_grant_page(nf->backend_id, nf->rx_page[i], false);
        if (r < 0) {
            gnttab_end_access_and_free(nf->tx_ref[i]);
            nf->tx_ref[i] = GNTTAB_INVALID_REF;
            return r;
        }
        nf->rx_ref[i] = (grant_ref_t)r;
    }
    return 0;
}

static int ring_page(struct netfront *nf, void **page, grant_ref_t *ref)
{
    if (!(*page = page_alloc_zeroed(1)))
        return -ENOMEM;
    int rc = gnttab_grant_page(nf->backend_id, *page, false);
    if (rc < 0) {
        page_free(*page, 1);
        *page = NULL;
        return rc;
    }
    *ref = (grant_ref_t)rc;
    return 0;
}

static int setup(struct xenfront *f)
{
    struct netfront *nf = f->priv;
    int rc;
    nf->backend_id = f->xb.otherend_id;
    if (!f->reconnects && (rc = read_mac(nf)) < 0)
        return rc;
    if ((rc = ring_page(nf, &nf->tx_ring_page, &nf->tx_ring_ref)) < 0 ||
        (rc = ring_page(nf, &nf->rx_ring_page, &nf->rx_ring_ref)) < 0)
        return xenfront_fail(f, "allocating the rings", rc);
    SHARED_RING_INIT((netif_tx_sring_t *)nf->tx_ring_page);
    SHARED_RING_INIT((netif_rx_sring_t *)nf->rx_ring_page);
    FRONT_RING_INIT(&nf->tx, (netif_tx_sring_t *)nf->tx_ring_page, PAGE_SIZE);
    FRONT_RING_INIT(&nf->rx, (netif_rx_sring_t *)nf->rx_ring_page, PAGE_SIZE);
    for (unsigned int i = 0; i < NETFRONT_IDS; i++)
        nf->tx_ref[i] = nf->rx_ref[i] = GNTTAB_INVALID_REF;
    if ((rc = grant_pool(nf)) < 0)
        return xenfront_fail(f, "granting the buffers", rc);
    nf->nr_tx_free = 0;
    for (unsigned int i = 0; i < NETFRONT_IDS; i++) {
        nf->tx_busy[i] = false;
        nf->tx_free[nf->nr_tx_free++] = (uint16_t)(NETFRONT_IDS - 1 - i);
        post_rx(nf, (uint16_t)i);
    }
    RING_PUSH_REQUESTS(&nf->rx);
    nf->split = xenfront_backend_u64(f, "feature-split-event-channels", 1, 0);
    long port = evtchn_alloc_unbound(nf->backend_id, upcall, nf);
    if (port < 0)
        return xenfront_fail(f, "allocating the event channel", (int)port);
    nf->port = nf->port_rx = (evtchn_port_t)port;
    if (nf->split) {
        port = evtchn_alloc_unbound(nf->backend_id, upcall, nf);
        if (port < 0)
            return xenfront_fail(f, "allocating the RX event channel", (int)port);
        nf->port_rx = (evtchn_port_t)port;
    }
    return 0;
}

static int keys(xenbus_transaction_t t, struct xenfront *f)
{
    struct netfront *nf = f->priv;
    const char *fe = f->xb.nodename;
    static const struct { const char *key; unsigned int v; } flags[] = {
        { "request-rx-copy", 1 }, { "feature-rx-notify", 1 }, { "feature-sg", 0 },
        { "feature-gso-tcpv4", 0 }, { "feature-gso-tcpv6", 0 },
        { "feature-no-csum-offload", 1 }, { "feature-ipv6-csum-offload", 0 },
    };
    int rc = xenbus_printf(t, fe, "tx-ring-ref", "%u", nf->tx_ring_ref);
    if (rc == 0)
        rc = xenbus_printf(t, fe, "rx-ring-ref", "%u", nf->rx_ring_ref);
    if (rc == 0 && nf->split) {
        rc = xenbus_printf(t, fe, "event-channel-tx", "%u", nf->port);
        if (rc == 0)
            rc = xenbus_printf(t, fe, "event-channel-rx", "%u", nf->port_rx);
    } else if (rc == 0) {
        rc = xenbus_printf(t, fe, "event-channel", "%u", nf->port);
    }
    for (unsigned int i = 0; rc == 0 && i < ARRAY_SIZE(flags); i++)
        rc = xenbus_printf(t, fe, flags[i].key, "%u", flags[i].v);
    return rc;
}

static void up(struct xenfront *f, bool again)
{
    struct netfront *nf = f->priv;
    if (again)
        printk("netfront %s: reconnected\n", nf->id);
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
    evtchn_notify(nf->port_rx);   /* the backend may have parked frames already */
    nf->st.doorbells++;
    (void)notify;
}

static void end_page(void **page, grant_ref_t *ref)
{
    if (*ref != GNTTAB_INVALID_REF && gnttab_end_access_and_free(*ref) < 0)
        *page = NULL;              /* still marked by the backend: leave it granted */
    *ref = GNTTAB_INVALID_REF;
}

static void down(struct xenfront *f)
{
    struct netfront *nf = f->priv;
    if (nf->port_rx && nf->port_rx != nf->port)
        evtchn_close(nf->port_rx);
    if (nf->port)
        evtchn_close(nf->port);
    nf->port = nf->port_rx = 0;
    if (nf->tx_ring_page) {
        void *p = nf->tx_ring_page;
        end_page(&nf->tx_ring_page, &nf->tx_ring_ref);
        if (nf->tx_ring_page)
            page_free(p, 1);
        nf->tx_ring_page = NULL;
    }
    if (nf->rx_ring_page) {
        void *p = nf->rx_ring_page;
        end_page(&nf->rx_ring_page, &nf->rx_ring_ref);
        if (nf->rx_ring_page)
            page_free(p, 1);
        nf->rx_ring_page = NULL;
    }
    for (unsigned int i = 0; i < NETFRONT_IDS; i++) {
        end_page(&nf->tx_page[i], &nf->tx_ref[i]);
        end_page(&nf->rx_page[i], &nf->rx_ref[i]);
        nf->rx_posted[i] = false;
        nf->tx_busy[i] = false;
    }
    nf->nr_tx_free = 0;
}

static void dead(struct xenfront *f)
{
    (void)f;
}

static void wake(struct xenfront *f)
{
    struct netfront *nf = f->priv;
    waitq_wake_all(&nf->wq);
}

/* Restored in a new domain: the ports died with the old one. */
static void forget_ports(struct xenfront *f)
{
    struct netfront *nf = f->priv;
    nf->port = nf->port_rx = 0;
}

static const struct xenfront_ops netfront_ops = {
    .setup = setup, .keys = keys, .up = up, .down = down, .dead = dead, .wake = wake,
    .resumed = forget_ports,
};

struct netfront *netfront_open(const char *id, int *err)
{
    int rc = -ENOMEM;
    struct netfront *nf = calloc(1, sizeof(*nf));
    if (!nf)
        goto out;
    snprintf(nf->id, sizeof(nf->id), "%s", id);
    snprintf(nf->xf.name, sizeof(nf->xf.name), "netfront %s", id);
    nf->poll_ns = 50 * NSEC_PER_USEC;
    if ((rc = gnttab_init()) < 0)
        goto out;
    if ((rc = xenfront_start(&nf->xf, "vif", nf->id, &netfront_ops, nf)) < 0)
        goto out;
    if (err)
        *err = 0;
    return nf;
out:
    if (nf && !xenfront_in_use(&nf->xf))
        free(nf);
    if (err)
        *err = rc;
    return NULL;
}

void netfront_close(struct netfront *nf)
{
    if (nf)
        xenfront_close(&nf->xf);
}

int netfront_wait_present(const char *id, uint64_t timeout_ns)
{
    return xenfront_wait_present("vif", id, timeout_ns);
}

bool netfront_detached(const struct netfront *nf)
{
    return nf->xf.detached;
}

int netfront_backend_read(struct netfront *nf, const char *node, char *buf, size_t len)
{
    char path[XENBUS_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", nf->xf.xb.otherend, node);
    return xenbus_read(XBT_NIL, path, buf, len);
}

/* ---- data path ---- */

static void reap_tx(struct netfront *nf)
{
    RING_IDX prod = nf->tx.sring->rsp_prod;
    xen_rmb();
    if (prod - nf->tx.rsp_cons > RING_SIZE(&nf->tx)) {
        complain(nf, "TX response producer more than a ring ahead", prod);
        return;
    }
    while (nf->tx.rsp_cons != prod) {
        struct netif_tx_response rsp;
        RING_COPY_RESPONSE(&nf->tx, nf->tx.rsp_cons, &rsp);
        nf->tx.rsp_cons++;
        if (rsp.status == XEN_NETIF_RSP_NULL)
            continue;              /* an extra-info slot */
        if (rsp.id >= NETFRONT_IDS) {
            if (nf->raw_tx_fn)
                nf->raw_tx_fn(nf->raw_arg, &rsp);
            else
                complain(nf, "TX response with an unknown id", rsp.id);
            continue;
        }
        if (!nf->tx_busy[rsp.id]) {
            complain(nf, "TX response for an idle id", rsp.id);
            continue;
        }
        nf->tx_busy[rsp.id] = false;
        nf->tx_free[nf->nr_tx_free++] = rsp.id;
        if (rsp.status != XEN_NETIF_RSP_OKAY)
            nf->st.tx_errors++;
        if (nf->raw_tx_fn && rsp.status != XEN_NETIF_RSP_OKAY)
            nf->raw_tx_fn(nf->raw_arg, &rsp);
    }
}

int netfront_xmit(struct netfront *nf, const void *frame, size_t len)
{
    if (!connected(nf))
        return -ENOTCONN;
    if (len < NET_ETH_HLEN || len > PAGE_SIZE)
        return -EINVAL;
    if (!nf->nr_tx_free || RING_FULL(&nf->tx))
        reap_tx(nf);
    if (!nf->nr_tx_free || RING_FULL(&nf->tx)) {
        nf->st.tx_busy++;
        return -EAGAIN;
    }
    uint16_t id = nf->tx_free[--nf->nr_tx_free];
    memcpy(nf->tx_page[id], frame, len);
    struct netif_tx_request *req = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
    req->gref = nf->tx_ref[id];
    req->offset = 0;
    req->flags = 0;
    req->id = id;
    req->size = (uint16_t)len;
    nf->tx.req_prod_pvt++;
    nf->tx_busy[id] = true;
    nf->st.tx_frames++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
    if (notify) {
        evtchn_notify(nf->port);
        nf->st.doorbells++;
    }
    return 0;
}

int netfront_poll(struct netfront *nf, netfront_rx_fn fn, void *arg)
{
    if (!connected(nf))
        return 0;
    reap_tx(nf);
    RING_IDX prod = nf->rx.sring->rsp_prod;
    xen_rmb();
    if (prod - nf->rx.rsp_cons > RING_SIZE(&nf->rx)) {
        complain(nf, "RX response producer more than a ring ahead", prod);
        return 0;
    }
    int got = 0;
    bool skip = false;             /* inside a multi-slot frame we did not ask for */
    while (nf->rx.rsp_cons != prod) {
        struct netif_rx_response rsp;
        RING_COPY_RESPONSE(&nf->rx, nf->rx.rsp_cons, &rsp);
        nf->rx.rsp_cons++;
        /* Each response is in the slot of its request, so the slot says
         * which buffer it was; the id must agree. */
        uint16_t id = rsp.id;
        if (id >= NETFRONT_IDS || !nf->rx_posted[id]) {
            complain(nf, "RX response with an id not posted", id);
            continue;
        }
        nf->rx_posted[id] = false;
        bool more = rsp.flags & (XEN_NETRXF_more_data | XEN_NETRXF_extra_info);
        if (skip || more) {
            if (!skip)
                complain(nf, "multi-slot RX frame (not negotiated)", rsp.flags);
            skip = more;
        } else if (rsp.status <= 0) {
            nf->st.rx_errors++;
        } else if ((size_t)rsp.offset + (size_t)rsp.status > PAGE_SIZE) {
            complain(nf, "RX response beyond its page", rsp.offset);
        } else {
            nf->st.rx_frames++;
            got++;
            fn(arg, (uint8_t *)nf->rx_page[id] + rsp.offset, (size_t)rsp.status);
            if (!connected(nf))
                return got;        /* torn down meanwhile: nothing to post to */
        }
        post_rx(nf, id);
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
    if (notify) {
        evtchn_notify(nf->port_rx);
        nf->st.doorbells++;
    }
    return got;
}

static bool has_work(struct netfront *nf)
{
    return !connected(nf) || RING_HAS_UNCONSUMED_RESPONSES(&nf->rx) ||
           RING_HAS_UNCONSUMED_RESPONSES(&nf->tx);
}

void netfront_wait(struct netfront *nf, uint64_t deadline)
{
    if (!connected(nf)) {
        wait_event_until(&nf->xf.state_wq, connected(nf) || nf->xf.state == XENFRONT_DEAD,
                         deadline);
        return;
    }
    uint64_t end = monotonic_ns() + nf->poll_ns;
    do {
        if (has_work(nf))
            return;
    } while (monotonic_ns() < end && (!deadline || monotonic_ns() < deadline));
    if (deadline && monotonic_ns() >= deadline)
        return;
    int more_rx, more_tx;
    RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more_rx);
    RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more_tx);
    if (more_rx || more_tx)
        return;
    uint64_t seen = nf->upcalls;
    nf->st.sleeps++;
    wait_event_until(&nf->wq, nf->upcalls != seen || has_work(nf), deadline);
}

void netfront_get_stats(const struct netfront *nf, struct netfront_stats *out)
{
    *out = nf->st;
    out->upcalls = nf->upcalls;
    out->reconnects = nf->xf.reconnects;
}

void netfront_reconnect(struct netfront *nf)
{
    if (nf->xf.state != XENFRONT_CONNECTED)
        return;
    nf->xf.backend_lost = true;
    xenfront_wake(&nf->xf);
}

netif_tx_front_ring_t *netfront_raw_tx(struct netfront *nf)
{
    return &nf->tx;
}

void netfront_raw_push(struct netfront *nf)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
    evtchn_notify(nf->port);
    nf->st.doorbells++;
    (void)notify;
}

void netfront_set_raw_handler(struct netfront *nf,
                              void (*fn)(void *arg, const struct netif_tx_response *rsp),
                              void *arg)
{
    nf->raw_tx_fn = fn;
    nf->raw_arg = arg;
}

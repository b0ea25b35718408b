/* One queue of a vif: the netif front door of the network engine (see
 * net_queue.h; the engine is backends/engine/neteng.c). */
#include "net_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net_tx.h"
#include "neteng.h"
#include "tdm_poll.h"
#include "tdm_uring.h"

/* Our own operations on the engine's io_uring (below TDM_URING_TAG_ENGINE). */
enum { TAG_KICK = 3, TAG_STOP = 4 };

#define NET_READS 32                   /* tap reads in flight */
#define NET_WRITES 64                  /* TX packets in flight */
#define NET_HEAD_COPY 192              /* bytes of a TX packet parsed for offloads */
#define NET_RX_MAX_SLOTS (NETENG_MAX_FRAME / XEN_PAGE_SIZE + 2)

_Static_assert(NET_TX_MAX_DATA <= NETENG_TX_MAX_FRAGS, "a TX packet fits one engine send");

struct txw {                            /* one TX packet being written */
    struct net_tx_pkt pkt;
    struct tdm_grant_map maps[NET_TX_MAX_DATA];
    struct neteng_tx tx;               /* header + the guest's pages, for the engine */
};

struct net_queue {
    struct net_queue_config cfg;
    struct net_stats *st;
    struct tdm_grant_map tx_map, rx_map;
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    int port_tx, port_rx;              /* local ports; equal if not split */
    int kick_tx, kick_rx, stop_fd;
    uint64_t kick_buf[2], stop_buf;
    struct neteng *eng;                /* the queue's io_uring on its tap queue */
    pthread_t thread;

    struct txw w[NET_WRITES];
    unsigned wfree[NET_WRITES], nwfree;

    bool stopping, fatal;
    bool tx_pending_rsp, rx_pending_rsp;
    struct tdm_poll poll;
    unsigned logged;
};

__attribute__((format(printf, 2, 3)))
static void qlog(struct net_queue *q, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tandem-netback: %s queue %u: %s\n", q->cfg.name, q->cfg.index, msg);
}

/* A hostile frontend must not flood the log: 16 lines, then every 1024th. */
static void log_drop(struct net_queue *q, const char *why, const char *detail)
{
    unsigned n = ++q->logged;

    if (n > 16 && n % 1024)
        return;
    qlog(q, "dropped a packet: %s%s%s (drop %u)", why, detail ? ": " : "", detail ? detail : "",
         n);
}

/* Fatal: disable the vif (both rings of every queue stop being served;
 * the reason goes to the stats and, from the xenstore thread, to the
 * device's `error` node). Logged once per vif. */
static void go_fatal(struct net_queue *q, const char *why)
{
    q->fatal = true;
    if (net_stat_fatal(q->st, why))
        qlog(q, "frontend error, vif disabled: %s", why);
}

/* ---- TX: guest -> tap ---- */

static void tx_copy(void *ctx, RING_IDX idx, union netif_tx_slot *out)
{
    netif_tx_back_ring_t *r = ctx;

    /* The one read of the shared slot: everything after uses the copy. */
    memcpy(out, RING_GET_REQUEST(r, idx), sizeof(*out));
}

static void tx_respond_one(struct net_queue *q, uint16_t id, int16_t status)
{
    struct netif_tx_response *rsp = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);

    rsp->id = id;
    rsp->status = status;
    q->tx.rsp_prod_pvt++;
}

/* Every ring slot of the packet, in ring order (extras get RSP_NULL). */
static void tx_respond(struct net_queue *q, const struct net_tx_pkt *p, int16_t status)
{
    tx_respond_one(q, p->slot[0].id, status);
    for (unsigned e = 0; e < p->nextra; e++) {
        struct netif_tx_response *rsp = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);

        rsp->status = XEN_NETIF_RSP_NULL;
        q->tx.rsp_prod_pvt++;
    }
    for (unsigned s = 1; s < p->ndata; s++)
        tx_respond_one(q, p->slot[s].id, status);
    q->tx_pending_rsp = true;
}

/* Copies the first bytes of the packet out of its mapped pages. */
static size_t tx_head(const struct txw *w, uint8_t *head)
{
    size_t got = 0;

    for (unsigned s = 0; s < w->pkt.ndata && got < NET_HEAD_COPY; s++) {
        size_t n = w->tx.iov[s + 1].iov_len;

        if (n > NET_HEAD_COPY - got)
            n = NET_HEAD_COPY - got;
        memcpy(head + got, w->tx.iov[s + 1].iov_base, n);
        got += n;
    }
    return got;
}

/* Maps the pages and builds the writev. 0, or -1 (answered as a drop). */
static int tx_prepare(struct net_queue *q, struct txw *w)
{
    uint32_t refs[NET_TX_MAX_DATA];
    int status[NET_TX_MAX_DATA];
    uint8_t head[NET_HEAD_COPY];
    const char *why = NULL;
    unsigned n = w->pkt.ndata;

    for (unsigned s = 0; s < n; s++)
        refs[s] = w->pkt.slot[s].gref;
    if (tdm_gnttab_map_batch(q->cfg.gnt, q->cfg.domid, n, refs, true, w->maps, status) != 0) {
        log_drop(q, "a data page is not granted", tdm_last_error());
        tdm_gnttab_unmap_batch(q->cfg.gnt, n, w->maps, NULL);
        return -1;
    }
    for (unsigned s = 0; s < n; s++)
        w->tx.iov[s + 1] = (struct iovec){ (uint8_t *)w->maps[s].addr + w->pkt.slot[s].offset,
                                           w->pkt.slot[s].size };
    w->tx.nfrag = n;
    if (net_tx_vnet_hdr(&w->pkt, head, tx_head(w, head), &w->tx.hdr, &why) < 0) {
        log_drop(q, why, NULL);
        tdm_gnttab_unmap_batch(q->cfg.gnt, n, w->maps, NULL);
        return -1;
    }
    return 0;
}

static void tx_done(void *ctx, struct neteng_tx *t, int res);

static void tx_submit(struct net_queue *q, unsigned i)
{
    struct txw *w = &q->w[i];
    int rc;

    w->tx.done = tx_done;
    if ((rc = neteng_send(q->eng, &w->tx)) < 0) {
        qlog(q, "cannot queue a tap write: %s", strerror(-rc));
        tdm_gnttab_unmap_batch(q->cfg.gnt, w->pkt.ndata, w->maps, NULL);
        tx_respond(q, &w->pkt, XEN_NETIF_RSP_ERROR);
        q->wfree[q->nwfree++] = i;
    }
}

static bool tx_take(struct net_queue *q)
{
    bool progress = false;

    while (!q->fatal && !q->stopping && q->nwfree) {
        struct net_tx_src src = {
            .cons = q->tx.req_cons, .prod = __atomic_load_n(&q->tx.sring->req_prod,
                                                           __ATOMIC_ACQUIRE),
            .ring_size = RING_SIZE(&q->tx), .copy = tx_copy, .ctx = &q->tx,
        };
        unsigned i = q->wfree[q->nwfree - 1];
        struct txw *w = &q->w[i];
        const char *why;
        enum net_tx_verdict v = net_tx_walk(&src, &w->pkt, &why);

        if (v == NET_TX_NONE)
            break;
        if (v == NET_TX_FATAL) {
            go_fatal(q, why);
            break;
        }
        progress = true;
        q->tx.req_cons += w->pkt.consumed;
        if (v == NET_TX_DROP || tx_prepare(q, w) < 0) {
            if (v == NET_TX_DROP)
                log_drop(q, why, NULL);
            net_stat_add(&q->st->tx_drops, 1);
            tx_respond(q, &w->pkt, XEN_NETIF_RSP_ERROR);
            continue;
        }
        q->nwfree--;
        tx_submit(q, i);
    }
    return progress;
}

/* The engine wrote (or failed to write) packet w->tx to the tap. */
static void tx_done(void *ctx, struct neteng_tx *t, int res)
{
    struct net_queue *q = ctx;
    struct txw *w = (struct txw *)((char *)t - offsetof(struct txw, tx));
    unsigned i = (unsigned)(w - q->w);
    int16_t status = XEN_NETIF_RSP_OKAY;

    /* Unmap before answering: the guest may end its grants at once. */
    tdm_gnttab_unmap_batch(q->cfg.gnt, w->pkt.ndata, w->maps, NULL);
    if (res < 0) {
        if (res != -ECANCELED)
            log_drop(q, "the tap refused the packet", strerror(-res));
        net_stat_add(&q->st->tx_errors, 1);
        status = XEN_NETIF_RSP_ERROR;
    } else {
        net_stat_add(&q->st->tx_packets, 1);
        net_stat_add(&q->st->tx_bytes, w->pkt.len);
    }
    tx_respond(q, &w->pkt, status);
    q->wfree[q->nwfree++] = i;
}

/* ---- RX: tap -> guest ---- */

/* RX slots a frame needs: one per page of data, one for a GSO extra. */
static unsigned rx_slots_for(const struct virtio_net_hdr *h, unsigned len)
{
    return (len + XEN_PAGE_SIZE - 1) / XEN_PAGE_SIZE +
           (h->gso_type != VIRTIO_NET_HDR_GSO_NONE ? 1 : 0);
}

static uint16_t rx_flags(const struct virtio_net_hdr *h)
{
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return XEN_NETRXF_csum_blank | XEN_NETRXF_data_validated;
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        return XEN_NETRXF_data_validated;
    return 0;
}

/* Writes the frame into the posted pages at req_cons..: the first data
 * response, the GSO extra (if any), the rest; each response in the slot
 * of the request it answers. */
static void rx_put(struct net_queue *q, const struct virtio_net_hdr *h, const uint8_t *data,
                   unsigned len, unsigned nslots)
{
    struct netif_rx_request req[NET_RX_MAX_SLOTS];
    struct tdm_grant_map maps[NET_RX_MAX_SLOTS];
    uint32_t refs[NET_RX_MAX_SLOTS] = { 0 };
    int status[NET_RX_MAX_SLOTS];
    bool gso = h->gso_type != VIRTIO_NET_HDR_GSO_NONE;
    unsigned ndata = nslots - (gso ? 1 : 0), k = 0, refused;
    RING_IDX idx = q->rx.req_cons;

    for (unsigned s = 0; s < nslots; s++)
        memcpy(&req[s], RING_GET_REQUEST(&q->rx, idx + s), sizeof(req[s]));
    /* data slot d is ring slot d, except that the extra sits at 1 */
    for (unsigned d = 0; d < ndata; d++)
        refs[d] = req[d == 0 || !gso ? d : d + 1].gref;
    refused = tdm_gnttab_map_batch(q->cfg.gnt, q->cfg.domid, ndata, refs, false, maps, status);
    if (refused)
        log_drop(q, "an RX page is not granted writable", tdm_last_error());
    for (unsigned d = 0; d < ndata; d++) {
        unsigned slot = d == 0 || !gso ? d : d + 1;
        unsigned chunk = len - k < XEN_PAGE_SIZE ? len - k : XEN_PAGE_SIZE;
        struct netif_rx_response *rsp = RING_GET_RESPONSE(&q->rx, idx + slot);

        if (maps[d].addr)
            memcpy(maps[d].addr, data + k, chunk);
        k += chunk;
        rsp->id = req[slot].id;
        rsp->offset = 0;
        rsp->flags = (uint16_t)((d == 0 ? rx_flags(h) : 0) |
                                (d + 1 < ndata ? XEN_NETRXF_more_data : 0) |
                                (d == 0 && gso ? XEN_NETRXF_extra_info : 0));
        rsp->status = refused ? XEN_NETIF_RSP_ERROR : (int16_t)chunk;
    }
    if (gso) {
        struct netif_extra_info *e = (struct netif_extra_info *)RING_GET_RESPONSE(&q->rx, idx + 1);

        memset(e, 0, sizeof(*e));
        e->type = XEN_NETIF_EXTRA_TYPE_GSO;
        e->u.gso.size = h->gso_size;
        e->u.gso.type = (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6
                            ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
    }
    tdm_gnttab_unmap_batch(q->cfg.gnt, ndata, maps, NULL);
    q->rx.req_cons += nslots;
    q->rx.rsp_prod_pvt += nslots;       /* == req_cons: the slot of each request */
    q->rx_pending_rsp = true;
    if (refused) {
        net_stat_add(&q->st->rx_errors, 1);
    } else {
        net_stat_add(&q->st->rx_packets, 1);
        net_stat_add(&q->st->rx_bytes, len);
    }
}

/* Frames the tap gave us, into the guest's posted pages, oldest first.
 * Without room the frame waits (its read is not re-armed, so the tap
 * queues and, when full, drops in the kernel) and req_event asks the
 * frontend to notify us when it posted enough. */
static bool rx_deliver(struct net_queue *q)
{
    bool progress = false;

    struct neteng_frame fr;

    while (!q->fatal && neteng_rx_peek(q->eng, &fr)) {
        const struct virtio_net_hdr h = fr.hdr;
        unsigned len = fr.len, need;
        RING_IDX posted;

        need = rx_slots_for(&h, len);
        if ((need > 1 && !q->cfg.rx_sg) || need > NET_RX_MAX_SLOTS ||
            (h.gso_type != VIRTIO_NET_HDR_GSO_NONE && !q->cfg.rx_gso) || len == 0) {
            net_stat_add(&q->st->rx_drops, 1);  /* more than the frontend takes */
        } else {
            posted = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE) - q->rx.req_cons;
            if (posted > RING_SIZE(&q->rx)) {
                go_fatal(q, "RX producer index more than a ring ahead");
                break;
            }
            if (posted < need) {
                q->rx.sring->req_event = q->rx.req_cons + need;
                xen_mb();
                posted = q->rx.sring->req_prod - q->rx.req_cons;
                if (posted < need)
                    break;
            }
            rx_put(q, &h, fr.data, len, need);
        }
        neteng_rx_release(q->eng);        /* re-arms its read */
        progress = true;
    }
    return progress;
}

/* ---- notifications ---- */

static void push(struct net_queue *q)
{
    int notify_tx = 0, notify_rx = 0;

    if (q->tx_pending_rsp)
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify_tx);
    if (q->rx_pending_rsp)
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify_rx);
    q->tx_pending_rsp = q->rx_pending_rsp = false;
    if (q->port_tx == q->port_rx)
        notify_tx |= notify_rx, notify_rx = 0;
    if (notify_tx && tdm_evtchn_notify(q->cfg.evh, q->port_tx) == 0)
        net_stat_add(&q->st->notifies, 1);
    if (notify_rx && tdm_evtchn_notify(q->cfg.evh, q->port_rx) == 0)
        net_stat_add(&q->st->notifies, 1);
}

static void arm_fd_read(struct net_queue *q, int fd, uint64_t *buf, unsigned tag, unsigned part)
{
    struct io_uring_sqe *sqe = tdm_uring_sqe(neteng_uring(q->eng));

    if (!sqe) {
        qlog(q, "cannot arm a doorbell read: %s", strerror(errno));
        return;
    }
    io_uring_prep_read(sqe, fd, buf, sizeof(*buf), 0);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(tag, part, 0));
}

/* Completions of our own operations on the engine's ring. */
static void other_done(void *ctx, uint64_t ud, int res)
{
    struct net_queue *q = ctx;

    switch (tdm_uring_tag_of(ud)) {
    case TAG_KICK:
        net_stat_add(&q->st->kicks, 1);
        if (res >= 0 || res == -EINTR || res == -EAGAIN) {
            unsigned part = tdm_uring_part_of(ud);

            arm_fd_read(q, part ? q->kick_rx : q->kick_tx, &q->kick_buf[part], TAG_KICK, part);
        } else {
            qlog(q, "doorbell read failed: %s; no more kicks", strerror(-res));
        }
        break;
    case TAG_STOP:
        q->stopping = true;
        break;
    }
}

/* ---- the loop ---- */

static bool rx_room(const struct net_queue *q)
{
    return neteng_rx_ready(q->eng) &&
           __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE) != q->rx.req_cons;
}

static bool has_work(void *ctx)
{
    struct net_queue *q = ctx;

    return RING_HAS_UNCONSUMED_REQUESTS(&q->tx) || rx_room(q) || neteng_cq_ready(q->eng);
}

static bool done(const struct net_queue *q)
{
    return q->stopping && q->nwfree == NET_WRITES;
}

static void *queue_main(void *arg)
{
    struct net_queue *q = arg;

    arm_fd_read(q, q->kick_tx, &q->kick_buf[0], TAG_KICK, 0);
    if (q->port_rx != q->port_tx)
        arm_fd_read(q, q->kick_rx, &q->kick_buf[1], TAG_KICK, 1);
    arm_fd_read(q, q->stop_fd, &q->stop_buf, TAG_STOP, 0);
    neteng_start_rx(q->eng);
    while (!done(q)) {
        bool progress;
        int more = 0;

        /* A fatal error on any queue disables the whole vif. */
        if (!q->fatal && __atomic_load_n(&q->st->fatal, __ATOMIC_ACQUIRE))
            q->fatal = true;
        progress = tx_take(q);

        progress |= rx_deliver(q);
        neteng_flush(q->eng);
        progress |= neteng_reap(q->eng);
        push(q);
        if (progress || done(q))
            continue;
        if (!q->stopping && !q->fatal && tdm_poll_spin(&q->poll, NULL, has_work, q))
            continue;
        if (!q->stopping && !q->fatal && q->nwfree) {
            RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
            if (more)
                continue;
        }
        neteng_wait(q->eng);
    }
    push(q);
    return NULL;
}

/* ---- a snapshot for the stats file ---- */

#define LOADU(x) ((unsigned)__atomic_load_n(&(x), __ATOMIC_RELAXED))

void net_queue_describe(const struct net_queue *q, char *buf, size_t len)
{
    const struct netif_tx_sring *ts = q->tx.sring;
    const struct netif_rx_sring *rs = q->rx.sring;

    snprintf(buf, len,
             "queue %u tx req_prod %u req_cons %u rsp_prod %u req_event %u rsp_event %u "
             "writes_free %u rx req_prod %u req_cons %u rsp_prod %u req_event %u rsp_event %u",
             q->cfg.index, LOADU(ts->req_prod), LOADU(q->tx.req_cons), LOADU(ts->rsp_prod),
             LOADU(ts->req_event), LOADU(ts->rsp_event), LOADU(q->nwfree), LOADU(rs->req_prod),
             LOADU(q->rx.req_cons), LOADU(rs->rsp_prod), LOADU(rs->req_event),
             LOADU(rs->rsp_event));
}

/* ---- setup and teardown ---- */

static void free_queue(struct net_queue *q)
{
    neteng_destroy(q->eng);             /* cancels the reads */
    if (q->port_rx > 0 && q->port_rx != q->port_tx)
        tdm_evtchn_unbind(q->cfg.evh, q->port_rx);
    if (q->port_tx > 0)
        tdm_evtchn_unbind(q->cfg.evh, q->port_tx);
    if (q->tx_map.addr)
        tdm_gnttab_unmap(q->cfg.gnt, &q->tx_map);
    if (q->rx_map.addr)
        tdm_gnttab_unmap(q->cfg.gnt, &q->rx_map);
    if (q->stop_fd >= 0)
        close(q->stop_fd);
    free(q);
}

static int bind_port(struct net_queue *q, uint32_t port, int *local, int *kick, char *err,
                     size_t errlen)
{
    *local = tdm_evtchn_bind_interdomain(q->cfg.evh, q->cfg.domid, port);
    /* A dead control connection (the domain's VMM was replaced) is noticed
     * on the request that fails; one retry reaches the new VMM. */
    if (*local < 0)
        *local = tdm_evtchn_bind_interdomain(q->cfg.evh, q->cfg.domid, port);
    if (*local < 0) {
        snprintf(err, errlen, "binding event channel %u: %s", port, tdm_last_error());
        return -1;
    }
    *kick = tdm_evtchn_port_fd(q->cfg.evh, *local);
    return 0;
}

static int map_ring(struct net_queue *q, uint32_t ref, struct tdm_grant_map *m, const char *which,
                    char *err, size_t errlen)
{
    if (tdm_gnttab_map(q->cfg.gnt, q->cfg.domid, ref, false, m, NULL) < 0) {
        snprintf(err, errlen, "mapping the %s ring (ref %u): %s", which, ref, tdm_last_error());
        return -1;
    }
    return 0;
}

static int setup(struct net_queue *q, char *err, size_t errlen)
{
    const struct net_queue_config *c = &q->cfg;

    if (map_ring(q, c->tx_ref, &q->tx_map, "TX", err, errlen) < 0 ||
        map_ring(q, c->rx_ref, &q->rx_map, "RX", err, errlen) < 0)
        return -1;
    /* Resume where the indexes in the pages are (a restarted backend). */
    BACK_RING_ATTACH(&q->tx, (netif_tx_sring_t *)q->tx_map.addr,
                     ((netif_tx_sring_t *)q->tx_map.addr)->rsp_prod, XEN_PAGE_SIZE);
    BACK_RING_ATTACH(&q->rx, (netif_rx_sring_t *)q->rx_map.addr,
                     ((netif_rx_sring_t *)q->rx_map.addr)->rsp_prod, XEN_PAGE_SIZE);
    if (bind_port(q, c->evtchn_tx, &q->port_tx, &q->kick_tx, err, errlen) < 0)
        return -1;
    if (c->evtchn_rx == c->evtchn_tx) {
        q->port_rx = q->port_tx;
        q->kick_rx = q->kick_tx;
    } else if (bind_port(q, c->evtchn_rx, &q->port_rx, &q->kick_rx, err, errlen) < 0) {
        return -1;
    }
    q->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (q->kick_tx < 0 || q->kick_rx < 0 || q->stop_fd < 0) {
        snprintf(err, errlen, "doorbell fds: %s", strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < NET_WRITES; i++)
        q->wfree[q->nwfree++] = NET_WRITES - 1 - i;
    return 0;
}

struct net_queue *net_queue_start(const struct net_queue_config *cfg, char *err, size_t errlen)
{
    struct net_queue *q = calloc(1, sizeof(*q));
    char name[160];

    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->st = cfg->stats;
    q->stop_fd = -1;
    tdm_poll_init(&q->poll, cfg->poll_us);
    if (setup(q, err, errlen) < 0) {
        free_queue(q);
        return NULL;
    }
    snprintf(name, sizeof(name), "tandem-netback: %s queue %u", cfg->name, cfg->index);
    q->eng = neteng_create(&(struct neteng_config){
                               .tap_fd = cfg->tap_fd, .tx_depth = NET_WRITES, .rx_bufs = NET_READS,
                               .extra_sqes = NET_WRITES + 8, .ctx = q, .other = other_done,
                               .name = name,
                           }, err, errlen);
    if (!q->eng) {
        free_queue(q);
        return NULL;
    }
    if (pthread_create(&q->thread, NULL, queue_main, q) != 0) {
        snprintf(err, errlen, "pthread_create failed");
        free_queue(q);
        return NULL;
    }
    return q;
}

void net_queue_stop(struct net_queue *q)
{
    const uint64_t one = 1;

    if (!q)
        return;
    if (write(q->stop_fd, &one, sizeof(one)) != sizeof(one))
        qlog(q, "stop: %s", strerror(errno));
    pthread_join(q->thread, NULL);
    free_queue(q);
}

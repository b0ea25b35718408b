/* The network engine (see neteng.h and docs/netback.md, "The network engine"). */
#include "neteng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdm_uring.h"

enum { TAG_WRITE = TDM_URING_TAG_ENGINE, TAG_READ = TDM_URING_TAG_ENGINE + 1 };

#define NETENG_TX_BATCH 16u            /* writes per submission at most */

struct rxb {                           /* one tap read buffer */
    uint8_t *data;                     /* NETENG_VNET_HDR + NETENG_MAX_FRAME */
    unsigned len;                      /* bytes read (with the header) */
};

struct neteng {
    struct neteng_config cfg;
    struct io_uring uring;
    struct tdm_slots tx;
    unsigned tx_unsubmitted;
    struct rxb *b;
    unsigned *ready, nready, ready_head;   /* read, waiting for the front door (FIFO) */
    struct neteng_stats st;
};

struct neteng *neteng_create(const struct neteng_config *cfg, char *err, size_t errlen)
{
    struct neteng *e = calloc(1, sizeof(*e));
    int rc;

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    if (!e->cfg.tx_batch)
        e->cfg.tx_batch = NETENG_TX_BATCH;
    if (!e->cfg.name)
        e->cfg.name = "network engine";
    if (cfg->tap_fd < 0 || !cfg->tx_depth || tdm_slots_init(&e->tx, cfg->tx_depth) < 0)
        goto nomem;
    if (cfg->rx_bufs) {
        e->b = calloc(cfg->rx_bufs, sizeof(*e->b));
        e->ready = calloc(cfg->rx_bufs, sizeof(*e->ready));
        if (!e->b || !e->ready)
            goto nomem;
        for (unsigned i = 0; i < cfg->rx_bufs; i++)
            if (!(e->b[i].data = malloc(NETENG_VNET_HDR + NETENG_MAX_FRAME)))
                goto nomem;
    }
    rc = tdm_uring_init(&e->uring, cfg->tx_depth + cfg->rx_bufs + cfg->extra_sqes);
    if (rc < 0) {
        snprintf(err, errlen, "io_uring setup: %s", strerror(-rc));
        goto fail;
    }
    return e;
nomem:
    snprintf(err, errlen, cfg->tap_fd < 0 || !cfg->tx_depth ? "network engine: no tap or depth 0"
                                                           : "out of memory for the tap buffers");
fail:
    tdm_slots_fini(&e->tx);
    for (unsigned i = 0; e->b && i < cfg->rx_bufs; i++)
        free(e->b[i].data);
    free(e->b);
    free(e->ready);
    free(e);
    return NULL;
}

void neteng_destroy(struct neteng *e)
{
    if (!e)
        return;
    io_uring_queue_exit(&e->uring);    /* cancels the reads */
    tdm_slots_fini(&e->tx);
    for (unsigned i = 0; e->b && i < e->cfg.rx_bufs; i++)
        free(e->b[i].data);
    free(e->b);
    free(e->ready);
    free(e);
}

/* ---- send ---- */

int neteng_send(struct neteng *e, struct neteng_tx *t)
{
    struct io_uring_sqe *sqe;
    int slot;

    if (!t->nfrag || t->nfrag > NETENG_TX_MAX_FRAGS)
        return -EINVAL;
    if ((slot = tdm_slots_get(&e->tx, t)) < 0)
        return -EBUSY;
    if (!(sqe = tdm_uring_sqe(&e->uring))) {
        tdm_slots_release(&e->tx, (unsigned)slot);
        return -EAGAIN;
    }
    t->slot_ = (unsigned)slot;
    t->iov[0] = (struct iovec){ &t->hdr, NETENG_VNET_HDR };
    io_uring_prep_writev(sqe, e->cfg.tap_fd, t->iov, t->nfrag + 1, 0);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(TAG_WRITE, 0, (unsigned)slot));
    if (++e->tx_unsubmitted >= e->cfg.tx_batch)
        neteng_flush(e);
    return 0;
}

static void tx_done(struct neteng *e, uint64_t slot, int res)
{
    struct neteng_tx *t = tdm_slots_at(&e->tx, slot);

    if (!t)
        return;
    tdm_slots_release(&e->tx, t->slot_);
    if (res < 0)
        e->st.tx_errors++;
    else
        e->st.tx_sent++;
    t->done(e->cfg.ctx, t, res < 0 ? res : 0);
}

/* ---- receive ---- */

static void arm_read(struct neteng *e, unsigned i)
{
    struct io_uring_sqe *sqe = tdm_uring_sqe(&e->uring);

    if (!sqe) {
        fprintf(stderr, "%s: cannot queue a tap read: %s\n", e->cfg.name, strerror(errno));
        return;
    }
    e->b[i].len = 0;
    io_uring_prep_read(sqe, e->cfg.tap_fd, e->b[i].data, NETENG_VNET_HDR + NETENG_MAX_FRAME, 0);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(TAG_READ, 0, i));
}

void neteng_start_rx(struct neteng *e)
{
    for (unsigned i = 0; i < e->cfg.rx_bufs; i++)
        arm_read(e, i);
}

static void rx_done(struct neteng *e, uint64_t i, int res)
{
    if (i >= e->cfg.rx_bufs)
        return;
    if (res <= (int)NETENG_VNET_HDR) {
        if (res == -EAGAIN || res == -EINTR || res >= 0) {
            arm_read(e, (unsigned)i);         /* nothing, or no frame after the header */
        } else if (res != -ECANCELED) {
            e->st.rx_read_errors++;
            fprintf(stderr, "%s: tap read failed: %s\n", e->cfg.name, strerror(-res));
        }
        return;
    }
    e->b[i].len = (unsigned)res;
    e->ready[(e->ready_head + e->nready) % e->cfg.rx_bufs] = (unsigned)i;
    e->nready++;
    e->st.rx_frames++;
    e->st.rx_bytes += (unsigned)res - NETENG_VNET_HDR;
}

bool neteng_rx_peek(const struct neteng *e, struct neteng_frame *f)
{
    const struct rxb *b;

    if (!e->nready)
        return false;
    b = &e->b[e->ready[e->ready_head]];
    memcpy(&f->hdr, b->data, sizeof(f->hdr));
    f->data = b->data + NETENG_VNET_HDR;
    f->len = b->len - NETENG_VNET_HDR;
    return true;
}

void neteng_rx_release(struct neteng *e)
{
    unsigned i;

    if (!e->nready)
        return;
    i = e->ready[e->ready_head];
    e->ready_head = (e->ready_head + 1) % e->cfg.rx_bufs;
    e->nready--;
    arm_read(e, i);
}

unsigned neteng_rx_ready(const struct neteng *e) { return e->nready; }

/* ---- driving ---- */

void neteng_flush(struct neteng *e)
{
    if (io_uring_sq_ready(&e->uring))
        io_uring_submit(&e->uring);
    e->tx_unsubmitted = 0;
}

static void on_cqe(void *ctx, uint64_t ud, int res)
{
    struct neteng *e = ctx;

    switch (tdm_uring_tag_of(ud)) {
    case TAG_WRITE:
        tx_done(e, tdm_uring_index_of(ud), res);
        break;
    case TAG_READ:
        rx_done(e, tdm_uring_index_of(ud), res);
        break;
    default:
        if (e->cfg.other)
            e->cfg.other(e->cfg.ctx, ud, res);
    }
}

bool neteng_reap(struct neteng *e)
{
    return tdm_uring_reap(&e->uring, on_cqe, e) > 0;
}

unsigned neteng_cq_ready(struct neteng *e)
{
    return tdm_uring_cq_ready(&e->uring);
}

void neteng_wait(struct neteng *e)
{
    io_uring_submit_and_wait(&e->uring, 1);
    e->tx_unsubmitted = 0;
}

unsigned neteng_tx_inflight(const struct neteng *e) { return tdm_slots_used(&e->tx); }
int neteng_fd(const struct neteng *e) { return e->uring.ring_fd; }
struct io_uring *neteng_uring(struct neteng *e) { return &e->uring; }
void neteng_get_stats(const struct neteng *e, struct neteng_stats *out) { *out = e->st; }

/* A virtual block device: blkback's driver for the xenbus backend
 * framework (see blk_device.h and docs/blkback.md). */
#include "blk_device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_frontend.h"
#include "blk_queue.h"
#include "blk_request.h"
#include "blkeng_backing.h"

struct blk_device {
    struct tdm_xbdev *xb;
    struct blkeng_backing back;
    struct blk_limits lim;
    struct blk_queue *q[BLK_MAX_QUEUES];
    unsigned nq;
};

static const struct blk_options *options(const struct tdm_xbdev *xb)
{
    return xb->bus->priv;
}

/* Everything a frontend reads, in one transaction. */
static bool put_keys(struct tdm_xbdev *xb, xs_transaction_t t, void *ctx)
{
    const struct blk_device *d = ctx;
    const struct blk_options *o = options(xb);
    struct xs_handle *xs = xb->bus->xs;
    const char *dir = xb->dir;

    return tdm_xs_put_uint(xs, t, dir, "sectors", d->lim.sectors) &&
           tdm_xs_put_uint(xs, t, dir, "sector-size", BLKIF_SECTOR_SIZE) &&
           tdm_xs_put_uint(xs, t, dir, "physical-sector-size", d->back.physical_sector_size) &&
           tdm_xs_put_uint(xs, t, dir, "info", d->lim.readonly ? VDISK_READONLY : 0) &&
           tdm_xs_put_uint(xs, t, dir, "feature-flush-cache", 1) &&
           tdm_xs_put_uint(xs, t, dir, "feature-barrier", 1) &&
           tdm_xs_put_uint(xs, t, dir, "feature-discard", d->lim.discard) &&
           tdm_xs_put_uint(xs, t, dir, "discard-granularity", d->back.discard_granularity) &&
           tdm_xs_put_uint(xs, t, dir, "discard-alignment", 0) &&
           tdm_xs_put_uint(xs, t, dir, "discard-secure", 0) &&
           tdm_xs_put_uint(xs, t, dir, "feature-persistent", 1) &&
           tdm_xs_put_uint(xs, t, dir, "feature-max-indirect-segments",
                           d->lim.max_indirect_segs) &&
           tdm_xs_put_uint(xs, t, dir, "multi-queue-max-queues", o->max_queues) &&
           tdm_xs_put_uint(xs, t, dir, "max-ring-page-order", o->max_ring_order) &&
           tdm_xs_put_uint(xs, t, dir, "direct-io", d->back.direct);
}

static int publish(struct blk_device *d)
{
    return tdm_xbdev_transact(d->xb, put_keys, d);
}

/* Opens the store named by `params` with `mode` ("r" or "w"). */
static int open_backing(struct blk_device *d)
{
    char *params = tdm_xbdev_read(d->xb, "params"), *mode = tdm_xbdev_read(d->xb, "mode");
    char err[256] = "";
    bool ro;
    int rc = -1;

    if (!params)
        snprintf(err, sizeof(err), "no params (backing file) given");
    else if (mode && strcmp(mode, "r") != 0 && strcmp(mode, "w") != 0)
        snprintf(err, sizeof(err), "mode \"%.16s\" is neither r nor w", mode);
    else {
        ro = mode && strcmp(mode, "r") == 0;
        rc = blkeng_backing_open(params, ro, options(d->xb)->allow_direct, &d->back, err,
                                 sizeof(err));
    }
    if (rc < 0)
        tdm_xbdev_error(d->xb, err);
    free(params);
    free(mode);
    return rc;
}

static void set_limits(struct blk_device *d)
{
    d->lim = (struct blk_limits){
        .sectors = d->back.sectors,
        .readonly = d->back.readonly,
        .discard = d->back.can_discard,
        .flush = d->back.can_flush,
        .barrier = true,
        .max_indirect_segs = BLK_MAX_INDIRECT_SEGS,
    };
}

/* ---- the driver's callbacks ---- */

static void blk_disconnect(struct tdm_xbdev *xb)
{
    struct blk_device *d = xb->priv;

    if (!d)
        return;
    tdm_xbdev_mark_connected(xb, false);
    for (unsigned i = 0; i < d->nq; i++) {
        struct blk_queue_stats st;

        blk_queue_stop(d->q[i], &st);
        fprintf(stderr, "tandem-blkback: %s queue %u: %llu requests (%llu refused), "
                "%llu kicks, %llu notifications, %llu I/Os on fixed buffers, %llu vectored, "
                "%llu submissions cut between adjacent requests, %llu completion batches\n",
                xb->name, i, (unsigned long long)st.requests, (unsigned long long)st.refused,
                (unsigned long long)st.kicks, (unsigned long long)st.notifies,
                (unsigned long long)st.fixed, (unsigned long long)st.vectored,
                (unsigned long long)st.split_submits, (unsigned long long)st.batches);
        d->q[i] = NULL;
    }
    d->nq = 0;
}

static int blk_connect(struct tdm_xbdev *xb)
{
    struct blk_device *d = xb->priv;
    const struct blk_options *o = options(xb);
    struct blk_fe_cfg fe;
    char err[320];

    if (blk_frontend_read(xb->bus->xs, xb->fe_path, o->max_queues, o->max_ring_order, &fe, err,
                          sizeof(err)) < 0) {
        tdm_xbdev_error(xb, err);
        return -1;
    }
    tdm_xbdev_connecting(xb);
    for (unsigned i = 0; i < fe.nr_queues; i++) {
        struct blk_queue_config c = {
            .domid = xb->fe_id, .index = i, .name = xb->name, .backing = &d->back, .lim = d->lim,
            .gnt = xb->bus->gnt, .evh = xb->bus->evh, .ring_order = fe.ring_order,
            .evtchn = fe.q[i].evtchn, .poll_us = o->poll_us,
            .busy_poll_us = o->busy_poll_us, .persistent = fe.persistent,
        };

        memcpy(c.ring_refs, fe.q[i].ring_refs, sizeof(c.ring_refs));
        d->q[i] = blk_queue_start(&c, err, sizeof(err));
        if (!d->q[i]) {
            char msg[400];

            snprintf(msg, sizeof(msg), "queue %u: %s", i, err);
            tdm_xbdev_error(xb, msg);
            blk_disconnect(xb);
            return -1;
        }
        d->nq = i + 1;
    }
    tdm_xbdev_mark_connected(xb, true);
    fprintf(stderr, "tandem-blkback: %s: connected, %u queue(s), ring order %u, %s I/O%s\n",
            xb->name, fe.nr_queues, fe.ring_order, d->back.direct ? "direct" : "buffered",
            fe.persistent ? ", persistent grants" : "");
    return 0;
}

/* The backing store and the published keys. */
static int blk_probe(struct tdm_xbdev *xb)
{
    struct blk_device *d = calloc(1, sizeof(*d));

    if (!d) {
        tdm_xbdev_error(xb, "out of memory");
        return -1;
    }
    d->xb = xb;
    d->back.fd = -1;
    xb->priv = d;
    if (open_backing(d) < 0)
        return -1;
    set_limits(d);
    if (publish(d) < 0) {
        tdm_xbdev_error(xb, "cannot publish the device's keys");
        return -1;
    }
    return 0;
}

static void blk_remove(struct tdm_xbdev *xb)
{
    struct blk_device *d = xb->priv;

    if (!d)
        return;
    blkeng_backing_close(&d->back);
    free(d);
    xb->priv = NULL;
}

const struct tdm_xbdrv blk_driver = {
    .type = "vbd",
    .daemon = "tandem-blkback",
    .probe = blk_probe,
    .otherend_changed = tdm_xbdev_otherend_changed,
    .connect = blk_connect,
    .disconnect = blk_disconnect,
    .remove = blk_remove,
};

/* A virtual block device and its XenbusState handshake (see blk_device.h
 * and docs/blkback.md for the rules). The state machine is level
 * triggered: every event re-reads the frontend's state and acts on it,
 * so coalesced or repeated watch events are harmless. */
#include "blk_device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_backing.h"
#include "blk_frontend.h"
#include "blk_queue.h"
#include "blk_request.h"

struct blk_device {
    struct blk_ctx *ctx;
    char dir[96], token[112], name[48], fe_state[192], online[128];
    char *fe_path;
    unsigned fe_id;
    struct blk_backing back;
    bool usable;                   /* backing open, features published */
    struct blk_limits lim;
    int state;                     /* what we last wrote; UNKNOWN = fresh */
    struct blk_queue *q[BLK_MAX_QUEUES];
    unsigned nq;
    bool counted;                  /* in connected_devices[] */
};

const char *blk_device_token(const struct blk_device *d) { return d->token; }
unsigned blk_device_domid(const struct blk_device *d) { return d->fe_id; }

static void dev_error(struct blk_device *d, const char *msg)
{
    char path[128];

    fprintf(stderr, "tandem-blkback: %s: %s\n", d->name, msg);
    snprintf(path, sizeof(path), "%s/error", d->dir);
    (void)xs_write(d->ctx->xs, XBT_NULL, path, msg, (unsigned)strlen(msg));
}

/* 1: state written, 0: the device directory is gone (nothing written),
 * -1: error. One transaction, so a watch event that arrives after the
 * toolstack removed the device never re-creates its directory (with
 * permissions the next frontend of that path could not read). */
static int switch_if_present(struct blk_device *d, int state)
{
    struct xs_handle *xs = d->ctx->xs;
    char path[128];
    unsigned len;

    snprintf(path, sizeof(path), "%s/frontend", d->dir);
    for (int attempt = 0; attempt < 16; attempt++) {
        xs_transaction_t t = xs_transaction_start(xs);
        char *v;
        int rc = 1;

        if (t == XBT_NULL)
            return -1;
        v = xs_read(xs, t, path, &len);
        if (!v)
            rc = 0;
        else if (tdm_xenbus_switch_state(xs, t, d->dir, state) < 0)
            rc = -1;
        free(v);
        if (rc < 0) {
            xs_transaction_end(xs, t, true);
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return rc;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

static void set_state(struct blk_device *d, int state)
{
    int rc = switch_if_present(d, state);

    if (rc < 0) {
        fprintf(stderr, "tandem-blkback: %s: writing state %s: %s\n", d->name,
                tdm_xenbus_state_name(state), tdm_last_error());
        return;
    }
    d->state = state;
}

/* <dir>/<key> as a string (malloc'd), NULL if absent. */
static char *read_key(struct blk_device *d, const char *key)
{
    char path[128];
    unsigned len;

    snprintf(path, sizeof(path), "%s/%s", d->dir, key);
    return xs_read(d->ctx->xs, XBT_NULL, path, &len);
}

static bool tx_put(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key,
                   const char *fmt, unsigned long long v)
{
    char path[128], val[32];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(val, sizeof(val), fmt, v);
    return xs_write(xs, t, path, val, (unsigned)strlen(val));
}

/* Everything a frontend reads, in one transaction (retried on EAGAIN). */
static int publish(struct blk_device *d)
{
    const struct blk_options *o = &d->ctx->opt;
    struct xs_handle *xs = d->ctx->xs;

    for (int attempt = 0; attempt < 16; attempt++) {
        xs_transaction_t t = xs_transaction_start(xs);
        bool ok = t != XBT_NULL;

        ok = ok && tx_put(xs, t, d->dir, "sectors", "%llu", d->lim.sectors);
        ok = ok && tx_put(xs, t, d->dir, "sector-size", "%llu", BLKIF_SECTOR_SIZE);
        ok = ok && tx_put(xs, t, d->dir, "physical-sector-size", "%llu",
                          d->back.physical_sector_size);
        ok = ok && tx_put(xs, t, d->dir, "info", "%llu", d->lim.readonly ? VDISK_READONLY : 0);
        ok = ok && tx_put(xs, t, d->dir, "feature-flush-cache", "%llu", 1);
        ok = ok && tx_put(xs, t, d->dir, "feature-barrier", "%llu", 1);
        ok = ok && tx_put(xs, t, d->dir, "feature-discard", "%llu", d->lim.discard);
        ok = ok && tx_put(xs, t, d->dir, "discard-granularity", "%llu",
                          d->back.discard_granularity);
        ok = ok && tx_put(xs, t, d->dir, "discard-alignment", "%llu", 0);
        ok = ok && tx_put(xs, t, d->dir, "discard-secure", "%llu", 0);
        ok = ok && tx_put(xs, t, d->dir, "feature-persistent", "%llu", 1);
        ok = ok && tx_put(xs, t, d->dir, "feature-max-indirect-segments", "%llu",
                          d->lim.max_indirect_segs);
        ok = ok && tx_put(xs, t, d->dir, "multi-queue-max-queues", "%llu", o->max_queues);
        ok = ok && tx_put(xs, t, d->dir, "max-ring-page-order", "%llu", o->max_ring_order);
        ok = ok && tx_put(xs, t, d->dir, "direct-io", "%llu", d->back.direct);
        if (t == XBT_NULL)
            return -1;
        if (!ok) {
            xs_transaction_end(xs, t, true);
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

/* Opens the store named by `params` with `mode` ("r" or "w"). */
static int open_backing(struct blk_device *d)
{
    char *params = read_key(d, "params"), *mode = read_key(d, "mode");
    char err[256] = "";
    bool ro;
    int rc = -1;

    if (!params)
        snprintf(err, sizeof(err), "no params (backing file) given");
    else if (mode && strcmp(mode, "r") != 0 && strcmp(mode, "w") != 0)
        snprintf(err, sizeof(err), "mode \"%.16s\" is neither r nor w", mode);
    else {
        ro = mode && strcmp(mode, "r") == 0;
        rc = blk_backing_open(params, ro, d->ctx->opt.allow_direct, &d->back, err, sizeof(err));
    }
    if (rc < 0)
        dev_error(d, err);
    free(params);
    free(mode);
    return rc;
}

static void set_limits(struct blk_device *d)
{
    d->lim = (struct blk_limits){
        .sectors = d->back.sectors,
        .readonly = d->back.readonly,
        .discard = !d->back.readonly,
        .flush = true,
        .barrier = true,
        .max_indirect_segs = BLK_MAX_INDIRECT_SEGS,
    };
}

/* ---- connect / disconnect ---- */

/* Connected devices per domain. When a domain's first device connects,
 * its memory mapping in the grant library is dropped first: a domain
 * that was destroyed and started again under the same domid has a new
 * VMM and new memory, and a mapping from the earlier instance would be
 * stale. */
static uint16_t connected_devices[DOMID_FIRST_RESERVED];

static void disconnect(struct blk_device *d)
{
    if (d->counted)
        connected_devices[d->fe_id]--;
    d->counted = false;
    for (unsigned i = 0; i < d->nq; i++) {
        struct blk_queue_stats st;

        blk_queue_stop(d->q[i], &st);
        fprintf(stderr, "tandem-blkback: %s queue %u: %llu requests (%llu refused), "
                "%llu kicks, %llu notifications, %llu I/Os on fixed buffers, %llu vectored, "
                "%llu submissions cut between adjacent requests, %llu completion batches\n",
                d->name, i, (unsigned long long)st.requests, (unsigned long long)st.refused,
                (unsigned long long)st.kicks, (unsigned long long)st.notifies,
                (unsigned long long)st.fixed, (unsigned long long)st.vectored,
                (unsigned long long)st.split_submits, (unsigned long long)st.batches);
        d->q[i] = NULL;
    }
    d->nq = 0;
}

static int connect(struct blk_device *d)
{
    const struct blk_options *o = &d->ctx->opt;
    struct blk_fe_cfg fe;
    char err[320];

    if (blk_frontend_read(d->ctx->xs, d->fe_path, o->max_queues, o->max_ring_order, &fe, err,
                          sizeof(err)) < 0) {
        dev_error(d, err);
        return -1;
    }
    if (d->fe_id < DOMID_FIRST_RESERVED && connected_devices[d->fe_id] == 0)
        tdm_gnttab_detach(d->ctx->gnt, d->fe_id);
    for (unsigned i = 0; i < fe.nr_queues; i++) {
        struct blk_queue_config c = {
            .domid = d->fe_id, .index = i, .name = d->name, .fd = d->back.fd, .lim = d->lim,
            .gnt = d->ctx->gnt, .evh = d->ctx->evh, .ring_order = fe.ring_order,
            .evtchn = fe.q[i].evtchn, .poll_us = o->poll_us,
            .busy_poll_us = o->busy_poll_us, .persistent = fe.persistent,
        };

        memcpy(c.ring_refs, fe.q[i].ring_refs, sizeof(c.ring_refs));
        d->q[i] = blk_queue_start(&c, err, sizeof(err));
        if (!d->q[i]) {
            char msg[400];

            snprintf(msg, sizeof(msg), "queue %u: %s", i, err);
            dev_error(d, msg);
            disconnect(d);
            return -1;
        }
        d->nq = i + 1;
    }
    if (d->fe_id < DOMID_FIRST_RESERVED) {
        connected_devices[d->fe_id]++;
        d->counted = true;
    }
    fprintf(stderr, "tandem-blkback: %s: connected, %u queue(s), ring order %u, %s I/O%s\n",
            d->name, fe.nr_queues, fe.ring_order, d->back.direct ? "direct" : "buffered",
            fe.persistent ? ", persistent grants" : "");
    return 0;
}

/* ---- the state machine ---- */

/* The toolstack asks for a detach by writing online=0 (as libxl does). */
static bool offline(struct blk_device *d)
{
    char *v = read_key(d, "online");
    bool off = v && strcmp(v, "0") == 0;

    free(v);
    return off;
}

void blk_device_update(struct blk_device *d)
{
    int fe;
    bool off;

    if (!d->usable)
        return;
    fe = tdm_xenbus_read_state(d->ctx->xs, XBT_NULL, d->fe_path);
    off = offline(d);
    if (fe < 0)
        return;
    switch (fe) {
    case TDM_XBS_INITIALISED:
    case TDM_XBS_CONNECTED:
        if (off) {
            disconnect(d);          /* backend-initiated close */
            set_state(d, TDM_XBS_CLOSING);
        } else if (d->state == TDM_XBS_INIT_WAIT) {
            if (connect(d) == 0)
                set_state(d, TDM_XBS_CONNECTED);
            else
                set_state(d, TDM_XBS_CLOSED);       /* the frontend must start over */
        } else if (d->state != TDM_XBS_CONNECTED && d->state != TDM_XBS_CLOSING) {
            /* A ring from before we (re)started: its in-flight state is
             * unknown, so make the frontend reset and resubmit.
             * TODO(dom0/gnttab): the killed instance's GTF_reading/writing
             * marks stay on the old grants (the library cannot know them
             * after a restart); the frontend must use fresh grants. */
            set_state(d, TDM_XBS_CLOSED);
        }
        break;
    case TDM_XBS_CLOSING:
        disconnect(d);
        set_state(d, TDM_XBS_CLOSING);
        break;
    case TDM_XBS_CLOSED:
        disconnect(d);
        set_state(d, TDM_XBS_CLOSED);
        break;
    case TDM_XBS_UNKNOWN:
    case TDM_XBS_INITIALISING:
    case TDM_XBS_INIT_WAIT:
        disconnect(d);
        set_state(d, off ? TDM_XBS_CLOSED : TDM_XBS_INIT_WAIT);
        break;
    default:
        break;                      /* Reconfiguring/Reconfigured: not used by vbd */
    }
}

/* Everything before the first state change: the other end, the backing
 * store, the published keys, the watches. */
static int probe(struct blk_device *d, const struct tdm_xenbus_dev_event *ev)
{
    struct xs_handle *xs = d->ctx->xs;
    unsigned fe_id;

    if (tdm_xenbus_read_otherend(xs, XBT_NULL, d->dir, "frontend", &d->fe_path, &fe_id) < 0) {
        dev_error(d, tdm_last_error());
        return -1;
    }
    if (fe_id != ev->frontend_id) {
        dev_error(d, "frontend-id does not match the backend path");
        return -1;
    }
    if (open_backing(d) < 0)
        return -1;
    set_limits(d);
    if (publish(d) < 0) {
        dev_error(d, "cannot publish the device's keys");
        return -1;
    }
    snprintf(d->fe_state, sizeof(d->fe_state), "%s/state", d->fe_path);
    snprintf(d->online, sizeof(d->online), "%s/online", d->dir);
    if (!xs_watch(xs, d->fe_state, d->token) || !xs_watch(xs, d->online, d->token)) {
        dev_error(d, "cannot watch the frontend's state and the online node");
        xs_unwatch(xs, d->fe_state, d->token);
        return -1;
    }
    return 0;
}

struct blk_device *blk_device_new(struct blk_ctx *ctx, const struct tdm_xenbus_dev_event *ev)
{
    struct blk_device *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->ctx = ctx;
    d->back.fd = -1;
    d->state = TDM_XBS_UNKNOWN;
    d->fe_id = ev->frontend_id;
    snprintf(d->dir, sizeof(d->dir), "%s", ev->dir);
    snprintf(d->token, sizeof(d->token), "blkback:%s", ev->dir);
    snprintf(d->name, sizeof(d->name), "vbd %u/%u", ev->frontend_id, ev->devid);
    if (probe(d, ev) < 0) {
        /* As Xen's xenbus_dev_fatal: the error node says why; Closing
         * tells the frontend not to wait. The toolstack must re-create
         * the device once the cause is fixed. */
        set_state(d, TDM_XBS_CLOSING);
        return d;
    }
    d->usable = true;
    blk_device_update(d);
    return d;
}

void blk_device_free(struct blk_device *d, bool closed)
{
    if (!d)
        return;
    disconnect(d);
    if (d->usable) {
        xs_unwatch(d->ctx->xs, d->fe_state, d->token);
        xs_unwatch(d->ctx->xs, d->online, d->token);
        if (closed)
            set_state(d, TDM_XBS_CLOSED);
    }
    blk_backing_close(&d->back);
    free(d->fe_path);
    free(d);
}

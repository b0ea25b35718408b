/*
 * blkfront's control path: finding the device, the XenbusState handshake
 * (Initialising -> backend InitWait -> our keys + Initialised -> backend
 * Connected -> Connected), and the reconnect of docs/blkback.md's
 * "frontend duty".  A worker thread per device runs every (re)connect, so
 * the xenbus watch thread is never blocked by one; the watch callback only
 * notices that the backend left Connected.
 */
#include "blkfront.h"
#include "gnttab.h"
#include "kerrno.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "platform.h"
#include "xenfront.h"


/* "xvda" -> "51712" (Xen's numbering for xvd disks without partitions);
 * a decimal name is taken as the device number. */
static int device_id(const char *name, char *id, size_t len)
{
    if (name[0] >= '0' && name[0] <= '9') {
        snprintf(id, len, "%s", name);
        return 0;
    }
    if (strncmp(name, "xvd", 3) != 0 || !name[3])
        return -EINVAL;
    unsigned long disk = 0;
    for (const char *p = name + 3; *p; p++) {
        if (*p < 'a' || *p > 'z' || p - name > 6)
            return -EINVAL;
        disk = disk * 26 + (unsigned long)(*p - 'a' + 1);
    }
    disk--;
    unsigned long devid = disk < 16 ? (202UL << 8 | disk << 4) : (1UL << 28 | disk << 8);
    snprintf(id, len, "%lu", devid);
    return 0;
}

/* What the backend offers (at InitWait) against what we want. */
static void negotiate(struct blkfront *d)
{
    struct blkfront_info *in = &d->info;
    unsigned int want_q = d->opts.queues ? d->opts.queues : 1;
    unsigned int max_q = (unsigned int)xenfront_backend_u64(&d->xf, "multi-queue-max-queues", 1024, 1);
    unsigned int max_order = (unsigned int)xenfront_backend_u64(&d->xf, "max-ring-page-order", 32, 0);
    unsigned int max_ind = (unsigned int)xenfront_backend_u64(&d->xf, "feature-max-indirect-segments", 1U << 20, 0);

    in->nr_queues = MIN(MIN(want_q, max_q ? max_q : 1), BLKFRONT_MAX_QUEUES);
    in->ring_order = MIN(MIN(d->opts.ring_order, max_order), BLKFRONT_MAX_RING_ORDER);
    in->ring_size = __CONST_RING_SIZE(blkif, PAGE_SIZE << in->ring_order);
    in->persistent = !d->opts.no_persistent && xenfront_backend_u64(&d->xf, "feature-persistent", 1, 0);
    in->max_segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;
    if (!d->opts.no_indirect && max_ind > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        in->max_segs = MIN(max_ind, BLKFRONT_MAX_SEGS);
    in->flush = xenfront_backend_u64(&d->xf, "feature-flush-cache", 1, 0);
}

/* Ring keys of one queue under dir ("" or "queue-N/"). */
static int write_queue_keys(xenbus_transaction_t t, struct blkfront *d, struct blkfront_queue *q,
                            const char *dir)
{
    char node[48];
    int rc;
    unsigned int n = 1U << d->info.ring_order;
    if (d->info.ring_order == 0) {
        snprintf(node, sizeof(node), "%sring-ref", dir);
        rc = xenbus_printf(t, d->xf.xb.nodename, node, "%u", q->ring_ref[0]);
    } else {
        rc = 0;
        for (unsigned int i = 0; rc == 0 && i < n; i++) {
            snprintf(node, sizeof(node), "%sring-ref%u", dir, i);
            rc = xenbus_printf(t, d->xf.xb.nodename, node, "%u", q->ring_ref[i]);
        }
    }
    snprintf(node, sizeof(node), "%sevent-channel", dir);
    return rc < 0 ? rc : xenbus_printf(t, d->xf.xb.nodename, node, "%u", q->port);
}

static int write_keys(xenbus_transaction_t t, struct xenfront *f)
{
    struct blkfront *d = f->priv;
    const char *fe = d->xf.xb.nodename;
    int rc = xenbus_printf(t, fe, "protocol", "%s", "x86_64-abi");
    if (rc == 0)
        rc = xenbus_printf(t, fe, "feature-persistent", "%u", d->info.persistent ? 1U : 0U);
    if (rc == 0 && d->info.ring_order)
        rc = xenbus_printf(t, fe, "ring-page-order", "%u", d->info.ring_order);
    if (rc == 0 && d->info.nr_queues > 1)
        rc = xenbus_printf(t, fe, "multi-queue-num-queues", "%u", d->info.nr_queues);
    for (unsigned int i = 0; rc == 0 && i < d->info.nr_queues; i++) {
        char dir[16] = "";
        if (d->info.nr_queues > 1)
            snprintf(dir, sizeof(dir), "queue-%u/", i);
        rc = write_queue_keys(t, d, &d->q[i], dir);
    }
    return rc;
}

/* After the backend is Connected: the disk's size and mode. */
static int read_disk(struct blkfront *d)
{
    struct blkfront_info *in = &d->info;
    uint64_t v;
    int rc = xenbus_read_u64(XBT_NIL, d->xf.xb.otherend, "sectors", UINT64_MAX >> 9, &v);
    if (rc < 0)
        return rc;
    in->sectors = v;
    in->sector_size = (uint32_t)xenfront_backend_u64(&d->xf, "sector-size", 1U << 16, 512);
    in->readonly = xenfront_backend_u64(&d->xf, "info", UINT32_MAX, 0) & VDISK_READONLY;
    if (in->sector_size != BLKIF_SECTOR_SIZE)
        printk("blkfront %s: sector-size %u; I/O is addressed in 512-byte units anyway\n",
               d->name, in->sector_size);
    return 0;
}

static void teardown_all(struct blkfront *d)
{
    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++)
        if (d->q[i].ring_mem || d->q[i].port || d->q[i].shadow)
            blkfront_queue_teardown(&d->q[i]);
}

/* Oldest first: the order the caller submitted them in. */
static struct blkfront_req *sort_by_seq(struct blkfront_req *list)
{
    struct blkfront_req *sorted = NULL;
    while (list) {
        struct blkfront_req *r = list, **pp = &sorted;
        list = r->next;
        while (*pp && (*pp)->seq < r->seq)
            pp = &(*pp)->next;
        r->next = *pp;
        *pp = r;
    }
    return sorted;
}

/* Everything unanswered goes in front of what was submitted meanwhile. */
static void keep_inflight(struct blkfront *d)
{
    struct blkfront_req *list = NULL;
    for (unsigned int i = 0; i < d->info.nr_queues; i++)
        blkfront_queue_take_inflight(&d->q[i], &list);
    list = sort_by_seq(list);
    struct blkfront_req *tail = list;
    uint64_t n = 0;
    for (; tail; tail = tail->next) {
        n++;
        if (!tail->next)
            break;
    }
    if (tail) {
        tail->next = d->pending;
        if (!d->pending)
            d->pending_tail = tail;
        d->pending = list;
    }
    d->resubmitted += n;
}

static void resubmit_pending(struct blkfront *d)
{
    while (d->pending) {
        struct blkfront_req *r = d->pending;
        int rc = blkfront_queue_submit(&d->q[r->queue % d->info.nr_queues], r);
        if (rc == -EAGAIN) {   /* ring full: let responses come back */
            blkfront_kick(d);
            blkfront_poll(d, -1);
            thread_yield();
            continue;
        }
        d->pending = r->next;
        if (!d->pending)
            d->pending_tail = NULL;
        if (rc < 0)
            blkfront_complete(r, BLKIF_RSP_ERROR);
    }
    blkfront_kick(d);
}

/* ---- the xenfront callbacks ---- */

static int setup(struct xenfront *f)
{
    struct blkfront *d = f->priv;
    int rc;
    d->info.backend_id = f->xb.otherend_id;
    negotiate(d);
    if (f->reconnects && (rc = blkfront_buf_regrant(d)) < 0)
        return xenfront_fail(f, "granting the buffers again", rc);
    for (unsigned int i = 0; i < d->info.nr_queues; i++) {
        d->q[i].dev = d;
        d->q[i].index = i;
        if ((rc = blkfront_queue_setup(&d->q[i])) < 0)
            return xenfront_fail(f, "setting up a ring", rc);
    }
    return 0;
}

static int connected(struct xenfront *f)
{
    int rc = read_disk(f->priv);
    return rc < 0 ? xenfront_fail(f, "reading the disk's size", rc) : 0;
}

static void up(struct xenfront *f, bool again)
{
    struct blkfront *d = f->priv;
    if (again)
        printk("blkfront %s: reconnected; resubmitting %llu requests\n", d->name,
               (unsigned long long)d->resubmitted);
    resubmit_pending(d);
}

/* Lost or failed: everything unanswered is kept for the next connect. */
static void down(struct xenfront *f)
{
    struct blkfront *d = f->priv;
    keep_inflight(d);
    teardown_all(d);
}

static void dead(struct xenfront *f)
{
    struct blkfront *d = f->priv;
    while (d->pending) {
        struct blkfront_req *r = d->pending;
        d->pending = r->next;
        blkfront_complete(r, BLKIF_RSP_ERROR);
    }
    d->pending_tail = NULL;
}

static void wake_queues(struct xenfront *f)
{
    struct blkfront *d = f->priv;
    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++)
        waitq_wake_all(&d->q[i].wq);
}

/* Restored in a new domain: the rings' ports died with the old one. */
static void forget_ports(struct xenfront *f)
{
    struct blkfront *d = f->priv;
    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++)
        d->q[i].port = 0;
}

static const struct xenfront_ops blkfront_ops = {
    .setup = setup, .keys = write_keys, .connected = connected,
    .up = up, .down = down, .dead = dead, .wake = wake_queues, .resumed = forget_ports,
};

struct blkfront *blkfront_open(const char *name, const struct blkfront_opts *opts, int *err)
{
    int rc = -ENOMEM;
    struct blkfront *d = calloc(1, sizeof(*d));
    if (!d)
        goto out;
    if (opts)
        d->opts = *opts;
    if (!d->opts.poll_ns)
        d->opts.poll_ns = 100 * NSEC_PER_USEC;
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->xf.name, sizeof(d->xf.name), "blkfront %s", name);
    if ((rc = device_id(name, d->id, sizeof(d->id))) < 0)
        goto out;
    if ((rc = gnttab_init()) < 0)
        goto out;
    rc = xenfront_start(&d->xf, "vbd", d->id, &blkfront_ops, d);
    if (rc < 0)
        goto out;   /* once the watch is registered d is leaked on purpose */
    if (err)
        *err = 0;
    return d;
out:
    if (d && !xenfront_in_use(&d->xf))
        free(d);
    if (err)
        *err = rc;
    return NULL;
}

/* Frontend-initiated close: requests still in flight are answered first. */
void blkfront_close(struct blkfront *d)
{
    if (!d)
        return;
    while (d->xf.state == XENFRONT_CONNECTED) {
        bool busy = false;
        for (unsigned int i = 0; i < d->info.nr_queues; i++)
            busy |= d->q[i].nr_free != RING_SIZE(&d->q[i].ring);
        if (!busy)
            break;
        blkfront_wait_any(d, 0, monotonic_ns() + XENFRONT_STEP_TIMEOUT_NS);
    }
    xenfront_close(&d->xf);
}

const struct blkfront_info *blkfront_info(const struct blkfront *d)
{
    return &d->info;
}

void blkfront_get_stats(const struct blkfront *d, struct blkfront_stats *o)
{
    *o = (struct blkfront_stats){ .reconnects = d->xf.reconnects, .resubmitted = d->resubmitted };
    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++) {
        const struct blkfront_queue *q = &d->q[i];
        o->submits += q->submits;
        o->pushes += q->pushes;
        o->doorbells += q->doorbells;
        o->upcalls += q->upcalls;
        o->responses += q->responses;
        o->errors += q->errors;
        o->polls_found += q->polls_found;
        o->polls_empty += q->polls_empty;
        o->sleeps += q->sleeps;
    }
}

int blkfront_wait_present(const char *name, uint64_t timeout_ns)
{
    char id[16];
    int rc = device_id(name, id, sizeof(id));
    return rc < 0 ? rc : xenfront_wait_present("vbd", id, timeout_ns);
}

bool blkfront_wait_detached(struct blkfront *d, uint64_t deadline)
{
    return xenfront_wait_detached(&d->xf, deadline);
}

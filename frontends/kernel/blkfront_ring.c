/*
 * blkfront's data path: one ring per queue.  Requests are built straight
 * into the shared ring (direct, or indirect with the segment list in a
 * per-slot page), published in batches with one
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, and completions are consumed with
 * the final-check idiom.  Waiting polls the ring for a short window before
 * arming rsp_event and sleeping on the upcall: a doorbell costs ~3.5 us,
 * an upcall ~40 us, so every notification avoided counts.
 */
#include "arch.h"
#include "blkfront.h"
#include "evtchn.h"
#include "gnttab.h"
#include "kerrno.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"

#ifndef ERANGE
#define ERANGE 34
#endif

/* ---- setup and teardown ---- */

static void upcall(evtchn_port_t port, void *arg)
{
    (void)port;
    struct blkfront_queue *q = arg;
    q->upcalls++;
    waitq_wake_all(&q->wq);
}

static int alloc_shadow(struct blkfront_queue *q, unsigned int size)
{
    q->shadow = calloc(size, sizeof(*q->shadow));
    q->free_ids = calloc(size, sizeof(*q->free_ids));
    if (!q->shadow || !q->free_ids)
        return -ENOMEM;
    for (unsigned int i = 0; i < size; i++) {
        q->shadow[i].indirect_ref = GNTTAB_INVALID_REF;
        q->free_ids[i] = size - 1 - i;   /* ids handed out from 0 up */
    }
    q->nr_free = size;
    return 0;
}

int blkfront_queue_setup(struct blkfront_queue *q)
{
    struct blkfront *d = q->dev;
    unsigned int n = 1U << d->info.ring_order;
    uint64_t frames[1U << BLKFRONT_MAX_RING_ORDER];

    q->ring_mem = page_alloc_zeroed(n);
    if (!q->ring_mem)
        return -ENOMEM;
    blkif_sring_t *sring = q->ring_mem;
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&q->ring, sring, n * PAGE_SIZE);
    for (unsigned int i = 0; i < n; i++)
        frames[i] = (virt_to_phys(q->ring_mem) >> PAGE_SHIFT) + i;
    int rc = gnttab_grant_frames(d->info.backend_id, frames, n, false, q->ring_ref);
    if (rc < 0) {
        page_free(q->ring_mem, n);
        q->ring_mem = NULL;
        return rc;
    }
    rc = alloc_shadow(q, RING_SIZE(&q->ring));
    if (rc < 0)
        return rc;
    long port = evtchn_alloc_unbound(d->info.backend_id, upcall, q);
    if (port < 0)
        return (int)port;
    q->port = (evtchn_port_t)port;
    q->unpushed = false;
    return 0;
}

/* Pages still mapped by a backend that died cannot be revoked: they are
 * left granted (and allocated) rather than reused. */
void blkfront_queue_teardown(struct blkfront_queue *q)
{
    struct blkfront *d = q->dev;
    unsigned int n = 1U << d->info.ring_order;

    if (q->port) {
        evtchn_close(q->port);
        q->port = 0;
    }
    if (q->ring_mem) {
        if (gnttab_end_access_refs(q->ring_ref, n, true) == 0)
            page_free(q->ring_mem, n);
        q->ring_mem = NULL;
    }
    if (q->shadow) {
        for (unsigned int i = 0; i < RING_SIZE(&q->ring); i++) {
            struct blkfront_shadow *sh = &q->shadow[i];
            if (sh->indirect && gnttab_end_access_and_free(sh->indirect_ref) == 0)
                page_free(sh->indirect, 1);
        }
    }
    free(q->shadow);
    free(q->free_ids);
    q->shadow = NULL;
    q->free_ids = NULL;
    q->nr_free = 0;
}

void blkfront_queue_take_inflight(struct blkfront_queue *q, struct blkfront_req **list)
{
    if (!q->shadow)
        return;
    for (unsigned int i = 0; i < RING_SIZE(&q->ring); i++) {
        struct blkfront_req *r = q->shadow[i].req;
        if (!r)
            continue;
        q->shadow[i].req = NULL;
        r->next = *list;
        *list = r;
    }
}

/* ---- building requests ---- */

static unsigned int nr_segments(const struct blkfront_req *r)
{
    if (!r->len)
        return 0;
    uint64_t a = (uintptr_t)r->buf;
    return (unsigned int)(((a + r->len - 1) >> PAGE_SHIFT) - (a >> PAGE_SHIFT) + 1);
}

static int fill_segments(struct blkfront *d, const struct blkfront_req *r,
                         struct blkif_request_segment *seg)
{
    uint64_t a = (uintptr_t)r->buf, end = a + r->len;
    for (unsigned int i = 0; a < end; i++) {
        uint64_t off = a & (PAGE_SIZE - 1);
        uint64_t n = MIN(end - a, PAGE_SIZE - off);
        grant_ref_t ref = blkfront_buf_ref(d, (void *)(uintptr_t)(a - off));
        if (ref == GNTTAB_INVALID_REF)
            return -EINVAL;
        seg[i].gref = ref;
        seg[i].first_sect = (uint8_t)(off >> BLKIF_SECTOR_SHIFT);
        seg[i].last_sect = (uint8_t)(((off + n) >> BLKIF_SECTOR_SHIFT) - 1);
        a += n;
    }
    return 0;
}

static int indirect_page(struct blkfront *d, struct blkfront_shadow *sh)
{
    if (sh->indirect)
        return 0;
    sh->indirect = page_alloc_zeroed(1);
    if (!sh->indirect)
        return -ENOMEM;
    int ref = gnttab_grant_page(d->info.backend_id, sh->indirect, true);
    if (ref < 0) {
        page_free(sh->indirect, 1);
        sh->indirect = NULL;
        return ref;
    }
    sh->indirect_ref = (grant_ref_t)ref;
    return 0;
}

static int build(struct blkfront_queue *q, struct blkfront_shadow *sh, uint32_t id,
                 const struct blkfront_req *r, blkif_request_t *req)
{
    struct blkfront *d = q->dev;
    unsigned int nseg = nr_segments(r);
    blkif_vdev_t handle = (blkif_vdev_t)strtoul(d->id, NULL, 10);
    if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        req->operation = r->op;
        req->nr_segments = (uint8_t)nseg;
        req->handle = handle;
        req->id = id;
        req->sector_number = r->sector;
        return fill_segments(d, r, req->seg);
    }
    int rc = indirect_page(d, sh);
    if (rc < 0)
        return rc;
    blkif_request_indirect_t *ir = (blkif_request_indirect_t *)req;
    ir->operation = BLKIF_OP_INDIRECT;
    ir->indirect_op = r->op;
    ir->nr_segments = (uint16_t)nseg;
    ir->id = id;
    ir->sector_number = r->sector;
    ir->handle = handle;
    ir->indirect_grefs[0] = sh->indirect_ref;
    return fill_segments(d, r, sh->indirect);
}

int blkfront_queue_submit(struct blkfront_queue *q, struct blkfront_req *r)
{
    spin_lock(&q->lock);
    if (RING_FULL(&q->ring) || q->nr_free == 0) {
        spin_unlock(&q->lock);
        return -EAGAIN;
    }
    uint32_t id = q->free_ids[q->nr_free - 1];
    blkif_request_t *req = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);
    int rc = build(q, &q->shadow[id], id, r, req);
    if (rc == 0) {
        q->nr_free--;
        q->shadow[id].req = r;
        q->ring.req_prod_pvt++;
        q->unpushed = true;
        q->submits++;
    }
    spin_unlock(&q->lock);
    return rc;
}

/* ---- the request API ---- */

static int check_request(struct blkfront *d, const struct blkfront_req *r)
{
    const struct blkfront_info *in = &d->info;
    if (r->op != BLKIF_OP_READ && r->op != BLKIF_OP_WRITE && r->op != BLKIF_OP_FLUSH_DISKCACHE)
        return -EINVAL;
    if (r->op == BLKIF_OP_FLUSH_DISKCACHE ? !in->flush : r->len == 0)
        return -EINVAL;
    if (r->len % BLKIF_SECTOR_SIZE || (uintptr_t)r->buf % BLKIF_SECTOR_SIZE)
        return -EINVAL;
    if (in->readonly && r->op != BLKIF_OP_READ)
        return -EROFS;
    uint64_t n = r->len >> BLKIF_SECTOR_SHIFT;
    if (r->sector > in->sectors || n > in->sectors - r->sector)
        return -ERANGE;
    if (nr_segments(r) > in->max_segs)
        return -E2BIG;
    if (r->len && (blkfront_buf_ref(d, r->buf) == GNTTAB_INVALID_REF ||
                   blkfront_buf_ref(d, (uint8_t *)r->buf + r->len - 1) == GNTTAB_INVALID_REF))
        return -EINVAL;
    return 0;
}

int blkfront_submit(struct blkfront *d, struct blkfront_req *r)
{
    if (d->xf.state == XENFRONT_DEAD)
        return -EIO;
    int rc = check_request(d, r);
    if (rc < 0)
        return rc;
    r->done = false;
    r->status = BLKIF_RSP_OKAY;
    r->submit_ns = monotonic_ns();
    r->seq = d->seq++;
    r->queue %= d->info.nr_queues;
    if (d->xf.state != XENFRONT_CONNECTED) {
        r->next = NULL;   /* goes out after the reconnect */
        if (d->pending_tail)
            d->pending_tail->next = r;
        else
            d->pending = r;
        d->pending_tail = r;
        return 0;
    }
    return blkfront_queue_submit(&d->q[r->queue], r);
}

static void push_queue(struct blkfront_queue *q)
{
    int notify = 0;
    spin_lock(&q->lock);
    if (q->unpushed && q->port) {
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
        q->unpushed = false;
        q->pushes++;
        if (notify)
            q->doorbells++;
    }
    evtchn_port_t port = q->port;
    spin_unlock(&q->lock);
    if (notify)
        evtchn_notify(port);
}

void blkfront_kick(struct blkfront *d)
{
    if (d->xf.state != XENFRONT_CONNECTED)
        return;
    for (unsigned int i = 0; i < d->info.nr_queues; i++)
        push_queue(&d->q[i]);
}

void blkfront_complete(struct blkfront_req *r, int status)
{
    r->status = status;
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
    if (r->done_fn)
        r->done_fn(r, r->arg);
}

/* Takes one response off the ring; returns the request it answers (NULL
 * for a raw or a bogus id). Called with the queue lock held. */
static struct blkfront_req *take_response(struct blkfront_queue *q, RING_IDX i)
{
    struct blkif_response rsp;
    struct blkfront *d = q->dev;
    rsp = *RING_GET_RESPONSE(&q->ring, i);   /* one copy: the backend may scribble */
    if ((rsp.id & BLKFRONT_RAW_ID) && d->raw_fn) {
        d->raw_fn(d->raw_arg, &rsp);
        return NULL;
    }
    if (rsp.id >= RING_SIZE(&q->ring) || !q->shadow[rsp.id].req) {
        printk("blkfront %s: response for id %llu that is not in flight; ignored\n", d->name,
               (unsigned long long)rsp.id);
        return NULL;
    }
    struct blkfront_req *r = q->shadow[rsp.id].req;
    q->shadow[rsp.id].req = NULL;
    q->free_ids[q->nr_free++] = (uint32_t)rsp.id;
    q->responses++;
    if (rsp.status != BLKIF_RSP_OKAY)
        q->errors++;
    r->status = rsp.status;
    return r;
}

static int consume(struct blkfront_queue *q)
{
    struct blkfront_req *head = NULL, **tail = &head;
    int n = 0;
    spin_lock(&q->lock);
    if (!q->port) {
        spin_unlock(&q->lock);
        return 0;
    }
    RING_IDX rp = q->ring.sring->rsp_prod;
    xen_rmb();   /* see the responses the producer index covers */
    if (rp - q->ring.rsp_cons > RING_SIZE(&q->ring)) {
        printk("blkfront %s: backend's rsp_prod %u is more than a ring ahead; ignored\n",
               q->dev->name, rp);
        spin_unlock(&q->lock);
        return 0;
    }
    for (RING_IDX i = q->ring.rsp_cons; i != rp; i++) {
        struct blkfront_req *r = take_response(q, i);
        if (r) {
            r->next = NULL;
            *tail = r;
            tail = &r->next;
            n++;
        }
    }
    q->ring.rsp_cons = rp;
    spin_unlock(&q->lock);
    while (head) {   /* callbacks may submit again: no lock held */
        struct blkfront_req *r = head;
        head = r->next;
        blkfront_complete(r, r->status);
    }
    return n;
}

int blkfront_poll(struct blkfront *d, int q)
{
    int n = 0;
    if (q >= 0)
        return consume(&d->q[(unsigned int)q % d->info.nr_queues]);
    for (unsigned int i = 0; i < d->info.nr_queues; i++)
        n += consume(&d->q[i]);
    return n;
}

/* Spins up to the poll window for the backend's next response: at qd=1
 * the response comes back within the window and the ~40 us upcall is
 * never paid. (An adaptive window that shrinks when polling finds nothing
 * was tried: it collapses below the device's latency at qd=1 and never
 * recovers; measured in docs/benchmarks-blk.md.) */
static bool busy_poll(struct blkfront_queue *q, uint64_t poll_ns)
{
    if (poll_ns <= 1)
        return false;
    uint64_t end = monotonic_ns() + poll_ns;
    do {
        if (RING_HAS_UNCONSUMED_RESPONSES(&q->ring)) {
            q->polls_found++;
            return true;
        }
        __asm__ __volatile__("pause");
    } while (monotonic_ns() < end);
    q->polls_empty++;
    return false;
}

static bool final_check(struct blkfront_queue *q)
{
    int more;
    spin_lock(&q->lock);
    RING_FINAL_CHECK_FOR_RESPONSES(&q->ring, more);
    spin_unlock(&q->lock);
    return more;
}

int blkfront_wait_any(struct blkfront *d, unsigned int qi, uint64_t deadline)
{
    for (;;) {
        if (d->xf.state == XENFRONT_DEAD)
            return -EIO;
        if (d->xf.state != XENFRONT_CONNECTED || d->xf.backend_lost) {
            if (!wait_event_until(&d->xf.state_wq,
                                  d->xf.state != XENFRONT_CONNECTING && !d->xf.backend_lost, deadline))
                return 0;
            continue;
        }
        struct blkfront_queue *q = &d->q[qi % d->info.nr_queues];
        int n = consume(q);
        if (n)
            return n;
        if (busy_poll(q, d->opts.poll_ns) || final_check(q))
            continue;
        q->sleeps++;
        if (!wait_event_until(&q->wq, RING_HAS_UNCONSUMED_RESPONSES(&q->ring) ||
                                          d->xf.state != XENFRONT_CONNECTED || d->xf.backend_lost,
                              deadline))
            return 0;
    }
}

int blkfront_wait(struct blkfront *d, struct blkfront_req *r, uint64_t deadline)
{
    while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
        int n = blkfront_wait_any(d, r->queue, deadline);
        if (n < 0 && !r->done)
            return n;
        if (n == 0 && deadline && monotonic_ns() >= deadline && !r->done)
            return -ETIMEDOUT;
    }
    return r->status;
}

int blkfront_rw(struct blkfront *d, uint8_t op, uint64_t sector, void *buf, uint32_t len)
{
    struct blkfront_req r = { .op = op, .sector = sector, .buf = buf, .len = len };
    int rc;
    while ((rc = blkfront_submit(d, &r)) == -EAGAIN)
        blkfront_wait_any(d, 0, 0);
    if (rc < 0)
        return rc;
    blkfront_kick(d);
    return blkfront_wait(d, &r, 0);
}

/* ---- raw access for the hostile-frontend test ---- */

blkif_front_ring_t *blkfront_raw_ring(struct blkfront *d)
{
    return &d->q[0].ring;
}

void blkfront_raw_push(struct blkfront *d)
{
    d->q[0].unpushed = true;
    push_queue(&d->q[0]);
}

void blkfront_set_raw_handler(struct blkfront *d,
                              void (*fn)(void *arg, const struct blkif_response *rsp), void *arg)
{
    d->raw_fn = fn;
    d->raw_arg = arg;
}

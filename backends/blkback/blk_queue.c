/* One queue of a vbd: the blkif front door of the block engine (see
 * blk_queue.h; the engine is backends/engine/blkeng.c). */
#include "blk_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "blk_pcache.h"
#include "blk_ring.h"
#include "blkeng.h"
#include "tdm_poll.h"
#include "tdm_uring.h"

/* Our own operations on the engine's io_uring (below TDM_URING_TAG_ENGINE). */
enum { TAG_KICK = 2, TAG_STOP = 3 };

/* Responses are published every BLK_PIPE_CHUNK rather than once per
 * sweep, so the guest refills the first answers while the rest are
 * reaped (the engine hands requests to the kernel in chunks of the same
 * size for the same reason: blkeng.c). */
#define BLK_PIPE_CHUNK 4u
/* A request between "taken from the ring" and "answered". */
struct inflight {
    struct blk_req req;
    struct blkeng_req io;          /* what the engine does for it */
    struct tdm_grant_map maps[BLK_MAX_SEGS];
    struct iovec iov[BLK_MAX_SEGS];
    unsigned niov;                 /* iov entries after merging adjacent segments */
    int16_t status;
};

struct blk_queue {
    struct blk_queue_config cfg;
    struct blk_ringmap rmap;
    struct blk_ring ring;
    struct blk_pcache *pcache;     /* persistent grants, if agreed */
    int local_port, kick_fd, stop_fd;
    struct blkeng *eng;            /* the queue's io_uring, on the device's backing store */
    pthread_t thread;

    struct inflight *slots;
    unsigned *free_slots, nfree, nslots;
    unsigned inflight;
    int parked;                    /* barrier waiting for the queue to drain, or -1 */
    bool exclusive;                /* a barrier is in flight: take nothing */
    bool stopping;
    unsigned pending_rsp;          /* responses queued, not yet pushed */
    bool grant_detail;             /* the last refusal came from the grant library */

    uint64_t kick_buf, stop_buf;
    struct tdm_poll poll;
    uint64_t busy_poll_ns;         /* poll window while I/O is in flight */
    struct blk_queue_stats st;
};

__attribute__((format(printf, 2, 3)))
static void qlog(struct blk_queue *q, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tandem-blkback: %s queue %u: %s\n", q->cfg.name, q->cfg.index, msg);
}

/* A hostile frontend must not be able to flood the log: the first 16
 * refusals of a queue are logged, then every 1024th. */
static void log_refusal(struct blk_queue *q, const struct blk_req *r, const char *why,
                        const char *detail)
{
    uint64_t n = q->st.refused + 1;

    if (n > 16 && n % 1024)
        return;
    qlog(q, "refused request id=%llu op=%u: %s%s%s (refusal %llu)", (unsigned long long)r->id,
         r->rsp_op, why, detail ? ": " : "", detail ? detail : "", (unsigned long long)n);
}

/* ---- responses ---- */

static void respond(struct blk_queue *q, const struct blk_req *req, int16_t status)
{
    blk_ring_respond(&q->ring, req->id, req->rsp_op, status);
    q->pending_rsp++;
    if (status != BLKIF_RSP_OKAY)
        q->st.refused++;
}

/* Publishes queued responses; notifies only if the frontend asked. */
static void push_responses(struct blk_queue *q)
{
    if (!q->pending_rsp)
        return;
    q->pending_rsp = 0;
    if (blk_ring_push(&q->ring)) {
        q->st.notifies++;
        if (tdm_evtchn_notify(q->cfg.evh, q->local_port) < 0)
            qlog(q, "notify: %s", tdm_last_error());
    }
}

static void release_slot(struct blk_queue *q, unsigned i)
{
    q->free_slots[q->nfree++] = i;
}

/* Unmaps the data pages (before answering: the frontend may end its
 * grants as soon as it sees the response) and answers. */
static void finish(struct blk_queue *q, unsigned i)
{
    struct inflight *f = &q->slots[i];

    tdm_gnttab_unmap_batch(q->cfg.gnt, f->req.nr_segs, f->maps, NULL);
    memset(f->maps, 0, sizeof(f->maps[0]) * f->req.nr_segs);
    respond(q, &f->req, f->status);
    q->inflight--;
    if (f->req.kind == BLK_KIND_BARRIER)
        q->exclusive = false;
    release_slot(q, i);
}

/* ---- submission ---- */

static void io_done(void *ctx, struct blkeng_req *io, int status);

static const enum blkeng_op eng_op[] = {
    [BLK_KIND_READ] = BLKENG_READ, [BLK_KIND_WRITE] = BLKENG_WRITE,
    [BLK_KIND_FLUSH] = BLKENG_FLUSH, [BLK_KIND_BARRIER] = BLKENG_FLUSH,   /* after the drain */
    [BLK_KIND_DISCARD] = BLKENG_DISCARD,
};

/* Hands the checked, mapped request to the engine: READ/WRITE straight on
 * the guest's pages, FLUSH and BARRIER as [write +] fdatasync, DISCARD as
 * a punched hole. 0, or -errno (the engine refused it). */
static int submit(struct blk_queue *q, unsigned i)
{
    struct inflight *f = &q->slots[i];
    const struct blk_req *r = &f->req;

    f->status = BLKIF_RSP_OKAY;
    f->io = (struct blkeng_req){
        .op = eng_op[r->kind], .offset = r->sector * BLKIF_SECTOR_SIZE,
        .len = r->kind == BLK_KIND_DISCARD ? r->nr_sectors * BLKIF_SECTOR_SIZE : 0,
        .iov = f->iov, .niov = r->nr_segs ? f->niov : 0, .done = io_done,   /* DISCARD: none */
    };
    return blkeng_submit(q->eng, &f->io);
}

/* ---- taking requests ---- */

/* Reads the segment list of an indirect request out of its (read-only
 * mapped) indirect pages into the private copy, then checks it. */
static int load_indirect(struct blk_queue *q, struct blk_req *req, const char **why)
{
    struct tdm_grant_map pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    int status[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    unsigned n = req->nr_indirect_pages;

    if (tdm_gnttab_map_batch(q->cfg.gnt, q->cfg.domid, n, req->indirect_grefs, true, pages,
                             status) != 0) {
        tdm_gnttab_unmap_batch(q->cfg.gnt, n, pages, NULL);
        *why = "indirect page not granted";
        q->grant_detail = true;
        return BLKIF_RSP_ERROR;
    }
    for (unsigned s = 0; s < req->nr_segs; s++) {
        struct blkif_request_segment seg;
        const char *page = pages[s / BLKIF_SEGS_PER_INDIRECT_FRAME].addr;

        memcpy(&seg, page + (s % BLKIF_SEGS_PER_INDIRECT_FRAME) * sizeof(seg), sizeof(seg));
        req->seg[s] = (struct blk_seg){ seg.gref, seg.first_sect, seg.last_sect };
    }
    tdm_gnttab_unmap_batch(q->cfg.gnt, n, pages, NULL);
    return blk_check_segments(req, &q->cfg.lim, why);
}

/* The page of segment s: from the persistent cache when the frontend
 * uses persistent grants (mapping and keeping it on first use), else
 * NULL (mapped for this request only). */
static void *persistent_page(struct blk_queue *q, uint32_t ref)
{
    void *page;

    if (!q->pcache)
        return NULL;
    page = blk_pcache_get(q->pcache, ref);
    return page ? page : blk_pcache_add(q->pcache, q->cfg.gnt, q->cfg.domid, ref);
}

/* Maps the data pages and builds the iovec. A read writes into the
 * guest's pages, so it needs a writable grant. f->maps[s].addr stays
 * NULL for pages of the persistent cache (not unmapped at the end).
 * submit() then sends a single merged range as READ_FIXED/WRITE_FIXED
 * when it lies in a registered chunk of guest memory (blkeng_fixed.h). */
static int map_data(struct blk_queue *q, struct inflight *f, const char **why)
{
    uint32_t refs[BLK_MAX_SEGS];
    struct tdm_grant_map tmp[BLK_MAX_SEGS];
    int status[BLK_MAX_SEGS];
    unsigned idx[BLK_MAX_SEGS], n = f->req.nr_segs, nmap = 0;
    bool ro = f->req.kind != BLK_KIND_READ;
    void *page[BLK_MAX_SEGS];

    if (n == 0 || n > BLK_MAX_SEGS)
        return BLKIF_RSP_ERROR;     /* blk_check_request rules this out */
    for (unsigned s = 0; s < n; s++) {
        page[s] = persistent_page(q, f->req.seg[s].gref);
        f->maps[s] = (struct tdm_grant_map){ 0 };
        if (!page[s]) {
            refs[nmap] = f->req.seg[s].gref;
            idx[nmap++] = s;
        }
    }
    if (tdm_gnttab_map_batch(q->cfg.gnt, q->cfg.domid, nmap, refs, ro, tmp, status) != 0) {
        tdm_gnttab_unmap_batch(q->cfg.gnt, nmap, tmp, NULL);
        *why = ro ? "data page not granted" : "data page not granted writable (read)";
        q->grant_detail = true;
        return BLKIF_RSP_ERROR;
    }
    for (unsigned k = 0; k < nmap; k++) {
        f->maps[idx[k]] = tmp[k];
        page[idx[k]] = tmp[k].addr;
    }
    /* Segments that are adjacent in our mapping of guest memory (a guest
     * buffer of contiguous pages, as blkfront's pool hands out) become one
     * iovec: fewer entries for the kernel to import and split into bios. */
    f->niov = 0;
    for (unsigned s = 0; s < n; s++) {
        const struct blk_seg *sg = &f->req.seg[s];
        char *base = (char *)page[s] + sg->first * BLKIF_SECTOR_SIZE;
        size_t len = (size_t)(sg->last - sg->first + 1) * BLKIF_SECTOR_SIZE;
        struct iovec *prev = f->niov ? &f->iov[f->niov - 1] : NULL;

        if (prev && (char *)prev->iov_base + prev->iov_len == base)
            prev->iov_len += len;
        else
            f->iov[f->niov++] = (struct iovec){ .iov_base = base, .iov_len = len };
    }
    return BLKIF_RSP_OKAY;
}

/* Checks and maps request `i`; answers it at once if it is refused. */
static bool accept_request(struct blk_queue *q, unsigned i, const union blkif_sring_entry *e)
{
    struct inflight *f = &q->slots[i];
    const char *why = NULL;
    int rc;

    q->grant_detail = false;
    rc = blk_check_request(e, &q->cfg.lim, &f->req, &why);

    if (rc == BLKIF_RSP_OKAY && f->req.indirect)
        rc = load_indirect(q, &f->req, &why);
    if (rc == BLKIF_RSP_OKAY && f->req.nr_segs)
        rc = map_data(q, f, &why);
    if (rc != BLKIF_RSP_OKAY) {
        log_refusal(q, &f->req, why, q->grant_detail ? tdm_last_error() : NULL);
        f->req.nr_segs = 0;
        respond(q, &f->req, (int16_t)rc);
        release_slot(q, i);
        return false;
    }
    return true;
}

static void start_request(struct blk_queue *q, unsigned i)
{
    struct inflight *f = &q->slots[i];
    int rc;

    if (f->req.kind == BLK_KIND_DISCARD && f->req.nr_sectors == 0) {
        respond(q, &f->req, BLKIF_RSP_OKAY);      /* nothing to do */
        release_slot(q, i);
        return;
    }
    q->inflight++;
    if (f->req.kind == BLK_KIND_BARRIER)
        q->exclusive = true;
    if ((rc = submit(q, i)) < 0) {
        qlog(q, "the block engine refused the request: %s", strerror(-rc));
        f->status = BLKIF_RSP_ERROR;
        finish(q, i);
    }
}

/* Takes what the ring holds (as far as slots and barriers allow). */
static bool take_requests(struct blk_queue *q)
{
    bool progress = false;

    if (q->parked >= 0 && q->inflight == 0) {
        unsigned i = (unsigned)q->parked;

        q->parked = -1;             /* the queue drained: run the barrier */
        start_request(q, i);
        progress = true;
    }
    while (!q->stopping && !q->exclusive && q->parked < 0 && q->nfree && !q->ring.broken) {
        union blkif_sring_entry e;
        unsigned i;
        int got = blk_ring_take(&q->ring, &e);

        if (got < 0) {
            qlog(q, "frontend overran the ring (req_prod %u, req_cons %u); queue stopped "
                 "taking requests", q->ring.r.sring->req_prod, q->ring.r.req_cons);
            break;
        }
        if (got == 0)
            break;
        progress = true;
        q->st.requests++;
        i = q->free_slots[--q->nfree];
        if (!accept_request(q, i, &e))
            continue;
        if (q->slots[i].req.kind == BLK_KIND_BARRIER && q->inflight) {
            q->parked = (int)i;     /* drain first */
            break;
        }
        start_request(q, i);
    }
    return progress;
}

/* ---- completions ---- */

/* The engine finished request f->io: 0, or -errno (-EIO for a short
 * transfer, e.g. the file shrank). */
static void io_done(void *ctx, struct blkeng_req *io, int status)
{
    struct blk_queue *q = ctx;
    struct inflight *f = (struct inflight *)((char *)io - offsetof(struct inflight, io));

    if (status < 0) {
        qlog(q, "I/O failed: %s", status == -EIO ? "short transfer or I/O error"
                                                 : strerror(-status));
        f->status = (f->req.kind == BLK_KIND_DISCARD && status == -EOPNOTSUPP)
                        ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
    }
    finish(q, (unsigned)(f - q->slots));
    if (q->pending_rsp >= BLK_PIPE_CHUNK)
        push_responses(q);
}

static void arm_read(struct blk_queue *q, int fd, uint64_t *buf, unsigned tag)
{
    struct io_uring_sqe *sqe = tdm_uring_sqe(blkeng_uring(q->eng));

    if (!sqe) {
        qlog(q, "cannot arm a doorbell read: %s", strerror(errno));
        return;
    }
    io_uring_prep_read(sqe, fd, buf, sizeof(*buf), 0);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(tag, 0, 0));
}

/* Completions of our own operations on the engine's ring. */
static void other_done(void *ctx, uint64_t ud, int res)
{
    struct blk_queue *q = ctx;

    switch (tdm_uring_tag_of(ud)) {
    case TAG_KICK:
        q->st.kicks++;
        if (res >= 0 || res == -EINTR || res == -EAGAIN)
            arm_read(q, q->kick_fd, &q->kick_buf, TAG_KICK);
        else        /* re-arming would spin; the queue still polls on CQEs */
            qlog(q, "doorbell read failed: %s; no more kicks", strerror(-res));
        break;
    case TAG_STOP:
        q->stopping = true;
        break;
    }
}

/* ---- the loop ---- */

static bool has_work(void *ctx)
{
    struct blk_queue *q = ctx;

    return blk_ring_has_requests(&q->ring) || blkeng_cq_ready(q->eng);
}

/* With I/O in flight a completion is coming: poll the busy window
 * (--busy-poll-us, longer than the device's latency at depth), so neither
 * a qd=1 stream nor a deep queue pays a sleep + wake-up per completion
 * and a refill is taken at once without a doorbell; a miss does not
 * shrink the window that idle periods are measured with. */
static bool adaptive_poll(struct blk_queue *q)
{
    return tdm_poll_spin(&q->poll, q->inflight > 0 ? &q->busy_poll_ns : NULL, has_work, q);
}

static bool done(const struct blk_queue *q)
{
    return q->stopping && q->inflight == 0 && q->parked < 0;
}

static void *queue_main(void *arg)
{
    struct blk_queue *q = arg;

    arm_read(q, q->kick_fd, &q->kick_buf, TAG_KICK);
    arm_read(q, q->stop_fd, &q->stop_buf, TAG_STOP);
    while (!done(q)) {
        bool progress = take_requests(q);

        blkeng_flush(q->eng);
        progress |= blkeng_reap(q->eng);
        push_responses(q);
        if (progress || done(q))
            continue;
        if (!q->stopping && adaptive_poll(q))
            continue;
        if (!q->stopping && !q->exclusive && q->parked < 0 && blk_ring_final_check(&q->ring))
            continue;
        blkeng_wait(q->eng);
    }
    push_responses(q);
    return NULL;
}

/* ---- setup and teardown ---- */

/* The engine for this queue, with guest memory as fixed buffers. */
static int start_engine(struct blk_queue *q, char *err, size_t errlen)
{
    const struct blkeng_config ec = {
        .backing = q->cfg.backing, .depth = q->nslots, .extra_sqes = 8, .ctx = q,
        .other = other_done, .submit_batch = BLK_PIPE_CHUNK,
    };
    struct tdm_gnttab_memory mem;
    const char *why = "domain memory not available";

    if (!(q->eng = blkeng_create(&ec, err, errlen)))
        return -1;
    if (tdm_gnttab_memory(q->cfg.gnt, q->cfg.domid, &mem) == 0 && mem.rw && mem.len) {
        const struct blkeng_memory m = { .base = mem.rw, .alias = mem.ro, .len = mem.len };

        if (blkeng_use_memory(q->eng, &m, &why) == 0)
            return 0;
    }
    qlog(q, "no fixed buffers (%s): vectored I/O", why);
    return 0;
}

static int alloc_slots(struct blk_queue *q)
{
    q->nslots = RING_SIZE(&q->ring.r);
    q->slots = calloc(q->nslots, sizeof(*q->slots));
    q->free_slots = calloc(q->nslots, sizeof(*q->free_slots));
    if (!q->slots || !q->free_slots)
        return -1;
    for (unsigned i = 0; i < q->nslots; i++)
        q->free_slots[q->nfree++] = q->nslots - 1 - i;
    return 0;
}

static void free_queue(struct blk_queue *q)
{
    blkeng_destroy(q->eng);
    if (q->pcache) {
        blk_pcache_clear(q->pcache, q->cfg.gnt);
        free(q->pcache);
    }
    if (q->local_port > 0)
        tdm_evtchn_unbind(q->cfg.evh, q->local_port);
    if (q->rmap.base)
        blk_ringmap_unmap(q->cfg.gnt, &q->rmap);
    if (q->stop_fd >= 0)
        close(q->stop_fd);
    free(q->slots);
    free(q->free_slots);
    free(q);
}

static int setup(struct blk_queue *q, char *err, size_t errlen)
{
    const struct blk_queue_config *c = &q->cfg;

    if (blk_ringmap_map(c->gnt, c->domid, c->ring_refs, c->ring_order, &q->rmap, err, errlen) < 0)
        return -1;
    blk_ring_attach(&q->ring, q->rmap.base, c->ring_order);
    if (c->persistent && !(q->pcache = calloc(1, sizeof(*q->pcache)))) {
        snprintf(err, errlen, "out of memory for the persistent-grant cache");
        return -1;
    }
    if (alloc_slots(q) < 0) {
        snprintf(err, errlen, "out of memory for %u request slots", q->nslots);
        return -1;
    }
    q->local_port = tdm_evtchn_bind_interdomain(c->evh, c->domid, c->evtchn);
    /* The library notices a dead control connection (the domain's VMM was
     * replaced: same domid, new process) on the request that fails and
     * reconnects on the next one; one retry reaches the new VMM. */
    if (q->local_port < 0)
        q->local_port = tdm_evtchn_bind_interdomain(c->evh, c->domid, c->evtchn);
    if (q->local_port < 0) {
        snprintf(err, errlen, "binding event channel %u: %s", c->evtchn, tdm_last_error());
        return -1;
    }
    q->kick_fd = tdm_evtchn_port_fd(c->evh, q->local_port);
    q->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (q->kick_fd < 0 || q->stop_fd < 0) {
        snprintf(err, errlen, "doorbell fds: %s", strerror(errno));
        return -1;
    }
    return 0;
}

struct blk_queue *blk_queue_start(const struct blk_queue_config *cfg, char *err, size_t errlen)
{
    struct blk_queue *q = calloc(1, sizeof(*q));

    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->stop_fd = -1;
    q->parked = -1;
    tdm_poll_init(&q->poll, cfg->poll_us);
    q->busy_poll_ns = (uint64_t)cfg->busy_poll_us * 1000u;
    if (setup(q, err, errlen) < 0 || start_engine(q, err, errlen) < 0) {
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

void blk_queue_stop(struct blk_queue *q, struct blk_queue_stats *stats)
{
    const uint64_t one = 1;

    if (!q)
        return;
    if (write(q->stop_fd, &one, sizeof(one)) != sizeof(one))
        qlog(q, "stop: %s", strerror(errno));
    pthread_join(q->thread, NULL);
    if (stats) {
        struct blkeng_stats es;

        blkeng_get_stats(q->eng, &es);
        *stats = q->st;
        stats->fixed = es.fixed;
        stats->vectored = es.vectored;
        stats->split_submits = es.split_submits;
        stats->batches = es.batches;
    }
    free_queue(q);     /* the engine's exit cancels the doorbell reads, drops the buffers */
}

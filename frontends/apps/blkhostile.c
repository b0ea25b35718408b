/*
 * app=blkhostile [dev=xvda]: a misbehaving frontend.  Puts malformed
 * requests straight on queue 0's ring (bad operations, 0 / 12 / 255
 * segments, sectors beyond the disk, grant references never granted or
 * granted read-only for a READ, first_sect > last_sect, last_sect beyond
 * the page, an empty indirect request), interleaved with a well-formed
 * stream of writes and reads on the same ring.  Each malformed request
 * must get an error response (BLKIF_RSP_ERROR or _EOPNOTSUPP) and every
 * well-formed one must complete with OKAY and the right data.  Prints
 * `blkhostile: ok hostile=N good=M ...` or `blkhostile: FAIL ...`.
 *
 * mode=readonly (on a disk with access=r): the device must say read-only,
 * blkfront must refuse a write itself (-EROFS), a write put on the ring
 * anyway must get an error response, and reads must work:
 * `blkhostile: ok readonly ...`.
 */
#include "apps.h"
#include "blkfront.h"
#include "gnttab.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"

#define GOOD 8          /* writes, then the same number of reads */
#define MAX_CASES 16

struct hostile {
    struct blkfront *dev;
    uint8_t *pool;                  /* 2*GOOD pages for good I/O + 1 for hostile reads */
    grant_ref_t never_granted, readonly_ref;
    unsigned int ncases, answered;
    int status[MAX_CASES];
    bool seen[MAX_CASES];
    const char *name[MAX_CASES];
};

static void raw_response(void *arg, const struct blkif_response *rsp)
{
    struct hostile *h = arg;
    uint64_t k = rsp->id & ~BLKFRONT_RAW_ID;
    if (k >= h->ncases || h->seen[k]) {
        printk("blkhostile: response for unknown or repeated raw id %llu\n", (unsigned long long)k);
        return;
    }
    h->seen[k] = true;
    h->status[k] = rsp->status;
    h->answered++;
}

/* A READ of one good page at sector 0, to be spoiled by the caller. */
static blkif_request_t *base_read(struct hostile *h, blkif_front_ring_t *ring, const char *name)
{
    blkif_request_t *req = RING_GET_REQUEST(ring, ring->req_prod_pvt);
    unsigned int k = h->ncases++;
    h->name[k] = name;
    *req = (blkif_request_t){ .operation = BLKIF_OP_READ, .nr_segments = 1, .id = BLKFRONT_RAW_ID | k };
    req->seg[0].gref = blkfront_buf_ref(h->dev, h->pool + 2 * GOOD * PAGE_SIZE);
    req->seg[0].first_sect = 0;
    req->seg[0].last_sect = 7;
    ring->req_prod_pvt++;
    return req;
}

static void put_hostile(struct hostile *h)
{
    blkif_front_ring_t *ring = blkfront_raw_ring(h->dev);
    uint64_t sectors = blkfront_info(h->dev)->sectors;
    blkif_request_t *r;
    base_read(h, ring, "operation 4 (reserved)")->operation = BLKIF_OP_RESERVED_1;
    base_read(h, ring, "operation 200")->operation = 200;
    base_read(h, ring, "0 segments")->nr_segments = 0;
    r = base_read(h, ring, "12 segments");
    r->nr_segments = 12;
    for (unsigned int i = 1; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        r->seg[i] = r->seg[0];
    base_read(h, ring, "255 segments")->nr_segments = 255;
    base_read(h, ring, "sector at the end of the disk")->sector_number = sectors;
    base_read(h, ring, "sector overflowing 64 bits")->sector_number = ~0ULL - 3;
    base_read(h, ring, "grant never granted")->seg[0].gref = h->never_granted;
    base_read(h, ring, "read into a read-only grant")->seg[0].gref = h->readonly_ref;
    r = base_read(h, ring, "first_sect > last_sect");
    r->seg[0].first_sect = 5;
    r->seg[0].last_sect = 2;
    base_read(h, ring, "last_sect beyond the page")->seg[0].last_sect = 8;
    r = base_read(h, ring, "indirect with 0 segments");
    ((blkif_request_indirect_t *)r)->operation = BLKIF_OP_INDIRECT;
    ((blkif_request_indirect_t *)r)->indirect_op = BLKIF_OP_READ;
    ((blkif_request_indirect_t *)r)->nr_segments = 0;
}

static int submit_good(struct hostile *h, struct blkfront_req *req, uint8_t op, unsigned int i)
{
    uint8_t *buf = h->pool + (op == BLKIF_OP_WRITE ? i : GOOD + i) * PAGE_SIZE;
    if (op == BLKIF_OP_WRITE)
        blkpat_fill(buf, i + 1, 77);
    req[i] = (struct blkfront_req){ .op = op, .sector = (i + 1) * 8, .buf = buf, .len = PAGE_SIZE };
    return blkfront_submit(h->dev, &req[i]);
}

static bool all_done(const struct blkfront_req *req)
{
    for (unsigned int i = 0; i < GOOD; i++)
        if (!req[i].done)
            return false;
    return true;
}

/* Waits until the good requests and every hostile one are answered. */
static int collect(struct hostile *h, struct blkfront_req *req)
{
    uint64_t deadline = monotonic_ns() + 10 * NSEC_PER_SEC;
    while (!all_done(req) || h->answered < h->ncases) {
        if (monotonic_ns() > deadline)
            return -ETIMEDOUT;
        if (blkfront_wait_any(h->dev, 0, monotonic_ns() + 50 * NSEC_PER_MSEC) < 0)
            return -EIO;
    }
    return 0;
}

/* Writes interleaved with the hostile batch, then reads checked. */
static int run(struct hostile *h)
{
    static struct blkfront_req w[GOOD], rd[GOOD];
    for (unsigned int i = 0; i < GOOD / 2; i++)
        if (submit_good(h, w, BLKIF_OP_WRITE, i) < 0)
            return -1;
    put_hostile(h);
    for (unsigned int i = GOOD / 2; i < GOOD; i++)
        if (submit_good(h, w, BLKIF_OP_WRITE, i) < 0)
            return -1;
    blkfront_raw_push(h->dev);
    blkfront_kick(h->dev);
    if (collect(h, w) < 0)
        return -2;
    for (unsigned int i = 0; i < GOOD; i++)
        if (submit_good(h, rd, BLKIF_OP_READ, i) < 0)
            return -1;
    blkfront_kick(h->dev);
    if (collect(h, rd) < 0)
        return -2;
    for (unsigned int i = 0; i < GOOD; i++) {
        uint64_t gen;
        if (w[i].status || rd[i].status || blkpat_check(rd[i].buf, i + 1, &gen) != 0 || gen != 77) {
            printk("blkhostile: FAIL good request %u: write %d read %d data %s\n", i, w[i].status,
                   rd[i].status, rd[i].status ? "-" : "wrong");
            return -3;
        }
    }
    return 0;
}

static int setup(struct hostile *h, const char *name)
{
    int err;
    h->dev = blkfront_open(name, NULL, &err);
    if (!h->dev) {
        printk("blkhostile: FAIL open %s: error %d\n", name, err);
        return -1;
    }
    h->pool = blkfront_buf_alloc(h->dev, (2 * GOOD + 1) * PAGE_SIZE);
    uint8_t *ro = page_alloc_zeroed(1);
    int never = gnttab_alloc_ref();
    int rof = ro ? gnttab_grant_page(blkfront_info(h->dev)->backend_id, ro, true) : -ENOMEM;
    if (!h->pool || never < 0 || rof < 0) {
        printk("blkhostile: FAIL buffers/grants (%d %d)\n", never, rof);
        return -1;
    }
    h->never_granted = (grant_ref_t)never;
    h->readonly_ref = (grant_ref_t)rof;
    blkfront_set_raw_handler(h->dev, raw_response, h);
    return 0;
}

static int readonly_check(struct hostile *h)
{
    static struct blkfront_req rd;
    uint8_t *page = h->pool;
    struct blkfront_req w = { .op = BLKIF_OP_WRITE, .sector = 0, .buf = page, .len = PAGE_SIZE };
    if (!blkfront_info(h->dev)->readonly) {
        printk("blkhostile: FAIL readonly: the backend did not say read-only (info)\n");
        return 1;
    }
    int rc = blkfront_submit(h->dev, &w);
    if (rc != -EROFS) {
        printk("blkhostile: FAIL readonly: blkfront accepted a write (%d)\n", rc);
        return 1;
    }
    blkif_front_ring_t *ring = blkfront_raw_ring(h->dev);
    blkif_request_t *req = base_read(h, ring, "write to a read-only disk");
    req->operation = BLKIF_OP_WRITE;
    req->seg[0].gref = blkfront_buf_ref(h->dev, page);
    blkfront_raw_push(h->dev);
    rd = (struct blkfront_req){ .op = BLKIF_OP_READ, .sector = 8, .buf = page + PAGE_SIZE, .len = PAGE_SIZE };
    if (blkfront_submit(h->dev, &rd) < 0)
        return 1;
    blkfront_kick(h->dev);
    uint64_t deadline = monotonic_ns() + 10 * NSEC_PER_SEC;
    while ((!rd.done || h->answered < h->ncases) && monotonic_ns() < deadline)
        blkfront_wait_any(h->dev, 0, monotonic_ns() + 50 * NSEC_PER_MSEC);
    if (h->answered < h->ncases || !rd.done || rd.status != BLKIF_RSP_OKAY ||
        h->status[0] == BLKIF_RSP_OKAY) {
        printk("blkhostile: FAIL readonly: raw write %s, read %s\n",
               h->answered < h->ncases ? "unanswered" : h->status[0] ? "refused" : "ACCEPTED",
               !rd.done ? "unanswered" : rd.status ? "failed" : "ok");
        return 1;
    }
    printk("blkhostile: ok readonly write-refused-locally write-refused-by-backend(status %d) read-ok\n",
           h->status[0]);
    return 0;
}

int app_blkhostile(const struct cmdline *cl)
{
    static struct hostile h;
    const char *name = cmdline_get(cl, "dev");
    const char *mode = cmdline_get(cl, "mode");
    if (setup(&h, name ? name : "xvda") < 0)
        return 1;
    if (mode && !strcmp(mode, "readonly"))
        return readonly_check(&h);
    if (mode) {
        printk("blkhostile: FAIL mode=%s (readonly, or none)\n", mode);
        return 1;
    }
    int rc = run(&h);
    if (rc == -1 || rc == -2) {
        printk("blkhostile: FAIL %s (%u of %u hostile requests answered)\n",
               rc == -1 ? "submitting the good stream" : "timed out waiting for responses",
               h.answered, h.ncases);
        return 1;
    }
    if (rc < 0)
        return 1;
    unsigned int eop = 0, error = 0;
    for (unsigned int k = 0; k < h.ncases; k++) {
        if (h.status[k] == BLKIF_RSP_OKAY) {
            printk("blkhostile: FAIL '%s' was answered OKAY\n", h.name[k]);
            return 1;
        }
        eop += h.status[k] == BLKIF_RSP_EOPNOTSUPP;
        error += h.status[k] == BLKIF_RSP_ERROR;
    }
    printk("blkhostile: ok hostile=%u good=%u error=%u eopnotsupp=%u\n", h.ncases, 2 * GOOD, error,
           eop);
    blkfront_close(h.dev);
    return 0;
}

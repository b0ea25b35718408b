/* Request validation (see blk_request.h). Every rule a frontend can break
 * is checked here, once, on a private copy of the ring entry. */
#include "blk_request.h"

#include <string.h>

unsigned blk_indirect_pages(unsigned nr_segs)
{
    return (unsigned)((nr_segs + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) /
                      BLKIF_SEGS_PER_INDIRECT_FRAME);
}

static int refuse(const char **why, const char *text, int status)
{
    *why = text;
    return status;
}

/* [sector, sector + n) must lie inside the device (no wrap-around). */
static bool range_ok(uint64_t sector, uint64_t n, uint64_t sectors)
{
    return sector <= sectors && n <= sectors - sector;
}

int blk_check_segments(struct blk_req *req, const struct blk_limits *lim, const char **why)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < req->nr_segs; i++) {
        const struct blk_seg *s = &req->seg[i];

        if (s->first > s->last)
            return refuse(why, "segment first_sect > last_sect", BLKIF_RSP_ERROR);
        if (s->last >= BLK_SECTORS_PER_PAGE)
            return refuse(why, "segment last_sect beyond the page (> 7)", BLKIF_RSP_ERROR);
        total += (uint64_t)(s->last - s->first + 1);
    }
    req->nr_sectors = total;
    if (!range_ok(req->sector, total, lim->sectors))
        return refuse(why, "sectors beyond the end of the device", BLKIF_RSP_ERROR);
    return BLKIF_RSP_OKAY;
}

static void copy_direct_segs(struct blk_req *req, const struct blkif_request *rw)
{
    for (unsigned i = 0; i < req->nr_segs; i++) {
        req->seg[i].gref = rw->seg[i].gref;
        req->seg[i].first = rw->seg[i].first_sect;
        req->seg[i].last = rw->seg[i].last_sect;
    }
}

/* READ, WRITE, FLUSH_DISKCACHE, WRITE_BARRIER: segments in the entry. */
static int check_direct(const struct blkif_request *rw, const struct blk_limits *lim,
                        struct blk_req *req, const char **why)
{
    bool data_optional = req->kind == BLK_KIND_FLUSH || req->kind == BLK_KIND_BARRIER;

    req->sector = rw->sector_number;
    req->nr_segs = rw->nr_segments;
    if (req->nr_segs == 0 && !data_optional)
        return refuse(why, "read/write with 0 segments", BLKIF_RSP_ERROR);
    if (req->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return refuse(why, "more than 11 segments in a direct request", BLKIF_RSP_ERROR);
    if (req->nr_segs > 0 && req->kind != BLK_KIND_READ && lim->readonly)
        return refuse(why, "write to a read-only device", BLKIF_RSP_ERROR);
    copy_direct_segs(req, rw);
    return blk_check_segments(req, lim, why);
}

static int check_discard(const struct blkif_request_discard *d, const struct blk_limits *lim,
                         struct blk_req *req, const char **why)
{
    if (!lim->discard)
        return refuse(why, "discard not offered", BLKIF_RSP_EOPNOTSUPP);
    if (lim->readonly)
        return refuse(why, "discard on a read-only device", BLKIF_RSP_ERROR);
    req->sector = d->sector_number;
    req->nr_sectors = d->nr_sectors;
    if (!range_ok(d->sector_number, d->nr_sectors, lim->sectors))
        return refuse(why, "discard beyond the end of the device", BLKIF_RSP_ERROR);
    return BLKIF_RSP_OKAY;
}

/* Header only: the segments are in guest pages the caller must map. */
static int check_indirect(const struct blkif_request_indirect *ind, const struct blk_limits *lim,
                          struct blk_req *req, const char **why)
{
    req->indirect = true;
    req->rsp_op = ind->indirect_op;
    req->sector = ind->sector_number;
    req->nr_segs = ind->nr_segments;
    if (lim->max_indirect_segs == 0)
        return refuse(why, "indirect requests not offered", BLKIF_RSP_EOPNOTSUPP);
    if (ind->indirect_op == BLKIF_OP_READ)
        req->kind = BLK_KIND_READ;
    else if (ind->indirect_op == BLKIF_OP_WRITE)
        req->kind = BLK_KIND_WRITE;
    else
        return refuse(why, "indirect_op is neither read nor write", BLKIF_RSP_ERROR);
    if (req->nr_segs == 0)
        return refuse(why, "indirect request with 0 segments", BLKIF_RSP_ERROR);
    if (req->nr_segs > lim->max_indirect_segs || req->nr_segs > BLK_MAX_SEGS)
        return refuse(why, "more indirect segments than advertised", BLKIF_RSP_ERROR);
    if (req->kind == BLK_KIND_WRITE && lim->readonly)
        return refuse(why, "write to a read-only device", BLKIF_RSP_ERROR);
    req->nr_indirect_pages = blk_indirect_pages(req->nr_segs);
    memcpy(req->indirect_grefs, ind->indirect_grefs,
           sizeof(req->indirect_grefs[0]) * req->nr_indirect_pages);
    return BLKIF_RSP_OKAY;
}

int blk_check_request(const union blkif_sring_entry *slot, const struct blk_limits *lim,
                      struct blk_req *req, const char **why)
{
    const struct blkif_request *rw = &slot->req;

    memset(req, 0, offsetof(struct blk_req, seg));
    req->id = rw->id;               /* id is at offset 8 in every layout */
    req->rsp_op = rw->operation;
    *why = NULL;
    switch (rw->operation) {
    case BLKIF_OP_READ:
        req->kind = BLK_KIND_READ;
        return check_direct(rw, lim, req, why);
    case BLKIF_OP_WRITE:
        req->kind = BLK_KIND_WRITE;
        return check_direct(rw, lim, req, why);
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (!lim->flush)
            return refuse(why, "flush not offered", BLKIF_RSP_EOPNOTSUPP);
        req->kind = BLK_KIND_FLUSH;
        return check_direct(rw, lim, req, why);
    case BLKIF_OP_WRITE_BARRIER:
        if (!lim->barrier)
            return refuse(why, "barrier not offered", BLKIF_RSP_EOPNOTSUPP);
        req->kind = BLK_KIND_BARRIER;
        return check_direct(rw, lim, req, why);
    case BLKIF_OP_DISCARD: {
        struct blkif_request_discard d;

        memcpy(&d, slot, sizeof(d));    /* the other layouts share the slot */
        req->kind = BLK_KIND_DISCARD;
        return check_discard(&d, lim, req, why);
    }
    case BLKIF_OP_INDIRECT: {
        struct blkif_request_indirect ind;

        memcpy(&ind, slot, sizeof(ind));
        return check_indirect(&ind, lim, req, why);
    }
    default:
        return refuse(why, "unknown operation", BLKIF_RSP_EOPNOTSUPP);
    }
}

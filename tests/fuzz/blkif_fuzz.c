/* libFuzzer target: blkback request validation (blk_check_request, and
 * blk_check_segments for indirect requests) on arbitrary ring entries and
 * device limits. Beyond "no crash, no UB", every accepted request is
 * checked against the rules it was accepted under. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk_request.h"

/* Input: 16 bytes of limits, 112 bytes of ring entry, then indirect
 * segments (8 bytes each) for an indirect request. */
struct fuzz_limits {
    uint64_t sectors;
    uint8_t flags;                 /* bit0 ro, 1 discard, 2 flush, 3 barrier */
    uint8_t pad;
    uint16_t max_indirect;
    uint32_t pad2;
};

static void verify_accepted(const struct blk_req *r, const struct blk_limits *lim)
{
    if (r->kind == BLK_KIND_DISCARD) {
        if (r->sector > lim->sectors || r->nr_sectors > lim->sectors - r->sector)
            abort();
        if (lim->readonly || !lim->discard)
            abort();
        return;
    }
    if (r->nr_segs > (r->indirect ? lim->max_indirect_segs : BLKIF_MAX_SEGMENTS_PER_REQUEST))
        abort();
    if (r->nr_segs == 0 && (r->kind == BLK_KIND_READ || r->kind == BLK_KIND_WRITE))
        abort();
    if (r->nr_segs && r->kind != BLK_KIND_READ && lim->readonly)
        abort();
    for (unsigned i = 0; i < r->nr_segs; i++)
        if (r->seg[i].first > r->seg[i].last || r->seg[i].last > 7)
            abort();
    if (r->sector > lim->sectors || r->nr_sectors > lim->sectors - r->sector)
        abort();
    if (r->nr_sectors > (uint64_t)r->nr_segs * 8)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct blk_req req;
    struct fuzz_limits fl;
    struct blk_limits lim;
    union blkif_sring_entry e;
    const char *why;
    int rc;

    if (size < sizeof(fl) + sizeof(e))
        return 0;
    memcpy(&fl, data, sizeof(fl));
    memcpy(&e, data + sizeof(fl), sizeof(e));
    data += sizeof(fl) + sizeof(e);
    size -= sizeof(fl) + sizeof(e);
    lim = (struct blk_limits){
        .sectors = fl.sectors, .readonly = fl.flags & 1, .discard = fl.flags & 2,
        .flush = fl.flags & 4, .barrier = fl.flags & 8,
        .max_indirect_segs = fl.max_indirect > BLK_MAX_INDIRECT_SEGS ? BLK_MAX_INDIRECT_SEGS
                                                                     : fl.max_indirect,
    };
    rc = blk_check_request(&e, &lim, &req, &why);
    if (rc != BLKIF_RSP_OKAY && rc != BLKIF_RSP_ERROR && rc != BLKIF_RSP_EOPNOTSUPP)
        abort();
    if (rc != BLKIF_RSP_OKAY) {
        if (!why)
            abort();
        return 0;
    }
    if (req.indirect) {
        if (req.nr_indirect_pages != blk_indirect_pages(req.nr_segs) ||
            req.nr_indirect_pages > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
            abort();
        for (unsigned i = 0; i < req.nr_segs; i++) {
            struct blkif_request_segment s = { 0 };

            if (size >= sizeof(s)) {
                memcpy(&s, data, sizeof(s));
                data += sizeof(s);
                size -= sizeof(s);
            }
            req.seg[i] = (struct blk_seg){ s.gref, s.first_sect, s.last_sect };
        }
        if (blk_check_segments(&req, &lim, &why) != BLKIF_RSP_OKAY)
            return 0;
    }
    verify_accepted(&req, &lim);
    return 0;
}

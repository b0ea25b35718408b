/* Request validation for tandem-blkback: the ONE place where a request
 * copied out of the guest's ring is checked before any I/O is started.
 *
 * Pure functions over private copies (no guest memory is read here), so
 * they are unit-tested and fuzzed directly. Grant refs are not judged
 * here: they are checked when the dom0 grant library maps them
 * (blk_queue.c), a read mapping the page writable. */
#ifndef TANDEM_BLKBACK_REQUEST_H
#define TANDEM_BLKBACK_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "public/io/blkif.h"

/* Largest indirect request we advertise (feature-max-indirect-segments),
 * as Linux xen-blkback. */
#define BLK_MAX_INDIRECT_SEGS 256u
#define BLK_MAX_SEGS BLK_MAX_INDIRECT_SEGS
#define BLK_SECTORS_PER_PAGE (XEN_PAGE_SIZE / BLKIF_SECTOR_SIZE)   /* 8 */

/* What the device offers; requests are judged against it. */
struct blk_limits {
    uint64_t sectors;              /* device size in 512-byte sectors */
    bool readonly;                 /* mode "r" */
    bool discard;                  /* feature-discard advertised */
    bool flush;                    /* feature-flush-cache advertised */
    bool barrier;                  /* feature-barrier advertised */
    unsigned max_indirect_segs;    /* 0: no BLKIF_OP_INDIRECT */
};

/* What the engine does for a valid request. */
enum blk_kind {
    BLK_KIND_READ,
    BLK_KIND_WRITE,
    BLK_KIND_FLUSH,                /* [write segments], then fdatasync */
    BLK_KIND_BARRIER,              /* drain, [write segments], fdatasync */
    BLK_KIND_DISCARD,
};

struct blk_seg {
    uint32_t gref;
    uint8_t first, last;           /* sectors within the page, inclusive */
};

/* A checked request (the private snapshot the engine works from). */
struct blk_req {
    uint64_t id;
    uint8_t rsp_op;                /* operation echoed in the response */
    enum blk_kind kind;
    bool indirect;
    uint64_t sector;               /* first 512-byte sector */
    uint64_t nr_sectors;           /* total (rw: sum of segments) */
    unsigned nr_segs;
    unsigned nr_indirect_pages;
    uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    struct blk_seg seg[BLK_MAX_SEGS];
};

/* Checks the request header in `slot` (a copy of one ring entry). Direct
 * requests are checked completely (segments included). For
 * BLKIF_OP_INDIRECT only the header is checked; the caller then copies
 * req->nr_segs segments out of the indirect pages into req->seg and
 * calls blk_check_segments. Returns BLKIF_RSP_OKAY, BLKIF_RSP_ERROR or
 * BLKIF_RSP_EOPNOTSUPP; on refusal *why says what was wrong (static
 * text) and req->id/rsp_op are still set for the response. */
int blk_check_request(const union blkif_sring_entry *slot, const struct blk_limits *lim,
                      struct blk_req *req, const char **why);

/* Checks req->seg[0..nr_segs) (first <= last <= 7) and the whole sector
 * range against the device; sets req->nr_sectors. */
int blk_check_segments(struct blk_req *req, const struct blk_limits *lim, const char **why);

/* Number of indirect pages nr_segs segments occupy. */
unsigned blk_indirect_pages(unsigned nr_segs);

#endif

/* Reads and checks what a blkfront published in its xenstore directory
 * for the connection (the one place this input is parsed): protocol,
 * queue count, ring-page-order, ring refs, event channels. */
#ifndef TANDEM_BLKBACK_FRONTEND_H
#define TANDEM_BLKBACK_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>
#include "blk_ringmap.h"
#include "tdm_xskeys.h"

#define BLK_MAX_QUEUES 16

struct blk_fe_queue {
    uint32_t ring_refs[BLK_MAX_RING_PAGES];
    uint32_t evtchn;
};

struct blk_fe_cfg {
    unsigned nr_queues;
    unsigned ring_order;
    bool persistent;               /* frontend asked for persistent grants */
    struct blk_fe_queue q[BLK_MAX_QUEUES];
};

/* Strict unsigned decimal ("0", "17"; no sign, spaces, leading zeros,
 * or values above max). 0 ok, -1 not. (The backends' one parser.) */
static inline int blk_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    return tdm_parse_uint(s, len, max, out);
}

/* Reads fe_path's connection keys. max_queues/max_order: what we offer.
 * 0, or -1 with a message in err naming the key. */
int blk_frontend_read(struct xs_handle *xs, const char *fe_path, unsigned max_queues,
                      unsigned max_order, struct blk_fe_cfg *cfg, char *err, size_t errlen);

#endif

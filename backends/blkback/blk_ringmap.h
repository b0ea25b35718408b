/* Maps a frontend's shared ring (2^order granted pages, through the dom0
 * grant library) as one contiguous, writable area. */
#ifndef TANDEM_BLKBACK_RINGMAP_H
#define TANDEM_BLKBACK_RINGMAP_H

#include <stddef.h>
#include <stdint.h>
#include "public/xen.h"
#include "tdm_gnttab.h"

#define BLK_MAX_RING_ORDER 4           /* max-ring-page-order we offer */
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_ORDER)

struct blk_ringmap {
    void *base;                        /* the ring, contiguous */
    void *view;                        /* our own view (order > 0), else NULL */
    unsigned order;
    struct tdm_grant_map maps[BLK_MAX_RING_PAGES];
};

/* 0, or -1 with a message in err. Nothing stays mapped on failure. */
int blk_ringmap_map(struct tdm_gnttab *g, unsigned domid, const uint32_t *refs,
                    unsigned order, struct blk_ringmap *m, char *err, size_t errlen);
void blk_ringmap_unmap(struct tdm_gnttab *g, struct blk_ringmap *m);

#endif

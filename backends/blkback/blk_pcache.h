/* Persistent grants (feature-persistent): refs the frontend keeps granted
 * for the life of the connection stay mapped (writable) in this cache,
 * so repeated requests on the same pages skip the map/unmap. Per queue,
 * used by its thread only. */
#ifndef TANDEM_BLKBACK_PCACHE_H
#define TANDEM_BLKBACK_PCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "tdm_gnttab.h"

#define BLK_PCACHE_MAX   1056u     /* as Linux's max_persistent_grants */
#define BLK_PCACHE_SLOTS 2048u     /* open addressing, power of two > 2 * MAX */

struct blk_pcache_entry {
    bool used;
    struct tdm_grant_map map;
};

struct blk_pcache {
    unsigned n;
    struct blk_pcache_entry e[BLK_PCACHE_SLOTS];
};

/* The mapped page of `ref`, or NULL if it is not cached. */
void *blk_pcache_get(const struct blk_pcache *c, uint32_t ref);

/* Maps `ref` writable and keeps it. NULL if the cache is full or the map
 * is refused (the caller then maps for this request only). */
void *blk_pcache_add(struct blk_pcache *c, struct tdm_gnttab *g, unsigned domid, uint32_t ref);

/* Unmaps everything (disconnect). */
void blk_pcache_clear(struct blk_pcache *c, struct tdm_gnttab *g);

#endif

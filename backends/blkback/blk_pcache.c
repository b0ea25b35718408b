/* Persistent-grant cache (see blk_pcache.h). Entries are only added
 * while connected and all dropped at disconnect, so linear probing needs
 * no deletion. */
#include "blk_pcache.h"

#include <stddef.h>

static unsigned slot_of(uint32_t ref)
{
    return (unsigned)((ref * 2654435761u) & (BLK_PCACHE_SLOTS - 1));
}

void *blk_pcache_get(const struct blk_pcache *c, uint32_t ref)
{
    for (unsigned i = slot_of(ref), n = 0; n < BLK_PCACHE_SLOTS; i = (i + 1) & (BLK_PCACHE_SLOTS - 1), n++) {
        if (!c->e[i].used)
            return NULL;
        if (c->e[i].map.ref == ref)
            return c->e[i].map.addr;
    }
    return NULL;
}

void *blk_pcache_add(struct blk_pcache *c, struct tdm_gnttab *g, unsigned domid, uint32_t ref)
{
    unsigned i = slot_of(ref);

    if (c->n >= BLK_PCACHE_MAX)
        return NULL;
    while (c->e[i].used)            /* never full: MAX < SLOTS / 2 */
        i = (i + 1) & (BLK_PCACHE_SLOTS - 1);
    if (tdm_gnttab_map(g, domid, ref, false, &c->e[i].map, NULL) < 0)
        return NULL;
    c->e[i].used = true;
    c->n++;
    return c->e[i].map.addr;
}

void blk_pcache_clear(struct blk_pcache *c, struct tdm_gnttab *g)
{
    for (unsigned i = 0; i < BLK_PCACHE_SLOTS; i++)
        if (c->e[i].used) {
            tdm_gnttab_unmap(g, &c->e[i].map);
            c->e[i].used = false;
        }
    c->n = 0;
}

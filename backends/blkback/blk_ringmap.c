/* Ring mapping (see blk_ringmap.h). A multi-page ring is granted page by
 * page and its frames need not be adjacent, so for order > 0 the pages
 * the grant library mapped are aliased side by side into a reserved
 * area: mremap() with old_size 0 makes a second mapping of the same
 * shared pages. */
#include "blk_ringmap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static int build_view(struct blk_ringmap *m, unsigned pages, char *err, size_t errlen)
{
    size_t len = (size_t)pages * XEN_PAGE_SIZE;
    char *view = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (view == MAP_FAILED) {
        snprintf(err, errlen, "reserving %zu bytes for the ring: %s", len, strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < pages; i++) {
        void *at = view + (size_t)i * XEN_PAGE_SIZE;

        if (mremap(m->maps[i].addr, 0, XEN_PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, at) != at) {
            snprintf(err, errlen, "aliasing ring page %u: %s", i, strerror(errno));
            munmap(view, len);
            return -1;
        }
    }
    m->view = view;
    m->base = view;
    return 0;
}

int blk_ringmap_map(struct tdm_gnttab *g, unsigned domid, const uint32_t *refs,
                    unsigned order, struct blk_ringmap *m, char *err, size_t errlen)
{
    unsigned pages = 1u << order;
    int status[BLK_MAX_RING_PAGES];

    memset(m, 0, sizeof(*m));
    if (order > BLK_MAX_RING_ORDER) {
        snprintf(err, errlen, "ring-page-order %u above %u", order, BLK_MAX_RING_ORDER);
        return -1;
    }
    m->order = order;
    if (tdm_gnttab_map_batch(g, domid, pages, refs, false, m->maps, status) != 0) {
        snprintf(err, errlen, "mapping the ring: %s", tdm_last_error());
        tdm_gnttab_unmap_batch(g, pages, m->maps, NULL);
        return -1;
    }
    if (order == 0) {
        m->base = m->maps[0].addr;
        return 0;
    }
    if (build_view(m, pages, err, errlen) < 0) {
        tdm_gnttab_unmap_batch(g, pages, m->maps, NULL);
        return -1;
    }
    return 0;
}

void blk_ringmap_unmap(struct tdm_gnttab *g, struct blk_ringmap *m)
{
    if (m->view)
        munmap(m->view, ((size_t)XEN_PAGE_SIZE) << m->order);
    tdm_gnttab_unmap_batch(g, 1u << m->order, m->maps, NULL);
    memset(m, 0, sizeof(*m));
}

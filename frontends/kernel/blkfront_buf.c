/*
 * blkfront's buffer pool: pages granted to the backend once and kept
 * granted, so requests carry their references without grant work and a
 * backend with feature-persistent can keep them mapped (no copies on
 * either side).  After a reconnect every page gets a fresh reference: a
 * killed backend may have left its marks on the old ones.
 */
#include "blkfront.h"
#include "gnttab.h"
#include "kerrno.h"
#include "kernel.h"
#include "mm.h"

void *blkfront_buf_alloc(struct blkfront *d, size_t bytes)
{
    size_t n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    if (n == 0)
        return NULL;
    struct blkfront_region *r = calloc(1, sizeof(*r));
    uint8_t *mem = page_alloc_zeroed(n);
    grant_ref_t *refs = calloc(n, sizeof(*refs));
    if (!r || !mem || !refs)
        goto fail;
    for (size_t i = 0; i < n; i++)
        refs[i] = GNTTAB_INVALID_REF;
    for (size_t i = 0; i < n; i++) {
        int ref = gnttab_grant_access(d->info.backend_id, virt_to_phys(mem + i * PAGE_SIZE) >> PAGE_SHIFT,
                                      false);
        if (ref < 0) {
            for (size_t k = 0; k < i; k++)
                gnttab_end_access_and_free(refs[k]);
            goto fail;
        }
        refs[i] = (grant_ref_t)ref;
    }
    r->base = mem;
    r->npages = n;
    r->refs = refs;
    r->next = d->regions;
    d->regions = r;
    return mem;
fail:
    printk("blkfront %s: cannot allocate and grant %zu buffer pages\n", d->name, n);
    free(refs);
    if (mem)
        page_free(mem, n);
    free(r);
    return NULL;
}

grant_ref_t blkfront_buf_ref(struct blkfront *d, const void *page)
{
    const uint8_t *p = page;
    for (struct blkfront_region *r = d->regions; r; r = r->next)
        if (p >= r->base && p < r->base + r->npages * PAGE_SIZE)
            return r->refs[(size_t)(p - r->base) / PAGE_SIZE];
    return GNTTAB_INVALID_REF;
}

int blkfront_buf_regrant(struct blkfront *d)
{
    for (struct blkfront_region *r = d->regions; r; r = r->next) {
        for (size_t i = 0; i < r->npages; i++) {
            /* Still mapped by a dead backend: leave that reference behind. */
            if (r->refs[i] != GNTTAB_INVALID_REF)
                gnttab_end_access_and_free(r->refs[i]);
            int ref = gnttab_grant_access(d->info.backend_id,
                                          virt_to_phys(r->base + i * PAGE_SIZE) >> PAGE_SHIFT, false);
            r->refs[i] = ref < 0 ? GNTTAB_INVALID_REF : (grant_ref_t)ref;
            if (ref < 0)
                return ref;
        }
    }
    return 0;
}

/* A domain's memory extent, for callers that register it with the kernel
 * once (io_uring fixed buffers) instead of handing it page by page.  It
 * grants nothing: a caller still maps each grant (tdm_gnttab_map*) and
 * only turns the page it got into an offset in this extent. */
#include <errno.h>
#include <string.h>

#include "gnttab_domain.h"

int tdm_gnttab_memory(struct tdm_gnttab *g, unsigned domid, struct tdm_gnttab_memory *out)
{
    struct gnt_domain *d = gnt_domain_get(g, domid);

    memset(out, 0, sizeof(*out));
    if (!d)
        return -1;
    pthread_mutex_lock(&d->lock);
    out->rw = d->rw;
    out->ro = d->ro;
    out->len = d->len;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

int64_t tdm_gnttab_memory_offset(const struct tdm_gnttab_memory *m, const void *addr)
{
    const uint8_t *p = addr;

    if (m->rw && p >= m->rw && p < m->rw + m->len)
        return p - m->rw;
    if (m->ro && p >= m->ro && p < m->ro + m->len)
        return p - m->ro;
    return -1;
}

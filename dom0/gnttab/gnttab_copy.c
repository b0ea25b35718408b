/* Grant copy (GNTTABOP_copy in spirit): map, copy, unmap per segment, so a
 * backend can move bytes to or from a granted page without holding it. */
#include "tdm_gnttab.h"

#include <errno.h>
#include <string.h>

struct side_map {
    struct tdm_grant_map map;
    uint8_t *ptr;
};

/* Resolves one side to a pointer; grants are mapped (source read-only). */
static int open_side(struct tdm_gnttab *g, const struct tdm_gnttab_copy_side *s,
                     uint16_t len, bool is_source, struct side_map *out)
{
    int why;

    memset(out, 0, sizeof(*out));
    if (!s->is_grant) {
        if (!s->local) {
            tdm_set_error(EINVAL, "gnttab copy: %s buffer is NULL", is_source ? "source" : "dest");
            return TDM_GNT_BAD_ARG;
        }
        out->ptr = s->local;
        return TDM_GNT_OK;
    }
    if ((unsigned)s->offset + len > TDM_GNTTAB_PAGE) {
        tdm_set_error(EINVAL, "gnttab copy: dom%u ref %u: offset %u + len %u crosses the page",
                      s->domid, s->ref, s->offset, len);
        return TDM_GNT_BAD_ARG;
    }
    if (tdm_gnttab_map(g, s->domid, s->ref, is_source, &out->map, &why) < 0)
        return why;
    out->ptr = (uint8_t *)out->map.addr + s->offset;
    return TDM_GNT_OK;
}

static void close_side(struct tdm_gnttab *g, struct side_map *m)
{
    if (m->map.addr)
        tdm_gnttab_unmap(g, &m->map);
}

unsigned tdm_gnttab_copy(struct tdm_gnttab *g, struct tdm_gnttab_copy_seg *segs,
                         unsigned count)
{
    unsigned failed = 0;

    for (unsigned i = 0; i < count; i++) {
        struct tdm_gnttab_copy_seg *c = &segs[i];
        struct side_map src, dst;

        c->status = open_side(g, &c->source, c->len, true, &src);
        if (c->status == TDM_GNT_OK) {
            c->status = open_side(g, &c->dest, c->len, false, &dst);
            if (c->status == TDM_GNT_OK) {
                memmove(dst.ptr, src.ptr, c->len);
                close_side(g, &dst);
            }
            close_side(g, &src);
        }
        failed += c->status != TDM_GNT_OK;
    }
    return failed;
}

/* Grant map/unmap: the flag protocol on v1 entries.
 *
 * An entry's first word is flags | domid << 16. Dom0 checks and marks it
 * with one 32-bit compare-and-swap, so between the check and the mark the
 * guest can neither revoke the grant (its end_access CAS on flags fails
 * once GTF_reading/GTF_writing is set) nor hand it to another domain.
 * Entries are only ever touched as whole 32-bit words. */
#include "gnttab_domain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "public/grant_table.h"

#define CAS_TRIES 16   /* a guest rewriting its entry faster than this is refused */

static const struct { const char *text; int err; } reasons[TDM_GNT_REASON_COUNT] = {
    [TDM_GNT_OK]           = { "mapped", 0 },
    [TDM_GNT_NOT_GRANTED]  = { "never granted (entry is GTF_invalid)", EPERM },
    [TDM_GNT_OTHER_DOMAIN] = { "granted to another domain", EACCES },
    [TDM_GNT_READ_ONLY]    = { "write access to a read-only grant", EROFS },
    [TDM_GNT_BAD_REF]      = { "ref outside the grant table", ERANGE },
    [TDM_GNT_BAD_FRAME]    = { "granted frame outside guest RAM", EFAULT },
    [TDM_GNT_UNSUPPORTED]  = { "unsupported grant type (transitive or transfer)", EOPNOTSUPP },
    [TDM_GNT_UNSTABLE]     = { "entry kept changing during the map", EAGAIN },
    [TDM_GNT_NO_DOMAIN]    = { "domain not reachable", ESRCH },
    [TDM_GNT_NOT_MAPPED]   = { "not mapped", EINVAL },
    [TDM_GNT_BAD_ARG]      = { "bad argument", EINVAL },
};

const char *tdm_gnttab_reason(int reason)
{
    if (reason < 0 || reason >= TDM_GNT_REASON_COUNT)
        return "unknown reason";
    return reasons[reason].text;
}

/* Records a refusal: errno, message with context; returns the reason. */
__attribute__((format(printf, 4, 5)))
static int refuse(int reason, unsigned domid, uint32_t ref, const char *fmt, ...)
{
    char detail[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    tdm_set_error(reasons[reason].err, "gnttab: dom%u ref %u: %s%s%s", domid, ref,
                  tdm_gnttab_reason(reason), *detail ? ": " : "", detail);
    return reason;
}

/* Why an entry word cannot be pinned as asked, or TDM_GNT_OK. */
static int check_word(uint32_t word, bool readonly, unsigned domid, uint32_t ref)
{
    uint16_t flags = (uint16_t)word, grantee = (uint16_t)(word >> 16);

    switch (flags & GTF_type_mask) {
    case GTF_invalid:
        return refuse(TDM_GNT_NOT_GRANTED, domid, ref, "%s", "");
    case GTF_accept_transfer:
        return refuse(TDM_GNT_UNSUPPORTED, domid, ref, "GTF_accept_transfer");
    case GTF_transitive:
        return refuse(TDM_GNT_UNSUPPORTED, domid, ref, "GTF_transitive");
    }
    if (grantee != 0)
        return refuse(TDM_GNT_OTHER_DOMAIN, domid, ref, "domain %u, not 0", grantee);
    if (!readonly && (flags & GTF_readonly))
        return refuse(TDM_GNT_READ_ONLY, domid, ref, "%s", "");
    return TDM_GNT_OK;
}

/* Sets GTF_reading (and GTF_writing) if the entry still grants us access. */
static int mark_entry(uint32_t *w, bool readonly, unsigned domid, uint32_t ref)
{
    uint32_t old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    uint32_t set = GTF_reading | (readonly ? 0 : GTF_writing);

    for (int i = 0; i < CAS_TRIES; i++) {
        int why = check_word(old, readonly, domid, ref);

        if (why != TDM_GNT_OK)
            return why;
        if (__atomic_compare_exchange_n(w, &old, old | set, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return TDM_GNT_OK;
    }
    return refuse(TDM_GNT_UNSTABLE, domid, ref, "%d compare-and-swap attempts", CAS_TRIES);
}

static void clear_flags(uint32_t *w, uint32_t bits)
{
    __atomic_fetch_and(w, ~bits, __ATOMIC_RELEASE);
}

static uint8_t *page_of(struct gnt_domain *d, uint32_t frame, bool readonly)
{
    return (readonly ? d->ro : d->rw) + (size_t)frame * TDM_GNTTAB_PAGE;
}

/* Makes `ref` valid for the table, asking the VMM once if the guest may have
 * grown it. Caller holds d->lock. */
static int check_ref(struct gnt_domain *d, uint32_t ref)
{
    if (ref < d->nr_frames * GNT_ENTRIES_PER_FRAME)
        return TDM_GNT_OK;
    if (d->ctl && gnt_domain_refresh_locked(d) < 0)
        return refuse(TDM_GNT_NO_DOMAIN, d->domid, ref, "re-reading the grant table: %s",
                      tdm_last_error());
    if (ref < d->nr_frames * GNT_ENTRIES_PER_FRAME)
        return TDM_GNT_OK;
    return refuse(TDM_GNT_BAD_REF, d->domid, ref, "table has %u entries",
                  d->nr_frames * GNT_ENTRIES_PER_FRAME);
}

/* First pin of a ref: mark the entry, then read and check its frame; an
 * out-of-RAM frame undoes the mark. */
static int first_pin(struct gnt_domain *d, uint32_t ref, bool readonly, struct gnt_active *a)
{
    uint32_t *w = gnt_entry_word(d, ref);
    int why = mark_entry(w, readonly, d->domid, ref);
    uint32_t frame;

    if (why != TDM_GNT_OK)
        return why;
    frame = __atomic_load_n(gnt_entry_frame(d, ref), __ATOMIC_ACQUIRE);
    if ((uint64_t)frame >= d->ram_size / TDM_GNTTAB_PAGE) {
        clear_flags(w, GTF_reading | (readonly ? 0 : GTF_writing));
        return refuse(TDM_GNT_BAD_FRAME, d->domid, ref, "frame 0x%x, RAM has 0x%llx pages",
                      frame, (unsigned long long)(d->ram_size / TDM_GNTTAB_PAGE));
    }
    a->frame = frame;
    return TDM_GNT_OK;
}

static int map_locked(struct gnt_domain *d, uint32_t ref, bool readonly,
                      struct tdm_grant_map *out)
{
    struct gnt_active *a;
    int why = check_ref(d, ref);

    if (why != TDM_GNT_OK)
        return why;
    a = &d->active[ref];
    if (a->ro_pins == 0 && a->rw_pins == 0)
        why = first_pin(d, ref, readonly, a);
    else if (!readonly && a->rw_pins == 0)   /* upgrade: re-check, add GTF_writing */
        why = mark_entry(gnt_entry_word(d, ref), false, d->domid, ref);
    if (why != TDM_GNT_OK)
        return why;
    if (readonly)
        a->ro_pins++;
    else
        a->rw_pins++;
    *out = (struct tdm_grant_map){ page_of(d, a->frame, readonly), (uint16_t)d->domid,
                                   ref, readonly };
    return TDM_GNT_OK;
}

static int unmap_locked(struct gnt_domain *d, const struct tdm_grant_map *m)
{
    struct gnt_active *a;
    uint32_t *pins;

    if (m->ref >= d->active_cap)
        return refuse(TDM_GNT_NOT_MAPPED, d->domid, m->ref, "%s", "");
    a = &d->active[m->ref];
    pins = m->readonly ? &a->ro_pins : &a->rw_pins;
    if (*pins == 0 || m->addr != page_of(d, a->frame, m->readonly))
        return refuse(TDM_GNT_NOT_MAPPED, d->domid, m->ref, "%s",
                      m->readonly ? "(read-only)" : "(writable)");
    --*pins;
    /* Pins beyond nr_frames can only exist if the table shrank: the entry
     * is gone from the guest's view, nothing to clear. */
    if (m->ref < d->nr_frames * GNT_ENTRIES_PER_FRAME) {
        uint32_t bits = 0;

        if (a->rw_pins == 0 && !m->readonly)
            bits |= GTF_writing;
        if (a->rw_pins == 0 && a->ro_pins == 0)
            bits |= GTF_reading | GTF_writing;
        if (bits)
            clear_flags(gnt_entry_word(d, m->ref), bits);
    }
    return TDM_GNT_OK;
}

/* The domain for a map (attaching it on first use) or an unmap (never
 * attaching: nothing can be mapped in a domain that is not attached). */
static struct gnt_domain *domain_or_refuse(struct tdm_gnttab *g, unsigned domid,
                                           uint32_t ref, int *reason, bool attach)
{
    struct gnt_domain *d = attach ? gnt_domain_get(g, domid) : gnt_domain_find(g, domid);

    if (!d)
        *reason = refuse(attach ? TDM_GNT_NO_DOMAIN : TDM_GNT_NOT_MAPPED, domid, ref,
                         "%s", tdm_last_error());
    return d;
}

int tdm_gnttab_map(struct tdm_gnttab *g, unsigned domid, uint32_t ref,
                   bool readonly, struct tdm_grant_map *out, int *reason)
{
    int why = TDM_GNT_OK;
    struct gnt_domain *d = domain_or_refuse(g, domid, ref, &why, true);

    memset(out, 0, sizeof(*out));
    if (d) {
        pthread_mutex_lock(&d->lock);
        why = map_locked(d, ref, readonly, out);
        pthread_mutex_unlock(&d->lock);
    }
    if (reason)
        *reason = why;
    return why == TDM_GNT_OK ? 0 : -1;
}

int tdm_gnttab_unmap(struct tdm_gnttab *g, const struct tdm_grant_map *m)
{
    int why = TDM_GNT_OK;
    struct gnt_domain *d = domain_or_refuse(g, m->domid, m->ref, &why, false);

    if (d) {
        pthread_mutex_lock(&d->lock);
        why = unmap_locked(d, m);
        pthread_mutex_unlock(&d->lock);
    }
    return why == TDM_GNT_OK ? 0 : -1;
}

unsigned tdm_gnttab_map_batch(struct tdm_gnttab *g, unsigned domid, unsigned count,
                              const uint32_t *refs, bool readonly,
                              struct tdm_grant_map *out, int *status)
{
    int why = TDM_GNT_OK;
    struct gnt_domain *d = count ? domain_or_refuse(g, domid, refs[0], &why, true) : NULL;
    unsigned failed = 0;

    if (count && d)
        pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < count; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        status[i] = d ? map_locked(d, refs[i], readonly, &out[i]) : why;
        failed += status[i] != TDM_GNT_OK;
    }
    if (count && d)
        pthread_mutex_unlock(&d->lock);
    return failed;
}

unsigned tdm_gnttab_unmap_batch(struct tdm_gnttab *g, unsigned count,
                                const struct tdm_grant_map *maps, int *status)
{
    unsigned failed = 0;

    /* Maps may come from several domains; lock per run of one domain. */
    for (unsigned i = 0; i < count;) {
        int why = TDM_GNT_OK;
        struct gnt_domain *d = maps[i].addr ? domain_or_refuse(g, maps[i].domid, maps[i].ref,
                                                                &why, false) : NULL;
        unsigned j = i;

        if (d)
            pthread_mutex_lock(&d->lock);
        do {
            int st = TDM_GNT_OK;

            if (maps[j].addr)
                st = d ? unmap_locked(d, &maps[j]) : why;
            if (status)
                status[j] = st;
            failed += st != TDM_GNT_OK;
            j++;
        } while (j < count && d && maps[j].addr && maps[j].domid == maps[i].domid);
        if (d)
            pthread_mutex_unlock(&d->lock);
        i = j;
    }
    return failed;
}

/* Drops every pin this handle still holds, so the guests can reclaim. */
static void release_all(struct gnt_domain *d)
{
    unsigned n = d->nr_frames * GNT_ENTRIES_PER_FRAME;

    for (unsigned ref = 0; ref < n && ref < d->active_cap; ref++)
        if (d->active[ref].ro_pins || d->active[ref].rw_pins)
            clear_flags(gnt_entry_word(d, ref), GTF_reading | GTF_writing);
}

int tdm_gnttab_detach(struct tdm_gnttab *g, unsigned domid)
{
    struct gnt_domain *d = gnt_domain_take(g, domid);

    if (!d)
        return tdm_set_error(ENOENT, "gnttab: dom%u is not attached", domid);
    release_all(d);
    gnt_domain_free(d);
    return 0;
}

void tdm_gnttab_close(struct tdm_gnttab *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < g->ndoms; i++) {
        release_all(g->doms[i]);
        gnt_domain_free(g->doms[i]);
    }
    pthread_mutex_destroy(&g->lock);
    free(g->doms);
    free(g->run_dir);
    free(g);
}

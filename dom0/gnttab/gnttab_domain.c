/* Attaching a domain's memory and grant table: every number the VMM (or a
 * caller of tdm_gnttab_attach) gives is checked here before it is used to
 * compute an address. */
#include "gnttab_domain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "public/grant_table.h"

#define PAGE TDM_GNTTAB_PAGE
#define MAX_GUEST_BYTES (1ULL << 40)   /* sanity cap, far above the ABI's 3 GiB */

_Static_assert(sizeof(struct grant_entry_v1) == 8, "v1 entry is two words");
_Static_assert(offsetof(struct grant_entry_v1, domid) == 2, "domid is the high half of word 0");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "frame is word 1");

static int aligned(uint64_t v)
{
    return v % PAGE == 0;
}

static int check_layout(unsigned domid, const struct tdm_guest_memory *m)
{
    if (m->ram_size == 0 || !aligned(m->ram_size) || m->ram_size > MAX_GUEST_BYTES)
        return tdm_set_error(EPROTO, "gnttab: dom%u: bad ram_size 0x%llx", domid,
                             (unsigned long long)m->ram_size);
    if (!aligned(m->region_gpa) || !aligned(m->region_offset) || !aligned(m->region_size) ||
        m->region_size > MAX_GUEST_BYTES || m->region_offset > MAX_GUEST_BYTES ||
        m->region_gpa > MAX_GUEST_BYTES)
        return tdm_set_error(EPROTO, "gnttab: dom%u: bad platform region gpa=0x%llx offset=0x%llx size=0x%llx",
                             domid, (unsigned long long)m->region_gpa,
                             (unsigned long long)m->region_offset, (unsigned long long)m->region_size);
    if (m->region_size && (m->region_offset < m->ram_size || m->region_gpa < m->ram_size))
        return tdm_set_error(EPROTO, "gnttab: dom%u: platform region overlaps RAM", domid);
    if (m->nr_frames > TDM_GNTTAB_MAX_FRAMES)
        return tdm_set_error(EPROTO, "gnttab: dom%u: %u grant frames (max %d)", domid,
                             m->nr_frames, TDM_GNTTAB_MAX_FRAMES);
    return 0;
}

/* memfd offset of the page at `gpa`, or -1 if it is not guest memory. */
static int64_t gpa_to_offset(const struct gnt_domain *d, uint64_t gpa)
{
    if (!aligned(gpa))
        return -1;
    if (gpa < d->ram_size)
        return (int64_t)gpa;
    if (gpa >= d->region_gpa && gpa - d->region_gpa < d->region_size)
        return (int64_t)(d->region_offset + (gpa - d->region_gpa));
    return -1;
}

/* memfd offset of a page the VMM named by offset: inside guest memory. */
static int64_t checked_offset(const struct gnt_domain *d, uint64_t off)
{
    if (!aligned(off))
        return -1;
    if (off < d->ram_size)
        return (int64_t)off;
    if (off >= d->region_offset && off - d->region_offset < d->region_size)
        return (int64_t)off;
    return -1;
}

static int set_frames(struct gnt_domain *d, const struct tdm_guest_memory *m)
{
    uint8_t *frame[TDM_GNTTAB_MAX_FRAMES];
    unsigned nr = m->nr_frames;
    unsigned need = nr * GNT_ENTRIES_PER_FRAME;

    for (unsigned i = 0; i < nr; i++) {
        int64_t off = m->has_offsets ? checked_offset(d, m->frame_offset[i])
                                     : gpa_to_offset(d, m->frame_gpa[i]);

        if (off < 0)
            return tdm_set_error(EPROTO, "gnttab: dom%u: grant frame %u at gpa 0x%llx (offset 0x%llx) "
                                 "is not guest memory", d->domid, i,
                                 (unsigned long long)m->frame_gpa[i],
                                 (unsigned long long)(m->has_offsets ? m->frame_offset[i] : 0));
        frame[i] = d->rw + off;
    }
    if (need > d->active_cap) {
        struct gnt_active *grown = realloc(d->active, need * sizeof(*grown));

        if (!grown)
            return tdm_set_error(ENOMEM, "gnttab: dom%u: out of memory", d->domid);
        memset(grown + d->active_cap, 0, (need - d->active_cap) * sizeof(*grown));
        d->active = grown;
        d->active_cap = need;
    }
    memcpy(d->frame, frame, nr * sizeof(frame[0]));
    d->nr_frames = nr;
    return 0;
}

static int map_memory(struct gnt_domain *d, int memfd)
{
    uint64_t end = d->ram_size;
    struct stat st;

    if (d->region_size && d->region_offset + d->region_size > end)
        end = d->region_offset + d->region_size;
    if (fstat(memfd, &st) < 0)
        return tdm_set_error(errno, "gnttab: dom%u: fstat memfd: %s", d->domid, strerror(errno));
    if ((uint64_t)st.st_size < end)
        return tdm_set_error(EPROTO, "gnttab: dom%u: memfd has %lld bytes, layout needs %llu",
                             d->domid, (long long)st.st_size, (unsigned long long)end);
    d->len = end;
    d->rw = mmap(NULL, end, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
    if (d->rw == MAP_FAILED) {
        d->rw = NULL;
        return tdm_set_error(errno, "gnttab: dom%u: mmap: %s", d->domid, strerror(errno));
    }
    d->ro = mmap(NULL, end, PROT_READ, MAP_SHARED | MAP_NORESERVE, memfd, 0);
    if (d->ro == MAP_FAILED) {
        d->ro = NULL;
        return tdm_set_error(errno, "gnttab: dom%u: mmap: %s", d->domid, strerror(errno));
    }
    return 0;
}

void gnt_domain_free(struct gnt_domain *d)
{
    if (!d)
        return;
    if (d->rw)
        munmap(d->rw, d->len);
    if (d->ro)
        munmap(d->ro, d->len);
    tdm_ctl_close(d->ctl);
    pthread_mutex_destroy(&d->lock);
    free(d->active);
    free(d);
}

static struct gnt_domain *new_domain(unsigned domid, const struct tdm_guest_memory *m)
{
    struct gnt_domain *d;

    if (check_layout(domid, m) < 0)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d) {
        tdm_set_error(ENOMEM, "gnttab: dom%u: out of memory", domid);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->domid = domid;
    d->ram_size = m->ram_size;
    d->region_gpa = m->region_gpa;
    d->region_offset = m->region_offset;
    d->region_size = m->region_size;
    if (map_memory(d, m->memfd) < 0 || set_frames(d, m) < 0) {
        gnt_domain_free(d);
        return NULL;
    }
    return d;
}

/* ---- Talking to the VMM: the `memory` and `gnttab` replies ---- */

/* Parses "KEY=0x1000,0x2000" (frames=, offsets=) into exactly nr numbers. */
static int parse_frame_list(const char *key, const char *list, unsigned nr, uint64_t *gpa)
{
    char buf[TDM_CTL_LINE_MAX];
    unsigned n = 0;
    char *save = NULL;

    if (!list)
        return nr == 0 ? 0 : tdm_set_error(EPROTO, "reply lacks '%s='", key);
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == nr)
            return tdm_set_error(EPROTO, "%s= lists more than nr_frames=%u", key, nr);
        if (tdm_parse_u64(t, UINT64_MAX, &gpa[n]) < 0)
            return tdm_set_error(EPROTO, "%s= entry '%.30s' is not a number", key, t);
        n++;
    }
    if (n != nr)
        return tdm_set_error(EPROTO, "%s= lists %u frames, nr_frames=%u", key, n, nr);
    return 0;
}

static int query_frames(struct tdm_ctl *ctl, struct tdm_guest_memory *m)
{
    struct tdm_ctl_reply r;
    uint64_t version, nr;

    if (tdm_ctl_request(ctl, "gnttab", 0, &r) < 0)
        return -1;
    if (tdm_ctl_get_u64(&r, "version", UINT32_MAX, &version) < 0 ||
        tdm_ctl_get_u64(&r, "nr_frames", TDM_GNTTAB_MAX_FRAMES, &nr) < 0)
        return tdm_add_context("gnttab: dom%u: ", tdm_ctl_domid(ctl));
    if (version != 1 && !(version == 0 && nr == 0))
        return tdm_set_error(EOPNOTSUPP, "gnttab: dom%u: grant table version %llu (only v1)",
                             tdm_ctl_domid(ctl), (unsigned long long)version);
    m->nr_frames = (unsigned)nr;
    if (parse_frame_list("frames", tdm_ctl_get(&r, "frames"), m->nr_frames, m->frame_gpa) < 0)
        return tdm_add_context("gnttab: dom%u: ", tdm_ctl_domid(ctl));
    const char *offsets = tdm_ctl_get(&r, "offsets");
    m->has_offsets = offsets != NULL;
    if (offsets && parse_frame_list("offsets", offsets, m->nr_frames, m->frame_offset) < 0)
        return tdm_add_context("gnttab: dom%u: ", tdm_ctl_domid(ctl));
    return 0;
}

static int query_memory(struct tdm_ctl *ctl, struct tdm_guest_memory *m)
{
    struct tdm_ctl_reply r;

    if (tdm_ctl_request(ctl, "memory", 1, &r) < 0)
        return -1;
    if (tdm_ctl_get_u64(&r, "ram_size", UINT64_MAX, &m->ram_size) < 0 ||
        tdm_ctl_get_u64(&r, "region_gpa", UINT64_MAX, &m->region_gpa) < 0 ||
        tdm_ctl_get_u64(&r, "region_offset", UINT64_MAX, &m->region_offset) < 0 ||
        tdm_ctl_get_u64(&r, "region_size", UINT64_MAX, &m->region_size) < 0) {
        tdm_ctl_reply_close_fds(&r);
        return tdm_add_context("gnttab: dom%u: ", tdm_ctl_domid(ctl));
    }
    m->memfd = r.fds[0];
    return 0;
}

static struct gnt_domain *attach_via_vmm(const char *run_dir, unsigned domid)
{
    struct tdm_guest_memory m = { .memfd = -1 };
    struct gnt_domain *d = NULL;
    struct tdm_ctl *ctl = tdm_ctl_connect(run_dir, domid);

    if (!ctl)
        return NULL;
    if (query_memory(ctl, &m) == 0 && query_frames(ctl, &m) == 0)
        d = new_domain(domid, &m);
    if (m.memfd >= 0)
        close(m.memfd);              /* the mappings keep the memory */
    if (!d)
        tdm_ctl_close(ctl);
    else
        d->ctl = ctl;
    return d;
}

int gnt_domain_refresh_locked(struct gnt_domain *d)
{
    struct tdm_guest_memory m;

    if (!d->ctl)
        return 0;
    if (query_frames(d->ctl, &m) < 0)
        return -1;
    return set_frames(d, &m);
}

/* ---- The handle's list of domains ---- */

static struct gnt_domain *find_locked(struct tdm_gnttab *g, unsigned domid)
{
    for (unsigned i = 0; i < g->ndoms; i++)
        if (g->doms[i]->domid == domid)
            return g->doms[i];
    return NULL;
}

static int add_locked(struct tdm_gnttab *g, struct gnt_domain *d)
{
    struct gnt_domain **grown = realloc(g->doms, (g->ndoms + 1) * sizeof(*grown));

    if (!grown)
        return tdm_set_error(ENOMEM, "gnttab: out of memory");
    g->doms = grown;
    g->doms[g->ndoms++] = d;
    return 0;
}

static int valid_domid(unsigned domid)
{
    if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
        return tdm_set_error(EINVAL, "gnttab: domid %u is not a guest domain", domid);
    return 0;
}

struct gnt_domain *gnt_domain_get(struct tdm_gnttab *g, unsigned domid)
{
    struct gnt_domain *d;

    if (valid_domid(domid) < 0)
        return NULL;
    pthread_mutex_lock(&g->lock);
    d = find_locked(g, domid);
    if (!d) {
        d = attach_via_vmm(g->run_dir, domid);
        if (d && add_locked(g, d) < 0) {
            gnt_domain_free(d);
            d = NULL;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return d;
}

int tdm_gnttab_attach(struct tdm_gnttab *g, unsigned domid, const struct tdm_guest_memory *m)
{
    struct gnt_domain *d;
    int rc = -1;

    if (valid_domid(domid) < 0)
        return -1;
    pthread_mutex_lock(&g->lock);
    if (find_locked(g, domid))
        tdm_set_error(EEXIST, "gnttab: dom%u is already attached", domid);
    else if ((d = new_domain(domid, m)) != NULL && (rc = add_locked(g, d)) < 0)
        gnt_domain_free(d);
    pthread_mutex_unlock(&g->lock);
    return rc;
}

struct gnt_domain *gnt_domain_find(struct tdm_gnttab *g, unsigned domid)
{
    struct gnt_domain *d;

    pthread_mutex_lock(&g->lock);
    d = find_locked(g, domid);
    pthread_mutex_unlock(&g->lock);
    if (!d)
        tdm_set_error(ENOENT, "gnttab: dom%u is not attached", domid);
    return d;
}

struct gnt_domain *gnt_domain_take(struct tdm_gnttab *g, unsigned domid)
{
    struct gnt_domain *d = NULL;

    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; i < g->ndoms; i++)
        if (g->doms[i]->domid == domid) {
            d = g->doms[i];
            g->doms[i] = g->doms[--g->ndoms];
            break;
        }
    pthread_mutex_unlock(&g->lock);
    return d;
}

int tdm_gnttab_refresh(struct tdm_gnttab *g, unsigned domid)
{
    struct gnt_domain *d = gnt_domain_get(g, domid);
    int rc;

    if (!d)
        return -1;
    pthread_mutex_lock(&d->lock);
    rc = gnt_domain_refresh_locked(d);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

uint32_t *gnt_entry_word(struct gnt_domain *d, uint32_t ref)
{
    uint8_t *f = d->frame[ref / GNT_ENTRIES_PER_FRAME];

    return (uint32_t *)(void *)(f + (ref % GNT_ENTRIES_PER_FRAME) * 8);
}

uint32_t *gnt_entry_frame(struct gnt_domain *d, uint32_t ref)
{
    return gnt_entry_word(d, ref) + 1;
}

struct tdm_gnttab *tdm_gnttab_open(const char *run_dir)
{
    struct tdm_gnttab *g = calloc(1, sizeof(*g));

    if (!g || !(g->run_dir = strdup(tdm_run_dir(run_dir)))) {
        free(g);
        tdm_set_error(ENOMEM, "gnttab: out of memory");
        return NULL;
    }
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

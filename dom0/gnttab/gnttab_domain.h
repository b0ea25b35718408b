/* Internal: one guest domain as the grant library sees it — its memory
 * mapped twice (rw and ro), where its grant frames are, and the per-ref
 * pin counts. Shared by gnttab.c (map/unmap) and gnttab_copy.c. */
#ifndef TANDEM_DOM0_GNTTAB_DOMAIN_H
#define TANDEM_DOM0_GNTTAB_DOMAIN_H

#include <pthread.h>
#include <stdint.h>
#include "tdm_gnttab.h"
#include "ctl_client.h"

#define GNT_ENTRIES_PER_FRAME (TDM_GNTTAB_PAGE / 8u)

struct gnt_active {             /* dom0's use of one ref, like Xen's active entry */
    uint32_t ro_pins, rw_pins;
    uint32_t frame;             /* read once, at the first pin */
};

struct gnt_domain {
    unsigned domid;
    pthread_mutex_t lock;       /* everything below */
    uint8_t *rw, *ro;           /* the memfd, mapped read-write and read-only */
    size_t len;
    uint64_t ram_size, region_gpa, region_offset, region_size;
    unsigned nr_frames;         /* the guest's current table size */
    uint8_t *frame[TDM_GNTTAB_MAX_FRAMES];
    struct gnt_active *active;  /* active_cap entries, never shrinks */
    unsigned active_cap;
    struct tdm_ctl *ctl;        /* NULL when attached directly */
};

struct tdm_gnttab {
    char *run_dir;
    pthread_mutex_t lock;       /* doms[] */
    struct gnt_domain **doms;
    unsigned ndoms;
};

/* The attached domain, attaching through the VMM's control socket on first
 * use. NULL with tdm_last_error set. */
struct gnt_domain *gnt_domain_get(struct tdm_gnttab *g, unsigned domid);

/* Re-reads the grant-frame locations from the VMM; caller holds d->lock.
 * A domain attached directly has nothing to re-read: returns 0. */
int gnt_domain_refresh_locked(struct gnt_domain *d);

/* The attached domain or NULL (never asks the VMM: for unmaps). */
struct gnt_domain *gnt_domain_find(struct tdm_gnttab *g, unsigned domid);

/* Removes `domid` from the handle's list; NULL if it was not attached. */
struct gnt_domain *gnt_domain_take(struct tdm_gnttab *g, unsigned domid);

/* Frees a domain (all pins must be gone or abandoned). */
void gnt_domain_free(struct gnt_domain *d);

/* The 32-bit flags|domid<<16 word and the frame word of entry `ref`
 * (ref < nr_frames * GNT_ENTRIES_PER_FRAME). */
uint32_t *gnt_entry_word(struct gnt_domain *d, uint32_t ref);
uint32_t *gnt_entry_frame(struct gnt_domain *d, uint32_t ref);

#endif

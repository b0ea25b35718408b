/*
 * Grant tables, v1 (guest side).  gnttab_init() asks the VMM for the
 * table (GNTTABOP_query_size / setup_table, as many frames as the FDT's
 * `grant-frames`, default 32) and places the frames in the physmap
 * window with XENMEM_add_to_physmap(XENMAPSPACE_grant_table).
 *
 * References 0..7 are reserved as on Xen (GNTTAB_RESERVED_CONSOLE 0,
 * GNTTAB_RESERVED_XENSTORE 1); the allocator hands out 8 and above.
 *
 * Granting fills frame and domid, then a write barrier, then flags, so the
 * other end never sees a permit flag over a stale frame.  Ending access is
 * a compare-and-swap of the flags from the value we wrote to 0: it FAILS
 * (-EBUSY, entry unchanged) while the other end has the page mapped
 * (GTF_reading / GTF_writing set), as Linux and Mini-OS do; the caller
 * must keep the page and retry later.
 *
 * All functions are safe from any thread on any vCPU (an irq-safe
 * spinlock guards the free list); grant/end/free are also safe in an
 * upcall handler.  Only the *_wait allocation blocks.
 *
 * Frames are guest frame numbers (gpa >> 12).  Functions return 0 / a
 * reference, or a negative errno.
 */
#ifndef TANDEM_GUEST_GNTTAB_H
#define TANDEM_GUEST_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "kerrno.h"
/* Linux/Xen numbers kerrno.h does not list (yet) */
#ifndef ENODEV
#define ENODEV 19
#endif
#include "public/grant_table.h"

#define GNTTAB_DEFAULT_FRAMES 32
#define GNTTAB_MAX_FRAMES     256 /* what this kernel will set up at most */
#define GNTTAB_INVALID_REF    ((grant_ref_t)0xffffffffU) /* Xen's GRANT_REF_INVALID */

/* Sets up the table (needs mm, platform and the hypercall page).  0, or a
 * negative errno after printing why; the other calls then fail with -ENODEV.
 * Every driver calls it (thread context) before granting: only the first
 * call does the work, later ones return its result. */
int gnttab_init(void);
/* After a resume in a new domain: frames placed again, dom0 marks cleared. */
int gnttab_resume(void);
bool gnttab_available(void);

unsigned int gnttab_nr_frames(void);
unsigned int gnttab_nr_entries(void);   /* frames * 512 */
unsigned int gnttab_free_count(void);   /* references free to allocate */

/* ---- one reference ---- */

/* Allocates a reference and grants `domid` access to `frame`; returns the
 * reference (>= 8) or -ENOSPC / -ENODEV. */
int gnttab_grant_access(domid_t domid, uint64_t frame, bool readonly);
/* Same for the page holding the kernel virtual address `va`. */
int gnttab_grant_page(domid_t domid, const void *va, bool readonly);

/* Revokes access: 0, or -EBUSY while the other end still has the page
 * mapped (nothing changed: retry later), -EINVAL for a reference that is
 * not granted.  The reference stays allocated. */
int gnttab_end_access(grant_ref_t ref);
/* end_access, then frees the reference if that succeeded. */
int gnttab_end_access_and_free(grant_ref_t ref);
/* True while the other end has the page mapped (reading or writing). */
bool gnttab_in_use(grant_ref_t ref);

/* ---- the allocator on its own (e.g. persistent grants, ring pages) ---- */

/* One reference, not granted yet: >= 8, or -ENOSPC / -ENODEV. */
int gnttab_alloc_ref(void);
/* Returns a reference to the free list.  Refused with a message: a
 * reserved, out-of-range or already free reference (-EINVAL), one that is
 * still granted (-EBUSY: end access first). */
int gnttab_free_ref(grant_ref_t ref);

/* Fills an allocated reference: frame + domid, wmb, flags. */
void gnttab_grant_access_ref(grant_ref_t ref, domid_t domid, uint64_t frame, bool readonly);

/* ---- batches (a block frontend's ring pages and segments) ---- */

/* n references at once, all or nothing: 0 or -ENOSPC (nothing taken). */
int gnttab_alloc_refs(unsigned int n, grant_ref_t *refs);
/* Like gnttab_alloc_refs, but waits for references to be freed until
 * deadline (system time, 0 = no limit): 0, -ETIMEDOUT, or -ENOSPC if n
 * exceeds what the table could ever hold. */
int gnttab_alloc_refs_wait(unsigned int n, grant_ref_t *refs, uint64_t deadline);
void gnttab_free_refs(const grant_ref_t *refs, unsigned int n);

/* Allocates n references and grants frames[i] through refs[i]; all or
 * nothing (0 or -ENOSPC). */
int gnttab_grant_frames(domid_t domid, const uint64_t *frames, unsigned int n, bool readonly,
                        grant_ref_t *refs);
/* Ends access on each reference and, if free_refs, frees those it ended.
 * Returns how many are still in use by the other end (left granted and
 * allocated, refs[i] of those unchanged) — 0 when all are done. */
unsigned int gnttab_end_access_refs(const grant_ref_t *refs, unsigned int n, bool free_refs);

/* ---- for host unit tests ---- */

/* Runs the allocator and the entry operations over `table` (nr entries,
 * nr >= 8) instead of frames from the VMM. */
void gnttab_attach_table(struct grant_entry_v1 *table, unsigned int nr);

#endif

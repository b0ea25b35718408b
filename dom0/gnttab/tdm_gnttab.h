/* Dom0 grant-table library (the role of Xen's libxengnttab), v1 entries.
 *
 * The one place in dom0 that turns a guest frame number into a pointer.
 * Each domain's memory (its memfd, from the VMM's `memory` control request)
 * is mmap'd once per handle, twice over: read-write, and read-only for
 * read-only maps, so a backend that writes a page it may only read faults
 * instead of corrupting the guest. A map succeeds only if the guest's grant
 * entry permits domain 0 access to a frame inside its RAM; it then marks
 * the entry GTF_reading (and GTF_writing for writable maps) with one
 * compare-and-swap over flags+domid, as Xen does, so the guest cannot
 * revoke or redirect the grant while dom0 uses the page. Unmap drops the
 * marks when the last map of that ref goes.
 *
 * Pins are counted per handle: use one handle per service (the usual case
 * of one backend per device). A second process mapping the same ref is
 * not coordinated with this one.
 *
 * Every refusal has a reason (enum tdm_gnt_reason), an errno, and a
 * message in tdm_last_error() naming the domain and ref. */
#ifndef TANDEM_DOM0_TDM_GNTTAB_H
#define TANDEM_DOM0_TDM_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>
#include "tdm_error.h"

#define TDM_GNTTAB_MAX_FRAMES 64            /* per domain (the ABI offers 32) */
#define TDM_GNTTAB_PAGE 4096u

enum tdm_gnt_reason {
    TDM_GNT_OK = 0,
    TDM_GNT_NOT_GRANTED,       /* entry is GTF_invalid            EPERM      */
    TDM_GNT_OTHER_DOMAIN,      /* granted to a domain other than 0 EACCES    */
    TDM_GNT_READ_ONLY,         /* write map of a GTF_readonly grant EROFS     */
    TDM_GNT_BAD_REF,           /* ref beyond the guest's table      ERANGE    */
    TDM_GNT_BAD_FRAME,         /* frame outside the guest's RAM     EFAULT    */
    TDM_GNT_UNSUPPORTED,       /* transitive / accept_transfer      EOPNOTSUPP*/
    TDM_GNT_UNSTABLE,          /* entry kept changing under the CAS EAGAIN    */
    TDM_GNT_NO_DOMAIN,         /* cannot reach / attach the domain  ESRCH etc */
    TDM_GNT_NOT_MAPPED,        /* unmap of something not mapped     EINVAL    */
    TDM_GNT_BAD_ARG,           /* bad offset/length/domid           EINVAL    */
    TDM_GNT_REASON_COUNT
};

/* Short text for a reason ("granted to another domain", ...). */
const char *tdm_gnttab_reason(int reason);

/* Where a domain's memory and grant table are (the VMM's `memory` and
 * `gnttab` replies; docs/evtchn-gnttab.md). */
struct tdm_guest_memory {
    int memfd;                       /* borrowed; attach dups it */
    uint64_t ram_size;               /* guest RAM = memfd [0, ram_size) */
    uint64_t region_gpa, region_offset, region_size;  /* platform region */
    unsigned nr_frames;              /* grant-table frames set up so far */
    uint64_t frame_gpa[TDM_GNTTAB_MAX_FRAMES];
    /* The VMM's `offsets=`: each frame's memfd offset (a frame placed
     * outside RAM is an overlay onto a page of the platform region). When
     * has_offsets is 0 the offsets follow from frame_gpa. */
    int has_offsets;
    uint64_t frame_offset[TDM_GNTTAB_MAX_FRAMES];
};

struct tdm_gnttab;

/* run_dir as for tdm_evtchn_open. */
struct tdm_gnttab *tdm_gnttab_open(const char *run_dir);

/* Unmaps everything (dropping the guests' flags) and frees the handle. */
void tdm_gnttab_close(struct tdm_gnttab *g);

/* Attaches a domain without asking its VMM (tests; a VMM using the library
 * on itself). Maps of a domain not attached ask the VMM over the control
 * socket, once. Fails if already attached or the layout is inconsistent. */
int tdm_gnttab_attach(struct tdm_gnttab *g, unsigned domid,
                      const struct tdm_guest_memory *m);

/* Forgets a domain (it went away, or will be re-attached): drops this
 * handle's marks on its entries and unmaps its memory. No other thread
 * may be using the domain's maps; pointers into it become invalid. */
int tdm_gnttab_detach(struct tdm_gnttab *g, unsigned domid);

/* Re-reads where the grant frames are (after the guest grew its table).
 * Maps of an out-of-range ref do this by themselves, once. */
int tdm_gnttab_refresh(struct tdm_gnttab *g, unsigned domid);

struct tdm_grant_map {
    void *addr;                      /* the granted page, or NULL */
    uint16_t domid;
    uint32_t ref;
    bool readonly;
};

/* Maps one grant. Returns 0, or -1 with errno, *reason (if non-NULL) and
 * tdm_last_error() set. */
int tdm_gnttab_map(struct tdm_gnttab *g, unsigned domid, uint32_t ref,
                   bool readonly, struct tdm_grant_map *out, int *reason);

/* Drops one map. */
int tdm_gnttab_unmap(struct tdm_gnttab *g, const struct tdm_grant_map *m);

/* Maps `count` refs of one domain under one lock. status[i] = reason (0 =
 * mapped). Returns the number refused; out[i].addr is NULL for those.
 * (count == 0 is fine.) tdm_last_error() tells about the last refusal. */
unsigned tdm_gnttab_map_batch(struct tdm_gnttab *g, unsigned domid, unsigned count,
                              const uint32_t *refs, bool readonly,
                              struct tdm_grant_map *out, int *status);

/* Unmaps `count` maps (skipping addr == NULL ones). status may be NULL.
 * Returns the number that were not mapped. */
unsigned tdm_gnttab_unmap_batch(struct tdm_gnttab *g, unsigned count,
                                const struct tdm_grant_map *maps, int *status);

/* GNTTABOP_copy in spirit: each side is a grant (domid, ref, offset) or a
 * local buffer; the copy stays within one page of each grant. */
struct tdm_gnttab_copy_side {
    bool is_grant;
    uint16_t domid;
    uint32_t ref;
    uint16_t offset;                 /* within the granted page */
    void *local;                     /* when !is_grant */
};

struct tdm_gnttab_copy_seg {
    struct tdm_gnttab_copy_side source, dest;
    uint16_t len;
    int status;                      /* OUT: reason */
};

/* Performs each segment independently; returns the number that failed. */
unsigned tdm_gnttab_copy(struct tdm_gnttab *g, struct tdm_gnttab_copy_seg *segs,
                         unsigned count);

/* A domain's memory as this handle maps it: read-write and read-only
 * views of the same len bytes (guest RAM and the platform region). For
 * registering it with the kernel once (io_uring fixed buffers); it grants
 * nothing: every access must still come from a successful map, whose page
 * tdm_gnttab_memory_offset turns into an offset. Valid until the domain is
 * detached or the handle closed. */
struct tdm_gnttab_memory {
    uint8_t *rw, *ro;
    uint64_t len;
};

/* Attaches the domain if needed (as a map does). 0, or -1 with
 * tdm_last_error() set. */
int tdm_gnttab_memory(struct tdm_gnttab *g, unsigned domid, struct tdm_gnttab_memory *out);

/* Offset of addr (inside a page mapped through this handle, rw or ro)
 * from the start of the domain's memory; -1 if it is not inside it. */
int64_t tdm_gnttab_memory_offset(const struct tdm_gnttab_memory *m, const void *addr);

#endif

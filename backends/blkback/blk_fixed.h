/* io_uring fixed buffers over a domain's memory: the guest's RAM, as the
 * grant library maps it, is registered with the queue's io_uring in 2 MiB
 * chunks (each on first use, so only memory that does I/O is pinned), and
 * a request whose data is one contiguous range inside a chunk goes out as
 * READ_FIXED/WRITE_FIXED: the kernel does not look up and pin the pages
 * per request. Grant checks are unchanged: the pages were mapped through
 * tdm_gnttab first; this only turns their address into (chunk, address).
 * Per queue, used by its thread only. */
#ifndef TANDEM_BLKBACK_FIXED_H
#define TANDEM_BLKBACK_FIXED_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tdm_gnttab.h"

#define BLK_FIXED_CHUNK (2u << 20)
#define BLK_FIXED_MAX_CHUNKS 16384u   /* io_uring's limit of registered buffers */

struct blk_fixed {
    struct tdm_gnttab_memory mem;
    unsigned nchunks;              /* 0: fixed buffers are off */
    uint8_t *state;                /* per chunk: empty, registered or failed */
};

/* Sets up an empty (sparse) buffer table on `ring` for the domain's
 * memory. On failure (old kernel, no memory) fixed buffers stay off and
 * every request is vectored; `why` says why (NULL when on). */
void blk_fixed_init(struct blk_fixed *f, struct io_uring *ring, struct tdm_gnttab *g,
                    unsigned domid, const char **why);

/* For the contiguous range [addr, addr + len) of mapped guest memory: the
 * buffer index to use and, in *rw, the range's address inside the
 * registered (read-write) view; -1 if it cannot go fixed. */
int blk_fixed_lookup(struct blk_fixed *f, struct io_uring *ring, const void *addr, size_t len,
                     void **rw);

void blk_fixed_free(struct blk_fixed *f);

#endif

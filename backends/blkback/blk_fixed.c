/* io_uring fixed buffers over a domain's memory (see blk_fixed.h). */
#include "blk_fixed.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

enum { BLK_FIXED_EMPTY = 0, BLK_FIXED_REGISTERED = 1, BLK_FIXED_FAILED = 2 };

void blk_fixed_init(struct blk_fixed *f, struct io_uring *ring, struct tdm_gnttab *g,
                    unsigned domid, const char **why)
{
    uint64_t n;

    memset(f, 0, sizeof(*f));
    *why = NULL;
    if (tdm_gnttab_memory(g, domid, &f->mem) < 0 || !f->mem.rw || !f->mem.len) {
        *why = "domain memory not available";
        return;
    }
    n = (f->mem.len + BLK_FIXED_CHUNK - 1) / BLK_FIXED_CHUNK;
    if (n > BLK_FIXED_MAX_CHUNKS)
        n = BLK_FIXED_MAX_CHUNKS;  /* memory beyond the table goes vectored */
    f->state = calloc(n, 1);
    if (!f->state) {
        *why = "out of memory";
        return;
    }
    if (io_uring_register_buffers_sparse(ring, (unsigned)n) < 0) {
        free(f->state);
        f->state = NULL;
        *why = "the kernel refused a sparse buffer table";
        return;
    }
    f->nchunks = (unsigned)n;
}

/* Registers chunk c on first use; false if it cannot be. */
static bool chunk_ready(struct blk_fixed *f, struct io_uring *ring, unsigned c)
{
    if (f->state[c] == BLK_FIXED_EMPTY) {
        uint64_t start = (uint64_t)c * BLK_FIXED_CHUNK;
        uint64_t len = f->mem.len - start < BLK_FIXED_CHUNK ? f->mem.len - start : BLK_FIXED_CHUNK;
        struct iovec iov = { .iov_base = f->mem.rw + start, .iov_len = len };
        __u64 tag = 0;

        f->state[c] = io_uring_register_buffers_update_tag(ring, c, &iov, &tag, 1) == 1
                          ? BLK_FIXED_REGISTERED : BLK_FIXED_FAILED;
    }
    return f->state[c] == BLK_FIXED_REGISTERED;
}

int blk_fixed_lookup(struct blk_fixed *f, struct io_uring *ring, const void *addr, size_t len,
                     void **rw)
{
    int64_t off;
    unsigned c;

    if (!f->nchunks || !len || (off = tdm_gnttab_memory_offset(&f->mem, addr)) < 0)
        goto vectored;
    c = (unsigned)((uint64_t)off / BLK_FIXED_CHUNK);
    if (c >= f->nchunks || ((uint64_t)off + len - 1) / BLK_FIXED_CHUNK != c ||
        (uint64_t)off + len > f->mem.len || !chunk_ready(f, ring, c))
        goto vectored;
    *rw = f->mem.rw + off;
    return (int)c;
vectored:
    return -1;
}

void blk_fixed_free(struct blk_fixed *f)
{
    free(f->state);    /* the registration goes with the ring */
    memset(f, 0, sizeof(*f));
}

/* io_uring fixed buffers over a front door's memory (see blkeng_fixed.h). */
#include "blkeng_fixed.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

enum { CHUNK_EMPTY = 0, CHUNK_REGISTERED = 1, CHUNK_FAILED = 2 };

int blkeng_fixed_init(struct blkeng_fixed *f, struct io_uring *ring,
                      const struct blkeng_memory *mem, const char **why)
{
    uint64_t n;

    memset(f, 0, sizeof(*f));
    *why = NULL;
    if (!mem->base || !mem->len) {
        *why = "no memory given";
        return -1;
    }
    n = (mem->len + BLKENG_FIXED_CHUNK - 1) / BLKENG_FIXED_CHUNK;
    if (n > BLKENG_FIXED_MAX_CHUNKS)
        n = BLKENG_FIXED_MAX_CHUNKS;   /* memory beyond the table goes vectored */
    f->state = calloc(n, 1);
    if (!f->state) {
        *why = "out of memory";
        return -1;
    }
    if (io_uring_register_buffers_sparse(ring, (unsigned)n) < 0) {
        free(f->state);
        f->state = NULL;
        *why = "the kernel refused a sparse buffer table";
        return -1;
    }
    f->mem = *mem;
    f->nchunks = (unsigned)n;
    return 0;
}

/* Registers chunk c on first use; false if it cannot be. */
static bool chunk_ready(struct blkeng_fixed *f, struct io_uring *ring, unsigned c)
{
    if (f->state[c] == CHUNK_EMPTY) {
        uint64_t start = (uint64_t)c * BLKENG_FIXED_CHUNK;
        uint64_t len = f->mem.len - start < BLKENG_FIXED_CHUNK ? f->mem.len - start
                                                                : BLKENG_FIXED_CHUNK;
        struct iovec iov = { .iov_base = f->mem.base + start, .iov_len = len };
        __u64 tag = 0;

        f->state[c] = io_uring_register_buffers_update_tag(ring, c, &iov, &tag, 1) == 1
                          ? CHUNK_REGISTERED : CHUNK_FAILED;
    }
    return f->state[c] == CHUNK_REGISTERED;
}

/* Offset of addr in the memory (either view), or -1. */
static int64_t offset_of(const struct blkeng_memory *m, const void *addr)
{
    const uint8_t *p = addr;

    if (p >= m->base && p < m->base + m->len)
        return p - m->base;
    if (m->alias && p >= m->alias && p < m->alias + m->len)
        return p - m->alias;
    return -1;
}

int blkeng_fixed_lookup(struct blkeng_fixed *f, struct io_uring *ring, const void *addr,
                        size_t len, void **rw)
{
    int64_t off;
    unsigned c;

    if (!f->nchunks || !len || (off = offset_of(&f->mem, addr)) < 0)
        return -1;
    c = (unsigned)((uint64_t)off / BLKENG_FIXED_CHUNK);
    if (c >= f->nchunks || ((uint64_t)off + len - 1) / BLKENG_FIXED_CHUNK != c ||
        (uint64_t)off + len > f->mem.len || !chunk_ready(f, ring, c))
        return -1;
    *rw = f->mem.base + off;
    return (int)c;
}

void blkeng_fixed_free(struct blkeng_fixed *f)
{
    free(f->state);    /* the registration goes with the ring */
    memset(f, 0, sizeof(*f));
}

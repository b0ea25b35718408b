/* io_uring fixed buffers over the memory a front door does I/O on
 * (struct blkeng_memory: the guest's RAM as blkback maps it, or the NVMe
 * model's memfd mapping), registered in 2 MiB chunks, each on first use,
 * so only memory that does I/O is pinned. A request whose data is one
 * contiguous range inside a chunk goes out as READ_FIXED/WRITE_FIXED: the
 * kernel does not look up and pin the pages per request. The front door
 * checked the memory (blkback: grant checks) before handing the address;
 * this only turns it into (chunk, address in the registered view).
 * Internal to the engine (blkeng.c); per engine, used by its thread only. */
#ifndef TANDEM_ENGINE_BLKENG_FIXED_H
#define TANDEM_ENGINE_BLKENG_FIXED_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blkeng.h"

#define BLKENG_FIXED_CHUNK (2u << 20)
#define BLKENG_FIXED_MAX_CHUNKS 16384u   /* io_uring's limit of registered buffers */

struct blkeng_fixed {
    struct blkeng_memory mem;
    unsigned nchunks;              /* 0: fixed buffers are off */
    uint8_t *state;                /* per chunk: empty, registered or failed */
};

/* Sets up an empty (sparse) buffer table on `ring` for `mem`. 0, or -1
 * with *why (fixed buffers stay off; every request is vectored). */
int blkeng_fixed_init(struct blkeng_fixed *f, struct io_uring *ring,
                      const struct blkeng_memory *mem, const char **why);

/* For the contiguous range [addr, addr + len) of that memory (either
 * view): the buffer index to use and, in *rw, the range's address inside
 * the registered view; -1 if it cannot go fixed. */
int blkeng_fixed_lookup(struct blkeng_fixed *f, struct io_uring *ring, const void *addr,
                        size_t len, void **rw);

void blkeng_fixed_free(struct blkeng_fixed *f);

#endif

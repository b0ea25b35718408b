/*
 * Physical page allocator: one bit per page frame (1 = in use), kept in a
 * bitmap the caller provides (the kernel carves it out of the first free
 * RAM, sized for the RAM it has, so nothing large is zeroed at boot).
 * Not locked: kernel/mm.c wraps it with a lock.
 */
#ifndef TANDEM_GUEST_PAGEALLOC_H
#define TANDEM_GUEST_PAGEALLOC_H

#include <stddef.h>
#include <stdint.h>

struct pagealloc {
    uint64_t *bitmap;
    uint64_t nr_frames;  /* frames covered: [0, nr_frames) */
    uint64_t nr_free;
    uint64_t hint;       /* where the next search starts */
};

/* Bytes of bitmap needed for nr_frames frames. */
size_t pagealloc_bitmap_bytes(uint64_t nr_frames);

/* Starts with every frame in use. */
void pagealloc_init(struct pagealloc *pa, uint64_t *bitmap, uint64_t nr_frames);
/* Starts with every frame free but frame 0 (then reserve the holes): one
 * memset instead of a pass over every word. */
void pagealloc_init_free(struct pagealloc *pa, uint64_t *bitmap, uint64_t nr_frames);

/* Marks the frames of [start, end) (byte addresses, rounded inward for
 * free and outward for reserve) free or in use; clipped to nr_frames. */
void pagealloc_add_free(struct pagealloc *pa, uint64_t start, uint64_t end);
void pagealloc_reserve(struct pagealloc *pa, uint64_t start, uint64_t end);

/* Allocates n contiguous frames aligned to `align` frames (a power of
 * two); returns the physical address, or 0 when none is free (frame 0 is
 * never handed out). */
uint64_t pagealloc_alloc(struct pagealloc *pa, uint64_t n, uint64_t align);

/* Frees n frames at addr; returns -1 (and changes nothing) if any of them
 * was not in use or lies outside the map. */
int pagealloc_free(struct pagealloc *pa, uint64_t addr, uint64_t n);

#endif

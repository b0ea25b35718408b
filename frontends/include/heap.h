/*
 * A small first-fit heap (malloc/free) over memory it asks for through a
 * grow callback (the kernel's page allocator; host tests use their own).
 * Blocks are 16-byte aligned; the free list is kept in address order so
 * neighbouring free blocks merge.  Not locked: kernel/mm.c wraps it.
 */
#ifndef TANDEM_GUEST_HEAP_H
#define TANDEM_GUEST_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_ALIGN 16
#define HEAP_MAX_ALLOC (1UL << 30) /* larger requests are refused, not attempted */

struct heap_block;

/* Returns at least `bytes` (a multiple of HEAP_ALIGN) of fresh memory,
 * setting *got to the real size, or NULL. */
typedef void *(*heap_grow_fn)(void *ctx, size_t bytes, size_t *got);

struct heap {
    struct heap_block *free_list;
    heap_grow_fn grow;
    void *ctx;
    size_t bytes_in_use; /* payload + headers of allocated blocks */
    size_t bytes_total;  /* everything obtained from grow */
};

void heap_init(struct heap *h, heap_grow_fn grow, void *ctx);
void *heap_alloc(struct heap *h, size_t size);
void *heap_calloc(struct heap *h, size_t n, size_t size);
void *heap_realloc(struct heap *h, void *p, size_t size);
/* Returns -1 (and leaves the heap alone) for a pointer it did not hand
 * out or one already freed. */
int heap_free(struct heap *h, void *p);

#endif

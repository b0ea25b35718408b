/*
 * First-fit heap with an address-ordered free list (see heap.h).
 * Every block starts with a 16-byte header; an allocated block's second
 * word holds a check value so that a double or wild free is caught.
 */
#include <stdbool.h>

#include "heap.h"
#include "klib.h"

#define HEAP_MAGIC 0x7a6e64656d6f6b21ULL
#define GROW_MIN (64 * 1024)

struct heap_block {
    size_t size; /* whole block, header included */
    union {
        struct heap_block *next; /* when free */
        uint64_t check;          /* when allocated: HEAP_MAGIC ^ size */
    };
};

_Static_assert(sizeof(struct heap_block) == HEAP_ALIGN, "header keeps payload aligned");

static size_t block_size_for(size_t size)
{
    return (size + sizeof(struct heap_block) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
}

void heap_init(struct heap *h, heap_grow_fn grow, void *ctx)
{
    *h = (struct heap){ .grow = grow, .ctx = ctx };
}

/* Inserts b in address order and merges it with its free neighbours. */
static void insert_free(struct heap *h, struct heap_block *b)
{
    struct heap_block **link = &h->free_list;
    while (*link && *link < b)
        link = &(*link)->next;
    struct heap_block *next = *link;
    b->next = next;
    *link = b;
    if (next && (char *)b + b->size == (char *)next) {
        b->size += next->size;
        b->next = next->next;
    }
    if (link != &h->free_list) {
        struct heap_block *prev = (struct heap_block *)((char *)link - offsetof(struct heap_block, next));
        if ((char *)prev + prev->size == (char *)b) {
            prev->size += b->size;
            prev->next = b->next;
        }
    }
}

static bool grow(struct heap *h, size_t need)
{
    size_t got = 0;
    size_t ask = need < GROW_MIN ? GROW_MIN : need;
    void *mem = h->grow ? h->grow(h->ctx, ask, &got) : NULL;
    if (!mem || got < need || ((uintptr_t)mem & (HEAP_ALIGN - 1)))
        return false;
    struct heap_block *b = mem;
    b->size = got & ~(size_t)(HEAP_ALIGN - 1);
    h->bytes_total += b->size;
    insert_free(h, b);
    return true;
}

/* Takes `need` bytes from the first free block big enough. */
static struct heap_block *take_first_fit(struct heap *h, size_t need)
{
    for (struct heap_block **link = &h->free_list; *link; link = &(*link)->next) {
        struct heap_block *b = *link;
        if (b->size < need)
            continue;
        if (b->size - need >= 2 * sizeof(struct heap_block)) {
            struct heap_block *rest = (struct heap_block *)((char *)b + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->next;
        }
        return b;
    }
    return NULL;
}

void *heap_alloc(struct heap *h, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > HEAP_MAX_ALLOC)
        return NULL;
    size_t need = block_size_for(size);
    struct heap_block *b = take_first_fit(h, need);
    if (!b && grow(h, need))
        b = take_first_fit(h, need);
    if (!b)
        return NULL;
    b->check = HEAP_MAGIC ^ b->size;
    h->bytes_in_use += b->size;
    return b + 1;
}

void *heap_calloc(struct heap *h, size_t n, size_t size)
{
    if (size && n > HEAP_MAX_ALLOC / size)
        return NULL;
    void *p = heap_alloc(h, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static struct heap_block *header_of(void *p)
{
    if (!p || ((uintptr_t)p & (HEAP_ALIGN - 1)))
        return NULL;
    struct heap_block *b = (struct heap_block *)p - 1;
    return b->check == (HEAP_MAGIC ^ b->size) ? b : NULL;
}

int heap_free(struct heap *h, void *p)
{
    if (!p)
        return 0;
    struct heap_block *b = header_of(p);
    if (!b)
        return -1;
    h->bytes_in_use -= b->size;
    insert_free(h, b);
    return 0;
}

void *heap_realloc(struct heap *h, void *p, size_t size)
{
    if (!p)
        return heap_alloc(h, size);
    struct heap_block *b = header_of(p);
    if (!b)
        return NULL;
    size_t have = b->size - sizeof(*b);
    if (size <= have)
        return p;
    void *q = heap_alloc(h, size);
    if (!q)
        return NULL;
    memcpy(q, p, have);
    heap_free(h, p);
    return q;
}

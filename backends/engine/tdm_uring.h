/* io_uring helpers of the engines (blkeng, neteng) and their front
 * doors: ring setup with the flags that suit a single service thread, SQE
 * allocation that never fails while the kernel can take a submission,
 * user_data tagging, and the slot table that turns a CQE back into the
 * request it completes. */
#ifndef TANDEM_ENGINE_TDM_URING_H
#define TANDEM_ENGINE_TDM_URING_H

#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>

/* Sets up `ring` with at least `entries` SQEs. Tries
 * IORING_SETUP_COOP_TASKRUN first (completions run when the service
 * thread enters the kernel, no IPI) and falls back to no flags on older
 * kernels. Not SINGLE_ISSUER: rings are created by one thread and driven
 * by another. 0 or -errno. */
int tdm_uring_init(struct io_uring *ring, unsigned entries);

/* CQEs ready for a thread that polls in user space: with COOP_TASKRUN
 * completions can wait in task work until the thread enters the kernel,
 * so when the kernel flags that (IORING_SQ_TASKRUN) this enters it. */
unsigned tdm_uring_cq_ready(struct io_uring *ring);

/* An SQE, submitting what is queued first if the SQ is full. NULL only
 * if the kernel refuses the submission. */
struct io_uring_sqe *tdm_uring_sqe(struct io_uring *ring);

/* Hands every CQE there is to fn(ctx, user_data, res), in batches of up
 * to 64 (fn may queue new SQEs); returns the number of batches, 0 if
 * there was nothing. */
unsigned tdm_uring_reap(struct io_uring *ring, void (*fn)(void *ctx, uint64_t ud, int res),
                        void *ctx);

/* user_data layout: tag (8 bits) | part (8 bits) | index (48 bits). */
static inline uint64_t tdm_uring_tag(unsigned tag, unsigned part, uint64_t index)
{
    return ((uint64_t)tag << 56) | ((uint64_t)(part & 0xff) << 48) | (index & 0xffffffffffffULL);
}
static inline unsigned tdm_uring_tag_of(uint64_t ud) { return (unsigned)(ud >> 56); }
static inline unsigned tdm_uring_part_of(uint64_t ud) { return (unsigned)(ud >> 48) & 0xff; }
static inline uint64_t tdm_uring_index_of(uint64_t ud) { return ud & 0xffffffffffffULL; }

/* Tags from here up are the engines' own; a front door that puts its own
 * operations on an engine's ring (a doorbell read) uses tags below. */
#define TDM_URING_TAG_ENGINE 0x80u

/* In-flight requests by slot number (the index in user_data): a fixed
 * number of slots, a free list; full means backpressure. */
struct tdm_slots {
    void **p;
    unsigned *free;
    unsigned n, nfree;
};

static inline int tdm_slots_init(struct tdm_slots *s, unsigned n)
{
    s->p = calloc(n, sizeof(*s->p));
    s->free = calloc(n, sizeof(*s->free));
    s->n = n;
    s->nfree = 0;
    if (!s->p || !s->free)
        return -1;
    for (unsigned i = 0; i < n; i++)
        s->free[s->nfree++] = n - 1 - i;
    return 0;
}

static inline void tdm_slots_fini(struct tdm_slots *s)
{
    free(s->p);
    free(s->free);
    s->p = NULL;
    s->free = NULL;
    s->n = s->nfree = 0;
}

/* A slot holding ptr, or -1 if every slot is taken. */
static inline int tdm_slots_get(struct tdm_slots *s, void *ptr)
{
    unsigned i;

    if (!s->nfree)
        return -1;
    i = s->free[--s->nfree];
    s->p[i] = ptr;
    return (int)i;
}

/* The pointer in slot i (NULL for a free slot or an index beyond). */
static inline void *tdm_slots_at(const struct tdm_slots *s, uint64_t i)
{
    return i < s->n ? s->p[i] : NULL;
}

/* Frees slot i (which holds a pointer). */
static inline void tdm_slots_release(struct tdm_slots *s, unsigned i)
{
    s->p[i] = NULL;
    s->free[s->nfree++] = i;
}

static inline unsigned tdm_slots_used(const struct tdm_slots *s) { return s->n - s->nfree; }

#endif

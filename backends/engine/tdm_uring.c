/* io_uring helpers (see tdm_uring.h). */
#include "tdm_uring.h"

#include <errno.h>

int tdm_uring_init(struct io_uring *ring, unsigned entries)
{
    struct io_uring_params p = { 0 };
    int rc;

#if defined(IORING_SETUP_COOP_TASKRUN) && defined(IORING_SETUP_TASKRUN_FLAG)
    /* TASKRUN_FLAG: a thread that polls the CQ in user space learns from
     * IORING_SQ_TASKRUN that completions wait for a kernel entry
     * (tdm_uring_cq_ready); without it polling never sees them. */
    p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    rc = io_uring_queue_init_params(entries, ring, &p);
    if (rc != -EINVAL)
        return rc;
    p = (struct io_uring_params){ 0 };
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
    p.flags = IORING_SETUP_COOP_TASKRUN;
    rc = io_uring_queue_init_params(entries, ring, &p);
    if (rc != -EINVAL)
        return rc;
    p = (struct io_uring_params){ 0 };     /* older kernel: plain ring */
#endif
    rc = io_uring_queue_init_params(entries, ring, &p);
    return rc;
}

struct io_uring_sqe *tdm_uring_sqe(struct io_uring *ring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

    if (sqe)
        return sqe;
    if (io_uring_submit(ring) < 0)
        return NULL;
    return io_uring_get_sqe(ring);
}

unsigned tdm_uring_reap(struct io_uring *ring, void (*fn)(void *ctx, uint64_t ud, int res),
                        void *ctx)
{
    struct io_uring_cqe *cqes[64];
    unsigned n, batches = 0;

    while ((n = io_uring_peek_batch_cqe(ring, cqes, 64)) > 0) {
        batches++;
        for (unsigned k = 0; k < n; k++)
            fn(ctx, io_uring_cqe_get_data64(cqes[k]), cqes[k]->res);
        io_uring_cq_advance(ring, n);
    }
    return batches;
}

unsigned tdm_uring_cq_ready(struct io_uring *ring)
{
#ifdef IORING_SQ_TASKRUN
    if (IO_URING_READ_ONCE(*ring->sq.kflags) & IORING_SQ_TASKRUN)
        io_uring_get_events(ring);
#endif
    return io_uring_cq_ready(ring);
}

/* io_uring helpers (see tdm_uring.h). */
#include "tdm_uring.h"

#include <errno.h>

int tdm_uring_init(struct io_uring *ring, unsigned entries)
{
    struct io_uring_params p = { 0 };
    int rc;

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

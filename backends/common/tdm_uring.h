/* io_uring helpers shared by the Tandem backends (blkback now, netback
 * and consoled later): ring setup with the flags that suit a single
 * service thread, and SQE allocation that never fails while the kernel
 * can take a submission. */
#ifndef TANDEM_BACKENDS_TDM_URING_H
#define TANDEM_BACKENDS_TDM_URING_H

#include <liburing.h>
#include <stdint.h>

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

/* user_data layout: tag (8 bits) | part (8 bits) | index (48 bits). */
static inline uint64_t tdm_uring_tag(unsigned tag, unsigned part, uint64_t index)
{
    return ((uint64_t)tag << 56) | ((uint64_t)(part & 0xff) << 48) | (index & 0xffffffffffffULL);
}
static inline unsigned tdm_uring_tag_of(uint64_t ud) { return (unsigned)(ud >> 56); }
static inline unsigned tdm_uring_part_of(uint64_t ud) { return (unsigned)(ud >> 48) & 0xff; }
static inline uint64_t tdm_uring_index_of(uint64_t ud) { return ud & 0xffffffffffffULL; }

#endif

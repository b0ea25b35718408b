/* The block engine: Tandem's one storage engine, shared by its two front
 * doors (docs/blkback.md, "The block engine"):
 *   - tandem-blkback (backends/blkback): blkif rings + grants -> requests;
 *   - the emulated NVMe controller of tandem-vmm (later): submission
 *     queues + PRPs into the guest's memfd mapping -> requests.
 * It knows about a backing store and io_uring, nothing about rings,
 * grants or guests: a request is an operation, a byte offset, and host
 * iovecs the front door has already mapped (guest memory it checked).
 *
 * One engine = one io_uring = one thread: every call on an engine is made
 * by the thread that drives it (not thread-safe, no locks). A front door
 * with several queues makes one engine per queue over the same backing
 * store (struct blkeng_backing, opened once).
 *
 * Driving it (either process's loop):
 *   blkeng_submit()   queue a request (0: its `done` will be called once;
 *                     <0: refused now, no callback);
 *   blkeng_flush()    hand queued SQEs to the kernel (the engine also does
 *                     so every cfg.submit_batch requests by itself);
 *   blkeng_reap()     run the callbacks of every completion there is, on
 *                     the caller's thread;
 *   blkeng_cq_ready() completions waiting (for a loop that polls);
 *   blkeng_fd()       the io_uring fd: poll()/epoll it for POLLIN to sleep
 *                     until a completion (a sleeping thread is woken when
 *                     its completions need it to enter the kernel; the
 *                     wait may end with EINTR: reap and loop);
 *   blkeng_wait()     or sleep in io_uring itself: submit + wait for one
 *                     completion (blkback's queue threads do this).
 * A front door may put its own operations on the same io_uring
 * (blkeng_uring(); blkback reads its doorbell eventfd this way) with
 * user_data tags below TDM_URING_TAG_ENGINE (tdm_uring.h); blkeng_reap
 * hands their completions to cfg.other. */
#ifndef TANDEM_ENGINE_BLKENG_H
#define TANDEM_ENGINE_BLKENG_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "blkeng_backing.h"

#define BLKENG_SECTOR 512u             /* offsets and lengths are multiples of this */
#define BLKENG_MAX_IOV 256u            /* iovecs per request (blkif's 256 indirect segments) */

enum blkeng_op {
    BLKENG_READ,                       /* iov <- store at offset */
    BLKENG_WRITE,                      /* iov -> store at offset */
    BLKENG_FLUSH,                      /* [write iov at offset, then] fdatasync; niov 0: sync only */
    BLKENG_DISCARD,                    /* punch [offset, offset + len) (block devices: discard) */
};

struct blkeng;
struct blkeng_req;

/* Called once per accepted request, from blkeng_reap, with 0 (every byte
 * done; for FLUSH, durable), -EIO (a short transfer: the store shrank),
 * -EOPNOTSUPP (discard the store cannot do) or the kernel's -errno. The
 * request's memory is the front door's again on return. */
typedef void (*blkeng_done_fn)(void *ctx, struct blkeng_req *r, int status);

/* A request. The front door owns the memory (usually inside its own
 * per-request record, found back with container_of) and keeps it, and
 * the iovecs and the memory they point at, untouched until `done`. */
struct blkeng_req {
    enum blkeng_op op;
    uint64_t offset;                   /* bytes; multiple of BLKENG_SECTOR */
    uint64_t len;                      /* DISCARD only: bytes; others: sum of iov */
    const struct iovec *iov;           /* READ/WRITE: >= 1; FLUSH: 0..; DISCARD: none */
    unsigned niov;
    blkeng_done_fn done;
    /* the engine's (set by blkeng_submit) */
    uint64_t want_;                    /* bytes the data part must move */
    unsigned parts_left_;
    int status_;
    unsigned slot_;
};

/* Memory the front door does I/O on, registered with the io_uring as
 * fixed buffers in 2 MiB chunks, each on first use (only memory that does
 * I/O is pinned, until the engine is destroyed). base is the mapping
 * registered (writable); alias (or NULL) another mapping of the same
 * bytes, e.g. a read-only view: an address there is used as the same
 * offset in base. blkback passes the grant library's views of guest
 * memory; the NVMe model its memfd mapping. */
struct blkeng_memory {
    uint8_t *base;
    const uint8_t *alias;
    uint64_t len;
};

/* A completion of the front door's own operation (tag < TDM_URING_TAG_ENGINE). */
typedef void (*blkeng_other_fn)(void *ctx, uint64_t user_data, int res);

/* Test hook: sees every completion of a request's I/O before the engine
 * judges it (res as the kernel gave it) and returns the result to use
 * instead, e.g. -EIO (tests/unit/blkeng.c); NULL in production. */
typedef int (*blkeng_fault_fn)(void *ctx, const struct blkeng_req *r, int res);

struct blkeng_config {
    const struct blkeng_backing *backing;  /* borrowed; outlives the engine */
    unsigned depth;                    /* requests in flight at most (blkeng_submit: -EBUSY beyond) */
    unsigned extra_sqes;               /* SQ room for the front door's own operations */
    unsigned submit_batch;             /* hand SQEs to the kernel every N requests (0: 4) */
    void *ctx;                         /* passed to the callbacks */
    blkeng_other_fn other;             /* may be NULL if the front door adds nothing */
    blkeng_fault_fn fault;             /* tests only */
    const char *name;                  /* for log lines ("vbd 3/51712 queue 0") */
};

struct blkeng_stats {
    uint64_t submitted, completed, errors;
    uint64_t fixed, vectored;          /* data I/Os on fixed buffers / vectored */
    uint64_t split_submits;            /* submissions cut so adjacent requests stay apart */
    uint64_t batches;                  /* completion batches reaped */
};

/* An engine on cfg->backing. NULL with a message in err. */
struct blkeng *blkeng_create(const struct blkeng_config *cfg, char *err, size_t errlen);

/* The io_uring and its registered buffers go. Drain first
 * (blkeng_inflight() == 0): the callbacks of requests still in flight
 * are not called, and the kernel may still be finishing their I/O on the
 * front door's memory while the ring is torn down. */
void blkeng_destroy(struct blkeng *e);

/* Registers `mem` for fixed-buffer I/O (see struct blkeng_memory). 0, or
 * -1 with *why (old kernel, no memory): the engine stays on vectored I/O,
 * which is always correct. Once per engine, before the first request. */
int blkeng_use_memory(struct blkeng *e, const struct blkeng_memory *mem, const char **why);

/* Checks and queues `r`. 0: `r->done` will be called; -EBUSY (depth
 * requests in flight), -EINVAL (offset/length not sector multiples,
 * beyond the store, no iovec for READ/WRITE, more than BLKENG_MAX_IOV),
 * -EROFS (a write to a read-only store), -EAGAIN (the SQ could not be
 * submitted): refused, no callback. */
int blkeng_submit(struct blkeng *e, struct blkeng_req *r);

/* Hands queued SQEs to the kernel. */
void blkeng_flush(struct blkeng *e);

/* Runs every completion there is; true if there was any. */
bool blkeng_reap(struct blkeng *e);

/* Completions waiting (enters the kernel if they wait in task work). */
unsigned blkeng_cq_ready(struct blkeng *e);

/* Submits what is queued and sleeps until at least one completion. */
void blkeng_wait(struct blkeng *e);

unsigned blkeng_inflight(const struct blkeng *e);
int blkeng_fd(const struct blkeng *e);
struct io_uring *blkeng_uring(struct blkeng *e);
void blkeng_get_stats(const struct blkeng *e, struct blkeng_stats *out);

#endif

/*
 * blkfront: the guest's PV block frontend (Xen's vbd protocol, io/blkif.h,
 * xenstore keys and XenbusState handshake), so it works with any Xen
 * blkback as well as tandem-blkback.
 *
 * Negotiated when the backend offers them: ring-page-order (up to
 * BLKFRONT_MAX_RING_ORDER), multi-queue (up to BLKFRONT_MAX_QUEUES, one
 * ring + event channel each), persistent grants and indirect segments.
 *
 * Data buffers come from blkfront_buf_alloc(): their pages are granted
 * (writable) to the backend once and stay granted, which is what makes
 * feature-persistent free of copies and of per-request grant work.  A
 * request whose buffer is not from the pool is refused (-EINVAL).
 *
 * Request API: fill a struct blkfront_req, blkfront_submit() it (it goes on
 * the ring, not yet visible to the backend), blkfront_kick() to publish all
 * submitted requests with one RING_PUSH_REQUESTS_AND_CHECK_NOTIFY (doorbell
 * only when the backend asked for one).  Completions are consumed by
 * blkfront_poll() (no blocking) or blkfront_wait_any()/blkfront_wait()
 * (polls the ring briefly, then arms rsp_event and sleeps on the upcall).
 * A response with BLKIF_RSP_ERROR/EOPNOTSUPP completes the request with
 * that status; nothing is retried.
 *
 * Reconnect: when the backend goes to Closing/Closed while we are
 * connected (closed by the toolstack, or killed and restarted), every
 * request not answered yet is kept, the device is torn down and connected
 * again with a fresh ring, fresh grants and a fresh event channel, and the
 * kept requests are resubmitted in their original order.  Requests
 * submitted meanwhile wait and go out after them.  Callers just keep
 * waiting; if the device cannot be connected again (timeout, backend
 * gone) they complete with BLKIF_RSP_ERROR.
 *
 * Threads: all calls for one device from threads of one vCPU at a time
 * (the kernel's threads are cooperative); each queue is locked, so
 * different queues may be driven from different vCPUs.
 */
#ifndef TANDEM_GUEST_BLKFRONT_H
#define TANDEM_GUEST_BLKFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "public/event_channel.h"
#include "public/grant_table.h"
#include "public/io/blkif.h"
#include "spinlock.h"
#include "thread.h"
#include "suspend.h"
#include "xenbus.h"

#define BLKFRONT_MAX_QUEUES     4
#define BLKFRONT_MAX_RING_ORDER 4
#define BLKFRONT_MAX_SEGS       256 /* per request, with indirect segments */
#define BLKFRONT_CONNECT_TIMEOUT_NS (30ULL * 1000000000ULL)

struct blkfront;

struct blkfront_req {
    /* set by the caller */
    uint8_t op;            /* BLKIF_OP_READ, BLKIF_OP_WRITE or BLKIF_OP_FLUSH_DISKCACHE */
    unsigned int queue;    /* which ring (taken modulo the negotiated count) */
    uint64_t sector;       /* in 512-byte sectors */
    void *buf;             /* inside a blkfront_buf_alloc() area, 512-byte aligned */
    uint32_t len;          /* bytes, a multiple of 512; 0 for a flush without data */
    void (*done_fn)(struct blkfront_req *r, void *arg); /* optional; runs in poll/wait */
    void *arg;
    /* results */
    int status;            /* BLKIF_RSP_OKAY / _ERROR / _EOPNOTSUPP once done */
    bool done;
    uint64_t submit_ns;    /* set by submit */
    /* private */
    uint64_t seq;
    struct blkfront_req *next;
};

/* What the backend offered and what was negotiated. */
struct blkfront_info {
    uint64_t sectors;      /* 512-byte sectors */
    uint32_t sector_size;
    bool readonly;
    bool flush;            /* feature-flush-cache */
    bool persistent;       /* both ends use persistent grants */
    unsigned int nr_queues;
    unsigned int ring_order;
    unsigned int ring_size; /* requests per queue */
    unsigned int max_segs;  /* per request (11, or the indirect limit) */
    domid_t backend_id;
};

/* Counters (all queues), for the per-request cost breakdown. */
struct blkfront_stats {
    uint64_t submits;      /* requests put on a ring */
    uint64_t pushes;       /* blkfront_kick publishing something */
    uint64_t doorbells;    /* notifications sent to the backend */
    uint64_t upcalls;      /* notifications received */
    uint64_t responses;
    uint64_t errors;       /* responses with a status other than OKAY */
    uint64_t polls_found;  /* busy-poll rounds that found responses */
    uint64_t polls_empty;  /* busy-poll windows that ended without any */
    uint64_t sleeps;       /* waits that had to block on the upcall */
    uint64_t reconnects;
    uint64_t resubmitted;
};

/* Opens device/vbd/<id> where name is a vdev ("xvda", "xvdb", ...) or the
 * device number ("51712"), and connects it.  opts may be NULL. */
struct blkfront_opts {
    unsigned int queues;      /* wanted (0: 1) */
    unsigned int ring_order;  /* wanted (0..4; default 0 = 1 page) */
    bool no_persistent;
    bool no_indirect;
    uint64_t poll_ns;         /* longest busy-poll before sleeping (default 100 us; 1 = none) */
};
struct blkfront *blkfront_open(const char *name, const struct blkfront_opts *opts, int *err);
void blkfront_close(struct blkfront *d);

const struct blkfront_info *blkfront_info(const struct blkfront *d);
void blkfront_get_stats(const struct blkfront *d, struct blkfront_stats *out);

/* Page-aligned memory, granted to the backend for the device's lifetime. */
void *blkfront_buf_alloc(struct blkfront *d, size_t bytes);

/* 0, or -EINVAL (bad op/alignment/buffer), -ERANGE (beyond the disk),
 * -EROFS (write to a read-only disk), -E2BIG (too many segments),
 * -EAGAIN (ring full: poll and retry), -EIO (device dead). */
int blkfront_submit(struct blkfront *d, struct blkfront_req *r);
/* Publishes everything submitted; notifies the backend if it asked. */
void blkfront_kick(struct blkfront *d);
/* Consumes responses of queue q (all queues if q < 0): completes their
 * requests; returns how many. */
int blkfront_poll(struct blkfront *d, int q);
/* Waits until queue q has completed at least one request (returns how
 * many), or deadline (system time; 0 = none) passes (returns 0). */
int blkfront_wait_any(struct blkfront *d, unsigned int q, uint64_t deadline);
/* Waits for r; its status, or -ETIMEDOUT. */
int blkfront_wait(struct blkfront *d, struct blkfront_req *r, uint64_t deadline);
/* submit + kick + wait, for simple callers. */
int blkfront_rw(struct blkfront *d, uint8_t op, uint64_t sector, void *buf, uint32_t len);

/* For tests (app=blkhostile): raw access to queue 0's ring. */
blkif_front_ring_t *blkfront_raw_ring(struct blkfront *d);
/* Publishes raw requests put on queue 0 and rings the doorbell. */
void blkfront_raw_push(struct blkfront *d);
/* The grant reference of a pool page (or GNTTAB_INVALID_REF). */
grant_ref_t blkfront_buf_ref(struct blkfront *d, const void *page);
/* Responses whose id has BLKFRONT_RAW_ID set go to fn instead of a
 * request (they answer raw requests). */
#define BLKFRONT_RAW_ID (1ULL << 63)
void blkfront_set_raw_handler(struct blkfront *d,
                              void (*fn)(void *arg, const struct blkif_response *rsp), void *arg);

/* ---- the self-checking block format of the test apps ----
 * (frontends/apps/blkverify.c; blkbench writes it with verify=1).  A 4 KiB
 * block holds a magic, its own block number, a generation number and a
 * seeded pattern, closed by a 64-bit checksum over everything before it,
 * so a block that landed at the wrong place, was torn or is stale shows. */
#define BLKPAT_BLOCK 4096
void blkpat_fill(void *block, uint64_t blockno, uint64_t gen);
/* 0 = valid, 1 = never written (all zero), -1 = bad; *gen = its generation. */
int blkpat_check(const void *block, uint64_t blockno, uint64_t *gen);

/* ---- internals shared by frontends/kernel/blkfront*.c ---- */

struct blkfront_shadow {
    struct blkfront_req *req;      /* NULL: the id is free */
    void *indirect;                /* one page of segments, allocated on first use */
    grant_ref_t indirect_ref;      /* granted read-only, GNTTAB_INVALID_REF if none */
};

struct blkfront_queue {
    struct blkfront *dev;
    unsigned int index;
    struct spinlock lock;
    blkif_front_ring_t ring;
    void *ring_mem;                /* 2^order pages */
    grant_ref_t ring_ref[1U << BLKFRONT_MAX_RING_ORDER];
    evtchn_port_t port;            /* 0 while disconnected */
    struct blkfront_shadow *shadow;  /* ring_size entries */
    uint32_t *free_ids;
    unsigned int nr_free;
    bool unpushed;                 /* submitted since the last kick */
    struct waitq wq;               /* woken by the upcall */
    volatile uint64_t upcalls;
    uint64_t submits, pushes, doorbells, responses, errors;
    uint64_t polls_found, polls_empty, sleeps;
};

struct blkfront_region {
    uint8_t *base;
    size_t npages;
    grant_ref_t *refs;
    struct blkfront_region *next;
};

enum blkfront_state { BLKFRONT_CONNECTING, BLKFRONT_CONNECTED, BLKFRONT_DEAD };

struct blkfront {
    char name[16];
    char id[16];
    struct xenbus_device xb;
    struct blkfront_opts opts;
    struct blkfront_info info;
    volatile enum blkfront_state state;
    volatile bool backend_lost;    /* set by the watch: reconnect needed */
    struct waitq state_wq;         /* state changes; reconnect requests */
    struct thread *worker;         /* runs the (re)connects */
    struct blkfront_queue q[BLKFRONT_MAX_QUEUES];
    struct blkfront_region *regions;
    struct blkfront_req *pending, *pending_tail; /* waiting for a connection */
    uint64_t seq;
    uint64_t reconnects, resubmitted;
    void (*raw_fn)(void *arg, const struct blkif_response *rsp);
    void *raw_arg;
    struct resume_hook resume;     /* after a restore: reconnect (suspend.h) */
};

/* blkfront_ring.c */
int blkfront_queue_setup(struct blkfront_queue *q);     /* ring, grants, event channel */
void blkfront_queue_teardown(struct blkfront_queue *q); /* takes back what it can */
/* Moves every request in flight on q to *list (unsorted). */
void blkfront_queue_take_inflight(struct blkfront_queue *q, struct blkfront_req **list);
void blkfront_complete(struct blkfront_req *r, int status);
/* Puts r on a ring without checks (they were made at the first submit). */
int blkfront_queue_submit(struct blkfront_queue *q, struct blkfront_req *r);
/* blkfront_buf.c */
int blkfront_buf_regrant(struct blkfront *d);  /* fresh refs for every pool page */

#endif

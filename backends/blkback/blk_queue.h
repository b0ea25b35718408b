/* One queue of a virtual block device: a shared ring, its event channel,
 * and a block engine (backends/engine/blkeng.h: one io_uring) that does
 * all the I/O, served by a thread of its own. blkback is the blkif front
 * door of that engine.
 *
 * Per request: copy out of the ring, check (blk_request.c), map the
 * granted pages through the dom0 grant library (a read maps them
 * writable, a write read-only), hand the engine the operation and iovecs
 * straight on those pages, and on its completion unmap, respond, and
 * notify the frontend only if it asked (rsp_event). The kick eventfd is
 * read through the engine's io_uring; before sleeping the queue polls the
 * ring and the engine for a short, adaptive while. */
#ifndef TANDEM_BLKBACK_QUEUE_H
#define TANDEM_BLKBACK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blk_request.h"
#include "blk_ringmap.h"
#include "blkeng_backing.h"
#include "tdm_evtchn.h"
#include "tdm_gnttab.h"

struct blk_queue_config {
    unsigned domid;
    unsigned index;                /* queue number (for messages) */
    const char *name;              /* device name for messages */
    const struct blkeng_backing *backing;  /* the device's store (shared by its queues) */
    struct blk_limits lim;
    struct tdm_gnttab *gnt;
    struct tdm_evtchn *evh;
    uint32_t ring_refs[BLK_MAX_RING_PAGES];
    unsigned ring_order;
    uint32_t evtchn;               /* the frontend's port */
    bool persistent;               /* both ends use persistent grants */
    unsigned poll_us;              /* adaptive poll ceiling; 0: never poll */
    unsigned busy_poll_us;         /* poll window while I/O is in flight */
};

struct blk_queue_stats {
    uint64_t requests, refused, kicks, notifies, batches;
    uint64_t fixed, vectored;      /* the engine's: data I/Os on fixed buffers / vectored */
    uint64_t split_submits;        /* the engine's: submissions cut so adjacent requests stay apart */
};

struct blk_queue;

/* Maps the ring, binds the event channel, starts the thread. NULL with a
 * message in err on failure (nothing left mapped or bound). */
struct blk_queue *blk_queue_start(const struct blk_queue_config *cfg, char *err, size_t errlen);

/* Stops taking requests, completes and answers everything in flight,
 * then unbinds, unmaps and frees. */
void blk_queue_stop(struct blk_queue *q, struct blk_queue_stats *stats);

#endif

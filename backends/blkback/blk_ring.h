/* The backend side of a blkif ring (io/ring.h macros): taking private
 * copies of requests, queueing responses, and the event-index rules that
 * suppress notifications in both directions. */
#ifndef TANDEM_BLKBACK_RING_H
#define TANDEM_BLKBACK_RING_H

#include <stdbool.h>
#include "public/io/blkif.h"

struct blk_ring {
    blkif_back_ring_t r;
    bool broken;                   /* the frontend overran the ring */
};

/* Attaches to a shared ring of 2^order pages at `sring`, resuming at the
 * indexes the page holds (req_cons = rsp_prod_pvt = sring->rsp_prod). */
void blk_ring_attach(struct blk_ring *ring, void *sring, unsigned order);

/* Copies the next request into *out: 1 if one was taken, 0 if none (or
 * no response slot is free), -1 if the producer index is impossible
 * (more requests than the ring holds): the ring is marked broken. */
int blk_ring_take(struct blk_ring *ring, union blkif_sring_entry *out);

/* Queues a response (published by blk_ring_push). */
void blk_ring_respond(struct blk_ring *ring, uint64_t id, uint8_t op, int16_t status);

/* Publishes queued responses; true if the frontend asked to be notified
 * (its rsp_event lies in the published window). */
bool blk_ring_push(struct blk_ring *ring);

/* Before sleeping: true if requests are waiting; otherwise req_event is
 * set so the frontend's next request notifies us (checked again after). */
bool blk_ring_final_check(struct blk_ring *ring);

/* Requests waiting, without arming req_event (adaptive polling). */
bool blk_ring_has_requests(const struct blk_ring *ring);

#endif

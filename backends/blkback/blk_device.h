/* One virtual block device (/local/domain/0/backend/vbd/<fe>/<devid>):
 * its backing store, the keys it publishes, and the backend side of the
 * XenbusState handshake. Driven by the daemon's single xenstore thread;
 * the I/O runs in the device's queue threads (blk_queue.c). */
#ifndef TANDEM_BLKBACK_DEVICE_H
#define TANDEM_BLKBACK_DEVICE_H

#include <stdbool.h>
#include <xenstore.h>
#include "tdm_evtchn.h"
#include "tdm_gnttab.h"
#include "tdm_xenbus.h"

/* What the daemon offers every device. */
struct blk_options {
    bool allow_direct;             /* try O_DIRECT */
    unsigned poll_us;              /* adaptive poll ceiling per queue */
    unsigned busy_poll_us;         /* poll window while I/O is in flight */
    unsigned max_queues;           /* multi-queue-max-queues */
    unsigned max_ring_order;       /* max-ring-page-order */
};

struct blk_ctx {
    struct xs_handle *xs;
    struct tdm_gnttab *gnt;
    struct tdm_evtchn *evh;
    struct blk_options opt;
};

struct blk_device;

/* Sets the device up (backing store, features, watch on the frontend's
 * state) and runs the state machine once. NULL only when out of memory;
 * a device that cannot be served stays listed with an `error` node. */
struct blk_device *blk_device_new(struct blk_ctx *ctx, const struct tdm_xenbus_dev_event *ev);

/* The watch token this device's events carry. */
const char *blk_device_token(const struct blk_device *d);
unsigned blk_device_domid(const struct blk_device *d);

/* Re-reads the frontend's state and moves ours accordingly. */
void blk_device_update(struct blk_device *d);

/* Disconnects (in-flight requests are completed and answered) and frees.
 * closed: also switch the backend to Closed (the daemon is stopping; the
 * directory still exists). */
void blk_device_free(struct blk_device *d, bool closed);

#endif

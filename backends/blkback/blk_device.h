/* One virtual block device (/local/domain/0/backend/vbd/<fe>/<devid>):
 * its backing store, the keys it publishes, and connecting its queues.
 * The xenbus side (device table, watches, the handshake) is the backend
 * framework's (backends/common/tdm_xbback.h); this is blkback's driver
 * for it. The I/O runs in the device's queue threads (blk_queue.c). */
#ifndef TANDEM_BLKBACK_DEVICE_H
#define TANDEM_BLKBACK_DEVICE_H

#include <stdbool.h>
#include "tdm_xbback.h"

/* What the daemon offers every device (the framework's priv). */
struct blk_options {
    bool allow_direct;             /* try O_DIRECT */
    unsigned poll_us;              /* adaptive poll ceiling per queue */
    unsigned busy_poll_us;         /* poll window while I/O is in flight */
    unsigned max_queues;           /* multi-queue-max-queues */
    unsigned max_ring_order;       /* max-ring-page-order */
};

/* The vbd driver: probe opens the backing store (params, mode) and
 * publishes the keys a blkfront reads; connect maps the rings. */
extern const struct tdm_xbdrv blk_driver;

#endif

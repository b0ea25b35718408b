/* One vif (/local/domain/0/backend/vif/<fe>/<devid>): netback's driver for
 * the xenbus backend framework (backends/common/tdm_xbback.h). probe makes
 * the tap, attaches it to the bridge and publishes the features; connect
 * reads the frontend's keys (net_frontend.c) and starts a thread per queue
 * (net_queue.c); tick writes the vif's counters to its stats file and
 * reports a fatal frontend error in the `error` node. */
#ifndef TANDEM_NETBACK_DEVICE_H
#define TANDEM_NETBACK_DEVICE_H

#include "tdm_xbback.h"

struct net_options {
    unsigned max_queues;             /* multi-queue-max-queues */
    unsigned poll_us;                /* adaptive poll ceiling per queue */
    const char *stats_dir;           /* <dir>/<domid>.<devid> per vif */
};

extern const struct tdm_xbdrv net_driver;

#endif

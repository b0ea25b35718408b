/* One queue of a vif: its TX and RX rings (one granted page each), its
 * event channel(s), its tap queue fd with a network engine on it
 * (backends/engine/neteng.h: one io_uring), and the thread that moves
 * packets between them (docs/netback.md). netback is the netif front door
 * of that engine:
 *   TX (guest -> tap): packets are walked and checked (net_tx.c), their
 *     pages mapped read-only through the grant library and handed to the
 *     engine (virtio-net header + the guest's pages as iovecs, no copy),
 *     which writes them to the tap in batches; answered when the write
 *     completed.
 *   RX (tap -> guest): the engine keeps several tap reads in flight; each
 *     frame is copied into pages the guest posted, every response in the
 *     slot of its request.
 * Notifications both ways follow the rings' event indexes; the thread
 * polls briefly (adaptively) before it sleeps. */
#ifndef TANDEM_NETBACK_QUEUE_H
#define TANDEM_NETBACK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net_stats.h"
#include "tdm_evtchn.h"
#include "tdm_gnttab.h"

#define NET_MAX_QUEUES 8

struct net_queue_config {
    unsigned domid, index;
    const char *name;                /* "vif 3/0", for messages */
    struct tdm_gnttab *gnt;
    struct tdm_evtchn *evh;
    uint32_t tx_ref, rx_ref;
    uint32_t evtchn_tx, evtchn_rx;   /* equal unless split event channels */
    int tap_fd;                      /* borrowed */
    bool rx_sg;                      /* the frontend takes multi-slot RX packets */
    bool rx_gso;                     /* ... and GSO extras (we set TSO on the tap) */
    unsigned poll_us;
    struct net_stats *stats;         /* the vif's, shared by its queues */
};

struct net_queue;

/* Maps the rings, binds the ports, starts the thread. NULL with err. */
struct net_queue *net_queue_start(const struct net_queue_config *cfg, char *err, size_t errlen);

/* One line of the queue's ring indexes for the stats file (read while
 * the thread runs: a snapshot for a person reading after a stall, not a
 * consistent state). */
void net_queue_describe(const struct net_queue *q, char *buf, size_t len);

/* Completes the writes in flight, answers them, stops and frees. */
void net_queue_stop(struct net_queue *q);

#endif

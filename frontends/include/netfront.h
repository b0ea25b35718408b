/*
 * netfront: the guest's PV network frontend (Xen's vif protocol,
 * io/netif.h, its xenstore keys and the XenbusState handshake through
 * xenfront.h), so it works with tandem-netback or a Xen netback.
 *
 * One queue; split event channels (one per ring) when the backend offers
 * feature-split-event-channels, else one for both; no scatter-gather: a frame
 * is at most one page (MTU 1500).  TX: each of the 256 ids owns a page
 * granted read-only to the backend; a frame is copied into it and one
 * request posted.  RX: each of the 256 ids owns a page granted writable;
 * all are posted at connect and re-posted as soon as their frame is
 * consumed (feature-rx-notify: the backend parks frames until we post).
 * We write request-rx-copy=1, feature-rx-notify=1, feature-sg=0, no GSO,
 * feature-no-csum-offload=1 (we always send and want full checksums).
 *
 * Reconnect: when the backend leaves Connected (restarted, closed by the
 * toolstack), the rings are torn down and built again with fresh grants;
 * pages a killed backend still has marked are left granted and replaced.
 * Frames in flight then are lost (as on a real wire); callers see
 * -ENOTCONN from netfront_xmit until the device is connected again.
 *
 * Threads: one thread drives a device at a time (cooperative kernel).
 */
#ifndef TANDEM_GUEST_NETFRONT_H
#define TANDEM_GUEST_NETFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "public/event_channel.h"
#include "public/io/netif.h"
#include "thread.h"
#include "xenfront.h"

#ifndef ENOTCONN
#define ENOTCONN 107
#endif

#define NETFRONT_IDS 256           /* = slots of a one-page ring */

struct netfront_stats {
    uint64_t tx_frames, tx_busy, tx_errors;   /* tx_errors: responses not OKAY */
    uint64_t rx_frames, rx_errors, rx_bad;    /* rx_bad: responses we refused */
    uint64_t doorbells, upcalls, sleeps, reconnects;
};

struct netfront {
    char id[12];
    struct xenfront xf;
    uint8_t mac[6];
    domid_t backend_id;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    void *tx_ring_page, *rx_ring_page;
    grant_ref_t tx_ring_ref, rx_ring_ref;
    evtchn_port_t port;            /* TX (and RX without split channels) */
    evtchn_port_t port_rx;         /* = port unless split */
    bool split;                    /* feature-split-event-channels */
    void *tx_page[NETFRONT_IDS], *rx_page[NETFRONT_IDS];
    grant_ref_t tx_ref[NETFRONT_IDS], rx_ref[NETFRONT_IDS];
    bool tx_busy[NETFRONT_IDS], rx_posted[NETFRONT_IDS];
    uint16_t tx_free[NETFRONT_IDS];
    unsigned int nr_tx_free;
    uint64_t poll_ns;
    struct waitq wq;               /* woken by the upcall and by xenfront */
    volatile uint64_t upcalls;
    struct netfront_stats st;
    /* raw-response hook for app=nethostile: TX responses whose id is not
     * one of ours (>= NETFRONT_IDS) go here */
    void (*raw_tx_fn)(void *arg, const struct netif_tx_response *rsp);
    void *raw_arg;
};

/* Opens device/vif/<id> ("0") and connects it: NULL and *err on failure. */
struct netfront *netfront_open(const char *id, int *err);
void netfront_close(struct netfront *nf);
/* Hotplug (xenfront.h): waits up to timeout_ns for device/vif/<id> to be
 * written (0 or -ETIMEDOUT); netfront_detached is true once the toolstack
 * detached the vif (network-detach): the frontend is closed for good. */
int netfront_wait_present(const char *id, uint64_t timeout_ns);
bool netfront_detached(const struct netfront *nf);
bool netfront_connected(const struct netfront *nf);
/* <backend>/<node> into buf (e.g. "ip", written from the vif config). */
int netfront_backend_read(struct netfront *nf, const char *node, char *buf, size_t len);

/* Copies a frame (14..4096 bytes) onto the TX ring and publishes it.
 * 0, -EINVAL (size), -EAGAIN (no free slot: poll and retry), -ENOTCONN. */
int netfront_xmit(struct netfront *nf, const void *frame, size_t len);
typedef void (*netfront_rx_fn)(void *arg, const void *frame, size_t len);
/* Consumes TX and RX responses without blocking; each received frame is
 * handed to fn (valid during the call); its page is posted again.
 * Returns the number of frames received. */
int netfront_poll(struct netfront *nf, netfront_rx_fn fn, void *arg);
/* Until there is something to poll, the connection changed or deadline
 * (system time; 0 = none) passed: busy-polls for poll_ns, then arms the
 * rings' rsp_event and sleeps on the upcall. */
void netfront_wait(struct netfront *nf, uint64_t deadline);
void netfront_get_stats(const struct netfront *nf, struct netfront_stats *out);
/* Starts a reconnect from our side (fresh rings and grants), as after a
 * fatal error the backend reported: returns at once; netfront_connected
 * is false until it is done (reconnects counts it). */
void netfront_reconnect(struct netfront *nf);

/* For app=nethostile: raw slots on the TX ring (ids >= NETFRONT_IDS are
 * answered through fn), published with netfront_raw_push. */
netif_tx_front_ring_t *netfront_raw_tx(struct netfront *nf);
void netfront_raw_push(struct netfront *nf);
void netfront_set_raw_handler(struct netfront *nf,
                              void (*fn)(void *arg, const struct netif_tx_response *rsp),
                              void *arg);

#endif

/* A fake netfront for the netback tests and benchmark: plays domain 3 on
 * the fake VMM (tests/unit/evtchn_fake_vmm.c) with the guest memory,
 * grants and xenstore helpers of the fake blkfront (blkback_fakefront.h),
 * and does a netfront's part: the vif directories, TX and RX rings per
 * queue, one or two event channels per queue, a page per ring slot
 * (granted once, reused), and the xenstore handshake against a real
 * xenstored. Helpers return false / -1 on failure with a message in
 * nf_error() (ff_error() for the helpers of the fake blkfront). */
#ifndef TANDEM_TESTS_NETBACK_FAKEFRONT_H
#define TANDEM_TESTS_NETBACK_FAKEFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkback_fakefront.h"
#include "public/io/netif.h"

#define NF_MAX_QUEUES 4
#define NF_SLOTS 256

struct nf_queue {
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    uint32_t tx_ref, rx_ref;
    unsigned port_tx, port_rx;
    unsigned tx_frame[NF_SLOTS], rx_frame[NF_SLOTS];  /* a page per slot */
    uint32_t tx_gref[NF_SLOTS], rx_gref[NF_SLOTS];
    bool pool;
};

struct nf {
    struct ff ff;                    /* fe, be, vmm, xs, domid, devid */
    unsigned nq;
    bool split;
    /* what the frontend publishes (set before nf_connect) */
    bool sg, gso, no_rx_notify, flip;
    unsigned misplaced;              /* RX responses not in their request's slot */
    struct nf_queue q[NF_MAX_QUEUES];
};

const char *nf_error(void);

/* Toolstack part: both vif directories (vifname and bridge may be NULL). */
bool nf_create(struct nf *n, struct fake_vmm *vmm, struct xs_handle *xs, unsigned devid,
               const char *vifname, const char *bridge);

/* Fresh rings (and, the first time, the slot pages), ports from
 * first_port on, the keys; Connected; waits for the backend's Connected
 * when wait is set. */
bool nf_connect(struct nf *n, unsigned nq, bool split, unsigned first_port, bool wait);

/* Starts over after the backend went away: Initialising, wait for
 * InitWait, connect again. */
bool nf_reconnect(struct nf *n, unsigned first_port);

/* ---- TX ---- */

/* Puts a frame in `nslots` slots (its bytes split evenly, each in the
 * page of its slot), with flags on the first request; id = slot index.
 * Not pushed. false if the ring has no room. */
bool nf_tx_frame(struct nf *n, unsigned qi, const uint8_t *frame, size_t len, unsigned nslots,
                 uint16_t flags);
/* Puts any slot (hostile tests). */
void nf_tx_raw(struct nf *n, unsigned qi, const union netif_tx_slot *slot);
/* The grant of the page of the next TX slot (for raw requests). */
uint32_t nf_tx_next_gref(struct nf *n, unsigned qi);
/* Publishes and kicks if the backend asked. */
void nf_tx_push(struct nf *n, unsigned qi);
/* Collects n TX responses (or timeout); returns how many. */
unsigned nf_tx_collect(struct nf *n, unsigned qi, struct netif_tx_response *out, unsigned cnt,
                       int timeout_ms);
/* Responses collected without waiting. */
unsigned nf_tx_reap(struct nf *n, unsigned qi);

/* ---- RX ---- */

/* Posts requests until `count` are outstanding (id = slot index) and
 * kicks if the backend asked. */
void nf_rx_post(struct nf *n, unsigned qi, unsigned count);
/* One received packet into buf (following more_data and a GSO extra);
 * its length, or -1 on timeout / -2 if a response carried an error
 * (status in *status). flags of the first response in *flags. */
int nf_rx_recv(struct nf *n, unsigned qi, uint8_t *buf, size_t cap, uint16_t *flags,
               int16_t *status, int timeout_ms);

#endif

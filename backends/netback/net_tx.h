/* The one place a TX packet from the guest is checked: the request
 * walker reads a private copy of each ring slot of one packet (first
 * request, extra-info slots, further data slots) and decides, with Linux
 * netback's rules (docs/netback.md):
 *   fatal for the vif  - a producer index more than a ring ahead, a packet
 *                        claiming more slots than are posted, more than 20
 *                        slots after the first, a slot crossing its page,
 *                        a missing or unknown extra, GSO size 0 or an
 *                        unknown GSO type;
 *   drop (non-fatal)   - 19 or 20 slots after the first, a later slot larger
 *                        than what remains of the packet, a packet under 14
 *                        bytes; the whole packet is consumed and answered
 *                        XEN_NETIF_RSP_ERROR.
 * (A grant that does not check out is found when the pages are mapped and
 * is a drop too.) Also builds the virtio-net header that hands checksum
 * and segmentation to the host kernel. Pure: unit-tested and fuzzed. */
#ifndef TANDEM_NETBACK_TX_H
#define TANDEM_NETBACK_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>
#include "public/io/netif.h"

#define NET_ETH_HLEN 14
/* Linux netback's limits, on the slots already read after the first when
 * more_data asks for another: from 18 the packet is dropped (so 19 or 20
 * after the first are a drop) ... */
#define NET_TX_DROP_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* ... and from 20 the frontend is broken (a 21st after the first). */
#define NET_TX_FATAL_SLOTS 20
#define NET_TX_MAX_DATA (NET_TX_FATAL_SLOTS + 1)  /* data slots a packet can hold */
#define NET_TX_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

enum net_tx_verdict {
    NET_TX_NONE = 0,                  /* nothing posted */
    NET_TX_OK,                        /* a packet to send */
    NET_TX_DROP,                      /* consumed; answer every slot with ERROR */
    NET_TX_FATAL,                     /* disable the vif */
};

/* Where the walker reads slots from: copy(ctx, idx, out) copies ring slot
 * idx (any index; the caller masks) into *out. prod is the producer index
 * as read once by the caller. */
struct net_tx_src {
    RING_IDX cons, prod;
    unsigned ring_size;
    void (*copy)(void *ctx, RING_IDX idx, union netif_tx_slot *out);
    void *ctx;
};

struct net_tx_slot {
    uint32_t gref;
    uint16_t offset, size;            /* this slot's data */
    uint16_t id;
};

/* One packet, in ring order: data slot 0, nextra extra slots (answered
 * RSP_NULL), data slots 1..ndata-1. */
struct net_tx_pkt {
    unsigned ndata, nextra;
    unsigned consumed;                /* ring slots taken: ndata + nextra */
    uint32_t len;                     /* the packet's length */
    uint16_t flags;                   /* of the first request */
    uint16_t gso_size;
    uint8_t gso_type;                 /* XEN_NETIF_GSO_TYPE_*, NONE if no GSO extra */
    struct net_tx_slot slot[NET_TX_MAX_DATA];
};

/* Walks the packet at src->cons. On OK and DROP, pkt->consumed slots are
 * taken (DROP: pkt->slot holds the ids to answer, up to ndata); on FATAL
 * nothing is. *why says what was wrong (static text). */
enum net_tx_verdict net_tx_walk(const struct net_tx_src *src, struct net_tx_pkt *pkt,
                                const char **why);

/* The virtio-net header for the packet whose first bytes (a private copy,
 * at least what the headers need) are head[0..len): NEEDS_CSUM with the
 * L4 checksum's place for csum_blank, GSO type/size/header length for a
 * GSO extra. 0, or -1 with *why (a drop: the headers do not parse as
 * IPv4/IPv6 TCP/UDP, or GSO on something that is not TCP). */
int net_tx_vnet_hdr(const struct net_tx_pkt *pkt, const uint8_t *head, size_t len,
                    struct virtio_net_hdr *out, const char **why);

#endif

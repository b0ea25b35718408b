/*
 * PV network interface: the request/response layouts, flags and status
 * codes of Xen 4.17's public io/netif.h (the "vif" protocol), written for
 * Tandem. Xenstore keys and the handshake are in docs/netback.md.
 *
 * Two rings per queue, one page each: TX (guest -> dom0, 256 slots) and
 * RX (dom0 -> guest, 256 slots). A TX packet is a first request whose
 * size is the whole packet's, then (flag extra_info) extra-info slots,
 * then (flag more_data) further data slots. Each RX request offers one
 * granted page; its response lands in the request's own slot.
 */
#ifndef TANDEM_PUBLIC_IO_NETIF_H
#define TANDEM_PUBLIC_IO_NETIF_H

#include <stdint.h>
#include <stddef.h>
#include "ring.h"
#include "../grant_table.h"

/* A frontend may use this many slots for one packet; the backend must
 * take at least this many (XEN_NETIF_NR_SLOTS_MIN). */
#define XEN_NETIF_NR_SLOTS_MIN 18
#define XEN_NETIF_MAX_TX_SIZE  0xFFFF

/* TX request flags. */
#define XEN_NETTXF_csum_blank     (1u << 0)  /* L4 checksum still to be computed */
#define XEN_NETTXF_data_validated (1u << 1)  /* checksum known good */
#define XEN_NETTXF_more_data      (1u << 2)  /* another data slot follows */
#define XEN_NETTXF_extra_info     (1u << 3)  /* an extra-info slot follows */

struct netif_tx_request {
    grant_ref_t gref;
    uint16_t offset;                     /* of the data in the page */
    uint16_t flags;                      /* XEN_NETTXF_* */
    uint16_t id;                         /* echoed in the response */
    uint16_t size;                       /* first slot: the packet's; later: this slot's */
};

/* Extra-info slot types. */
#define XEN_NETIF_EXTRA_TYPE_NONE      0
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_HASH      4
#define XEN_NETIF_EXTRA_TYPE_XDP       5
#define XEN_NETIF_EXTRA_TYPE_MAX       6

#define XEN_NETIF_EXTRA_FLAG_MORE (1u << 0)  /* another extra slot follows */

#define XEN_NETIF_GSO_TYPE_NONE  0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

struct netif_extra_info {
    uint8_t type;                        /* XEN_NETIF_EXTRA_TYPE_* */
    uint8_t flags;                       /* XEN_NETIF_EXTRA_FLAG_* */
    union {
        struct {
            uint16_t size;               /* MSS */
            uint8_t type;                /* XEN_NETIF_GSO_TYPE_* */
            uint8_t pad;
            uint16_t features;
        } gso;
        struct {
            uint8_t addr[6];
        } mcast;
        uint16_t pad[3];
    } u;
};

struct netif_tx_response {
    uint16_t id;
    int16_t status;                      /* XEN_NETIF_RSP_* */
};

struct netif_rx_request {
    uint16_t id;                         /* echoed in the response */
    uint16_t pad;
    grant_ref_t gref;                    /* a writable page for the data */
};

/* RX response flags. */
#define XEN_NETRXF_data_validated (1u << 0)
#define XEN_NETRXF_csum_blank     (1u << 1)
#define XEN_NETRXF_more_data      (1u << 2)  /* the packet continues in the next slot */
#define XEN_NETRXF_extra_info     (1u << 3)  /* the next slot is an extra-info one */
#define XEN_NETRXF_gso_prefix     (1u << 4)

struct netif_rx_response {
    uint16_t id;
    uint16_t offset;                     /* of the data in the page */
    uint16_t flags;                      /* XEN_NETRXF_* */
    int16_t status;                      /* > 0: bytes in this slot; else XEN_NETIF_RSP_* */
};

#define XEN_NETIF_RSP_DROPPED -2
#define XEN_NETIF_RSP_ERROR   -1
#define XEN_NETIF_RSP_OKAY     0
#define XEN_NETIF_RSP_NULL     1             /* the response of an extra-info slot */

/* A TX ring slot holds a request or an extra-info record. */
union netif_tx_slot {
    struct netif_tx_request req;
    struct netif_extra_info extra;
};

DEFINE_RING_TYPES(netif_tx, struct netif_tx_request, struct netif_tx_response);
DEFINE_RING_TYPES(netif_rx, struct netif_rx_request, struct netif_rx_response);

#define NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, XEN_PAGE_SIZE)
#define NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, XEN_PAGE_SIZE)

_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request is 12 bytes");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response is 4 bytes");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request is 8 bytes");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response is 8 bytes");
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info is 8 bytes");
_Static_assert(offsetof(struct netif_extra_info, u.gso.type) == 4, "gso type at 4");
_Static_assert(sizeof(union netif_tx_sring_entry) == 12, "a TX slot is 12 bytes");
_Static_assert(NETIF_TX_RING_SIZE == 256, "256 TX slots in one page");
_Static_assert(NETIF_RX_RING_SIZE == 256, "256 RX slots in one page");

#endif

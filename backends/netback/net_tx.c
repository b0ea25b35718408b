/* TX packet checks (see net_tx.h). */
#include "net_tx.h"

#include <string.h>

static bool extra_known(uint8_t type)
{
    return type > XEN_NETIF_EXTRA_TYPE_NONE && type < XEN_NETIF_EXTRA_TYPE_MAX;
}

/* The extra-info slots after the first request. -1 fatal. */
static int walk_extras(const struct net_tx_src *src, RING_IDX *idx, unsigned posted,
                       struct net_tx_pkt *pkt, const char **why)
{
    union netif_tx_slot s;

    do {
        if (pkt->consumed >= posted) {
            *why = "missing extra info";
            return -1;
        }
        if (pkt->nextra == NET_TX_MAX_EXTRAS) {
            *why = "more extra info slots than there are types";
            return -1;
        }
        src->copy(src->ctx, (*idx)++, &s);
        pkt->consumed++;
        pkt->nextra++;
        if (!extra_known(s.extra.type)) {
            *why = "unknown extra info type";
            return -1;
        }
        if (s.extra.type == XEN_NETIF_EXTRA_TYPE_GSO) {
            if (s.extra.u.gso.size == 0) {
                *why = "GSO size 0";
                return -1;
            }
            if (s.extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                s.extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
                *why = "unknown GSO type";
                return -1;
            }
            pkt->gso_size = s.extra.u.gso.size;
            pkt->gso_type = s.extra.u.gso.type;
        }
        /* multicast control, hash, XDP: not offered, carried and ignored */
    } while (s.extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    return 0;
}

enum net_tx_verdict net_tx_walk(const struct net_tx_src *src, struct net_tx_pkt *pkt,
                                const char **why)
{
    RING_IDX idx = src->cons;
    unsigned posted = src->prod - src->cons;
    union netif_tx_slot s;
    uint32_t remaining;
    bool drop = false;
    bool more;

    memset(pkt, 0, sizeof(*pkt));
    *why = NULL;
    if (posted == 0)
        return NET_TX_NONE;
    if (posted > src->ring_size) {
        *why = "producer index more than a ring ahead";
        return NET_TX_FATAL;
    }
    src->copy(src->ctx, idx++, &s);
    pkt->consumed = 1;
    pkt->ndata = 1;
    pkt->flags = s.req.flags;
    pkt->len = s.req.size;
    pkt->slot[0] = (struct net_tx_slot){ s.req.gref, s.req.offset, 0, s.req.id };
    if ((s.req.flags & XEN_NETTXF_extra_info) && walk_extras(src, &idx, posted, pkt, why) < 0)
        return NET_TX_FATAL;
    remaining = s.req.size;
    more = s.req.flags & XEN_NETTXF_more_data;
    while (more) {
        unsigned after_first = pkt->ndata - 1;

        if (pkt->consumed >= posted) {
            *why = "packet claims more slots than are posted";
            return NET_TX_FATAL;
        }
        if (after_first >= NET_TX_FATAL_SLOTS) {
            *why = "more than 20 slots after the first";
            return NET_TX_FATAL;
        }
        if (!drop && after_first >= NET_TX_DROP_SLOTS) {
            *why = "19 or 20 slots after the first";
            drop = true;
        }
        src->copy(src->ctx, idx++, &s);
        pkt->consumed++;
        pkt->slot[pkt->ndata++] = (struct net_tx_slot){ s.req.gref, s.req.offset, s.req.size,
                                                        s.req.id };
        if (!drop && s.req.size > remaining) {
            *why = "a later slot is larger than what remains of the packet";
            drop = true;
        }
        if (!drop)
            remaining -= s.req.size;
        if ((uint32_t)s.req.offset + s.req.size > XEN_PAGE_SIZE) {
            *why = "a slot crosses its page";
            return NET_TX_FATAL;
        }
        more = s.req.flags & XEN_NETTXF_more_data;
    }
    /* The first slot holds what the later ones do not. */
    pkt->slot[0].size = drop ? 0 : (uint16_t)remaining;
    if ((uint32_t)pkt->slot[0].offset + pkt->slot[0].size > XEN_PAGE_SIZE) {
        *why = "a slot crosses its page";
        return NET_TX_FATAL;
    }
    if (drop)
        return NET_TX_DROP;
    if (pkt->len < NET_ETH_HLEN) {
        *why = "packet under 14 bytes";
        return NET_TX_DROP;
    }
    return NET_TX_OK;
}

/* ---- offloads ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* L4 protocol and offset from the Ethernet header; -1 if not IPv4/IPv6. */
static int l4_of(const uint8_t *h, size_t len, unsigned *proto, bool *v6)
{
    uint16_t type;

    if (len < NET_ETH_HLEN)
        return -1;
    type = be16(h + 12);
    if (type == 0x0800) {
        unsigned ihl;

        if (len < NET_ETH_HLEN + 20 || (h[14] >> 4) != 4)
            return -1;
        ihl = (h[14] & 15u) * 4;
        if (ihl < 20 || len < NET_ETH_HLEN + ihl)
            return -1;
        *proto = h[14 + 9];
        *v6 = false;
        return (int)(NET_ETH_HLEN + ihl);
    }
    if (type == 0x86DD) {
        if (len < NET_ETH_HLEN + 40 || (h[14] >> 4) != 6)
            return -1;
        *proto = h[14 + 6];             /* extension headers: not parsed */
        *v6 = true;
        return NET_ETH_HLEN + 40;
    }
    return -1;
}

int net_tx_vnet_hdr(const struct net_tx_pkt *pkt, const uint8_t *head, size_t len,
                    struct virtio_net_hdr *out, const char **why)
{
    bool gso = pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE;
    unsigned proto = 0;
    bool v6 = false;
    int l4;

    memset(out, 0, sizeof(*out));
    if (len > pkt->len)
        len = pkt->len;
    if (!(pkt->flags & XEN_NETTXF_csum_blank) && !gso) {
        if (pkt->flags & XEN_NETTXF_data_validated)
            out->flags = VIRTIO_NET_HDR_F_DATA_VALID;
        return 0;
    }
    l4 = l4_of(head, len, &proto, &v6);
    if (l4 < 0) {
        *why = "checksum offload on a packet that is not IPv4 or IPv6";
        return -1;
    }
    out->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    out->csum_start = (uint16_t)l4;
    if (proto == 6) {
        unsigned thl;

        if (len < (size_t)l4 + 20 || (thl = (head[l4 + 12] >> 4) * 4u) < 20) {
            *why = "truncated TCP header";
            return -1;
        }
        out->csum_offset = 16;
        if (gso) {
            if (v6 != (pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6)) {
                *why = "GSO type does not match the IP version";
                return -1;
            }
            out->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
            out->gso_size = pkt->gso_size;
            out->hdr_len = (uint16_t)(l4 + thl);
        }
        return 0;
    }
    if (proto == 17 && !gso) {
        if (len < (size_t)l4 + 8) {
            *why = "truncated UDP header";
            return -1;
        }
        out->csum_offset = 6;
        return 0;
    }
    *why = gso ? "GSO on a packet that is not TCP" : "checksum offload on a packet that is not TCP or UDP";
    return -1;
}

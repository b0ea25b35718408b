/* libFuzzer target: the netback TX request walker (net_tx_walk) and the
 * offload header (net_tx_vnet_hdr) on arbitrary ring contents. The input
 * is 4 bytes of (cons, posted) and then the ring's 256 slots of 12 bytes;
 * the walker is run until it stops, as the queue thread does. Beyond "no
 * crash, no UB", every verdict is checked against the rules it was given
 * under: nothing read outside the posted slots, every accepted packet's
 * slots within their pages and adding up to its length. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_tx.h"

#define SLOTS 256

struct ring {
    union netif_tx_slot slot[SLOTS];
    RING_IDX cons, prod;
};

static void copy_slot(void *ctx, RING_IDX idx, union netif_tx_slot *out)
{
    struct ring *r = ctx;

    if (idx - r->cons >= r->prod - r->cons)   /* outside what was posted */
        abort();
    *out = r->slot[idx % SLOTS];
}

static void verify_ok(const struct net_tx_pkt *p)
{
    uint32_t sum = 0;

    if (p->ndata == 0 || p->ndata > NET_TX_MAX_DATA || p->consumed != p->ndata + p->nextra)
        abort();
    if (p->ndata - 1 > NET_TX_FATAL_SLOTS || p->len < NET_ETH_HLEN)
        abort();
    for (unsigned s = 0; s < p->ndata; s++) {
        if ((uint32_t)p->slot[s].offset + p->slot[s].size > XEN_PAGE_SIZE)
            abort();
        sum += p->slot[s].size;
    }
    if (sum != p->len)
        abort();
    if (p->gso_type != XEN_NETIF_GSO_TYPE_NONE && p->gso_size == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ring r;
    uint16_t cons, posted;

    if (size < 4)
        return 0;
    memcpy(&cons, data, 2);
    memcpy(&posted, data + 2, 2);
    data += 4;
    size -= 4;
    memset(&r, 0, sizeof(r));
    memcpy(r.slot, data, size < sizeof(r.slot) ? size : sizeof(r.slot));
    r.cons = (RING_IDX)cons * 977u;           /* exercise index wrap-around */
    r.prod = r.cons + (posted % 300u);
    for (;;) {
        struct net_tx_src src = { .cons = r.cons, .prod = r.prod, .ring_size = SLOTS,
                                  .copy = copy_slot, .ctx = &r };
        struct net_tx_pkt pkt;
        struct virtio_net_hdr h;
        uint8_t head[192];
        const char *why;
        enum net_tx_verdict v = net_tx_walk(&src, &pkt, &why);

        if (v == NET_TX_NONE || v == NET_TX_FATAL) {
            if (v == NET_TX_FATAL && !why)
                abort();
            break;
        }
        if (pkt.consumed == 0 || pkt.consumed > r.prod - r.cons)
            abort();
        if (v == NET_TX_OK) {
            verify_ok(&pkt);
            memset(head, 0, sizeof(head));
            memcpy(head, data + (size > sizeof(head) ? size - sizeof(head) : 0),
                   size < sizeof(head) ? size : sizeof(head));
            if (net_tx_vnet_hdr(&pkt, head, sizeof(head), &h, &why) == 0 &&
                (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
                (unsigned)h.csum_start + h.csum_offset + 2 > sizeof(head))
                abort();
        } else if (!why) {
            abort();
        }
        r.cons += pkt.consumed;
    }
    return 0;
}

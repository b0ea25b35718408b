/* ARP for IPv4 over Ethernet (RFC 826): answers for our address, learns
 * the sender of requests for us and of replies, resolves on request. */
#include "net.h"
#include "klib.h"

#define ARP_LEN 28

static struct net_arp_entry *find(struct net_stack *st, uint32_t ip)
{
    for (unsigned int i = 0; i < NET_ARP_SLOTS; i++)
        if (st->arp[i].ip == ip)
            return &st->arp[i];
    return NULL;
}

/* Updates an entry; with create, takes a free or the least recently used one. */
static void learn(struct net_stack *st, uint32_t ip, const uint8_t *mac, bool create)
{
    struct net_arp_entry *e = find(st, ip);
    if (!e && !create)
        return;
    if (!e) {
        e = &st->arp[0];
        for (unsigned int i = 0; i < NET_ARP_SLOTS; i++) {
            if (!st->arp[i].ip) {
                e = &st->arp[i];
                break;
            }
            if (st->arp[i].used < e->used)
                e = &st->arp[i];
        }
        e->ip = ip;
        st->stats.arp_learned++;
    }
    memcpy(e->mac, mac, 6);
    e->used = ++st->arp_clock;
}

int net_arp_lookup(struct net_stack *st, uint32_t ip, uint8_t mac[6])
{
    struct net_arp_entry *e = ip ? find(st, ip) : NULL;
    if (!e)
        return -1;
    e->used = ++st->arp_clock;
    memcpy(mac, e->mac, 6);
    return 0;
}

bool net_on_link(const struct net_stack *st, uint32_t ip)
{
    return ip != st->ip && (ip & st->mask) == (st->ip & st->mask) && ip != 0;
}

static int send_arp(struct net_stack *st, uint16_t op, const uint8_t *tha, uint32_t tpa,
                    const uint8_t *eth_dst)
{
    uint8_t frame[64];
    uint8_t *a = frame + NET_ETH_HLEN;
    net_put16(a, 1);               /* Ethernet */
    net_put16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    net_put16(a + 6, op);
    memcpy(a + 8, st->mac, 6);
    net_put32(a + 14, st->ip);
    memcpy(a + 18, tha, 6);
    net_put32(a + 24, tpa);
    return net_eth_output(st, frame, eth_dst, ETH_P_ARP, ARP_LEN);
}

int net_arp_request(struct net_stack *st, uint32_t ip)
{
    static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    return send_arp(st, 1, zero, ip, bcast);
}

void net_arp_input(struct net_stack *st, const uint8_t *a, size_t len)
{
    if (len < ARP_LEN || net_get16(a) != 1 || net_get16(a + 2) != ETH_P_IP || a[4] != 6 ||
        a[5] != 4) {
        st->stats.rx_bad++;
        return;
    }
    uint16_t op = net_get16(a + 6);
    uint32_t spa = net_get32(a + 14), tpa = net_get32(a + 24);
    const uint8_t *sha = a + 8;
    bool for_us = tpa == st->ip && st->ip;
    if ((op != 1 && op != 2) || (sha[0] & 1)) {
        st->stats.rx_bad++;
        return;
    }
    if (spa && spa != st->ip)
        learn(st, spa, sha, for_us);
    if (op == 1 && for_us && send_arp(st, 2, sha, spa, sha) == 0)
        st->stats.arp_replies_sent++;
    if (!for_us)
        st->stats.rx_not_ours++;
}

/* IPv4 (no fragments, no options sent) and ICMP echo replies. */
#include "net.h"
#include "klib.h"

#define IP_HLEN 20
#define PROTO_ICMP 1
#define PROTO_UDP 17

size_t net_ip_header(struct net_stack *st, uint8_t *frame, uint8_t proto, uint32_t dst,
                     size_t payload_len)
{
    uint8_t *h = frame + NET_ETH_HLEN;
    h[0] = 0x45;
    h[1] = 0;
    net_put16(h + 2, (uint16_t)(IP_HLEN + payload_len));
    net_put16(h + 4, st->ip_id++);
    net_put16(h + 6, 0x4000);      /* DF */
    h[8] = 64;
    h[9] = proto;
    net_put16(h + 10, 0);
    net_put32(h + 12, st->ip);
    net_put32(h + 16, dst);
    net_put16(h + 10, net_csum_fold(net_csum_add(0, h, IP_HLEN)));
    return IP_HLEN + payload_len;
}

static void icmp_input(struct net_stack *st, const uint8_t *ip, size_t hlen, const uint8_t *p,
                       size_t len)
{
    if (len < 8 || net_csum_fold(net_csum_add(0, p, len)) != 0) {
        st->stats.rx_bad++;
        return;
    }
    if (p[0] != 8 || p[1] != 0) {  /* only echo requests are served */
        st->stats.rx_unknown++;
        return;
    }
    uint32_t src = net_get32(ip + 12);
    uint8_t mac[6];
    /* Answer through the sender's MAC (learnt from the frame would need
     * the Ethernet header: the ARP cache has it after the ARP exchange). */
    if (net_arp_lookup(st, src, mac) < 0) {
        net_arp_request(st, src);
        st->stats.rx_unknown++;
        return;
    }
    (void)hlen;
    uint8_t frame[NET_FRAME_MAX];
    uint8_t *r = frame + NET_ETH_HLEN + IP_HLEN;
    memcpy(r, p, len);
    r[0] = 0;
    net_put16(r + 2, 0);
    net_put16(r + 2, net_csum_fold(net_csum_add(0, r, len)));
    size_t n = net_ip_header(st, frame, PROTO_ICMP, src, len);
    if (net_eth_output(st, frame, mac, ETH_P_IP, n) == 0)
        st->stats.icmp_echo_replies++;
}

void net_ip_input(struct net_stack *st, const uint8_t *h, size_t len)
{
    if (len < IP_HLEN || (h[0] >> 4) != 4) {
        st->stats.rx_bad++;
        return;
    }
    size_t hlen = (size_t)(h[0] & 15) * 4, tot = net_get16(h + 2);
    if (hlen < IP_HLEN || hlen > len || tot < hlen || tot > len ||
        net_csum_fold(net_csum_add(0, h, hlen)) != 0 || (net_get16(h + 6) & 0x3fff) != 0) {
        st->stats.rx_bad++;            /* lengths, checksum, MF or an offset */
        return;
    }
    uint32_t dst = net_get32(h + 16), src = net_get32(h + 12);
    if (dst != st->ip && dst != 0xffffffffu && dst != (st->ip | ~st->mask)) {
        st->stats.rx_not_ours++;
        return;
    }
    const uint8_t *p = h + hlen;
    size_t plen = tot - hlen;          /* Ethernet padding beyond tot is ignored */
    if (h[9] == PROTO_ICMP && dst == st->ip)
        icmp_input(st, h, hlen, p, plen);
    else if (h[9] == PROTO_UDP)
        net_udp_input(st, src, dst, p, plen);
    else
        st->stats.rx_unknown++;
}

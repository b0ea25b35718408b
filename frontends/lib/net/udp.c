/* UDP: checked input into per-port queues, and sending. */
#include "net.h"
#include "klib.h"

#define UDP_HLEN 8

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t len)
{
    uint8_t ph[12];
    net_put32(ph, src);
    net_put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = 17;
    net_put16(ph + 10, (uint16_t)len);
    return net_csum_add(0, ph, sizeof(ph));
}

int udp_bind(struct net_stack *st, struct udp_sock *s, uint16_t port, struct udp_dgram *q,
             unsigned int cap)
{
    for (struct udp_sock *o = st->socks; o; o = o->next)
        if (o->port == port)
            return -1;
    s->port = port;
    s->q = q;
    s->cap = cap;
    s->head = s->count = 0;
    s->drops = 0;
    s->next = st->socks;
    st->socks = s;
    return 0;
}

void udp_unbind(struct net_stack *st, struct udp_sock *s)
{
    for (struct udp_sock **pp = &st->socks; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

const struct udp_dgram *udp_peek(const struct udp_sock *s)
{
    return s->count ? &s->q[s->head] : NULL;
}

void udp_pop(struct udp_sock *s)
{
    if (!s->count)
        return;
    s->head = (s->head + 1) % s->cap;
    s->count--;
}

void net_udp_input(struct net_stack *st, uint32_t src, uint32_t dst, const uint8_t *p, size_t len)
{
    if (len < UDP_HLEN) {
        st->stats.rx_bad++;
        return;
    }
    size_t ulen = net_get16(p + 4);
    if (ulen < UDP_HLEN || ulen > len || ulen - UDP_HLEN > NET_UDP_MAX) {
        st->stats.rx_bad++;
        return;
    }
    if (net_get16(p + 6) != 0 &&
        net_csum_fold(net_csum_add(pseudo_sum(src, dst, ulen), p, ulen)) != 0) {
        st->stats.rx_bad++;
        return;
    }
    uint16_t port = net_get16(p + 2);
    struct udp_sock *s = st->socks;
    while (s && s->port != port)
        s = s->next;
    if (!s) {
        st->stats.udp_no_port++;
        return;
    }
    if (s->count == s->cap) {
        s->drops++;
        st->stats.udp_queue_full++;
        return;
    }
    struct udp_dgram *d = &s->q[(s->head + s->count) % s->cap];
    d->src_ip = src;
    d->src_port = net_get16(p);
    d->len = (uint16_t)(ulen - UDP_HLEN);
    memcpy(d->data, p + UDP_HLEN, d->len);
    s->count++;
    st->stats.udp_rx++;
}

int udp_sendto(struct net_stack *st, const struct udp_sock *s, uint32_t ip, uint16_t port,
               const uint8_t dst_mac[6], const void *data, size_t len)
{
    if (len > NET_UDP_MAX)
        return -1;
    uint8_t frame[NET_FRAME_MAX];
    uint8_t *u = frame + NET_ETH_HLEN + 20;
    size_t ulen = UDP_HLEN + len;
    net_put16(u, s->port);
    net_put16(u + 2, port);
    net_put16(u + 4, (uint16_t)ulen);
    net_put16(u + 6, 0);
    memcpy(u + UDP_HLEN, data, len);
    uint16_t c = net_csum_fold(net_csum_add(pseudo_sum(st->ip, ip, ulen), u, ulen));
    net_put16(u + 6, c ? c : 0xffff);
    size_t n = net_ip_header(st, frame, 17, ip, ulen);
    return net_eth_output(st, frame, dst_mac, ETH_P_IP, n);
}

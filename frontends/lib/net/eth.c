/* Ethernet in and out, addresses, the Internet checksum (net.h). */
#include "net.h"
#include "klib.h"

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_init(struct net_stack *st, const uint8_t mac[6], uint32_t ip, uint32_t mask,
              net_xmit_fn xmit, void *arg)
{
    memset(st, 0, sizeof(*st));
    memcpy(st->mac, mac, 6);
    st->ip = ip;
    st->mask = mask;
    st->xmit = xmit;
    st->xmit_arg = arg;
}

void net_input(struct net_stack *st, const void *frame, size_t len)
{
    const uint8_t *p = frame;
    st->stats.rx_frames++;
    if (len < NET_ETH_HLEN) {
        st->stats.rx_bad++;
        return;
    }
    if (memcmp(p, st->mac, 6) != 0 && memcmp(p, broadcast, 6) != 0) {
        st->stats.rx_not_ours++;
        return;
    }
    uint16_t type = net_get16(p + 12);
    if (type == ETH_P_ARP)
        net_arp_input(st, p + NET_ETH_HLEN, len - NET_ETH_HLEN);
    else if (type == ETH_P_IP)
        net_ip_input(st, p + NET_ETH_HLEN, len - NET_ETH_HLEN);
    else
        st->stats.rx_unknown++;
}

int net_eth_output(struct net_stack *st, uint8_t *frame, const uint8_t dst[6], uint16_t type,
                   size_t payload_len)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, st->mac, 6);
    net_put16(frame + 12, type);
    size_t len = NET_ETH_HLEN + payload_len;
    if (len < 60) {            /* the minimum frame; the tap does not pad */
        memset(frame + len, 0, 60 - len);
        len = 60;
    }
    int rc = st->xmit(st->xmit_arg, frame, len);
    if (rc < 0)
        st->stats.tx_errors++;
    else
        st->stats.tx_frames++;
    return rc;
}

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s = sum;
    for (; len >= 2; p += 2, len -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A decimal 0..max of 1..3 digits without a leading zero at *s; advances *s. */
static int dec(const char **s, unsigned int max, unsigned int *out)
{
    unsigned int v = 0, n = 0;
    const char *start = *s;
    while (**s >= '0' && **s <= '9') {
        if (++n > 3)
            return -1;
        v = v * 10 + (unsigned int)(**s - '0');
        (*s)++;
    }
    if (n == 0 || v > max || (n > 1 && *start == '0'))
        return -1;
    *out = v;
    return 0;
}

int net_parse_ip(const char *s, uint32_t *ip, uint32_t *mask)
{
    uint32_t a = 0;
    unsigned int v, bits = 24;
    for (int i = 0; i < 4; i++) {
        if (dec(&s, 255, &v) < 0 || (i < 3 && *s++ != '.'))
            return -1;
        a = a << 8 | v;
    }
    if (*s == '/') {
        s++;
        if (dec(&s, 32, &bits) < 0 || bits == 0)
            return -1;
    }
    if (*s)
        return -1;
    *ip = a;
    if (mask)
        *mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);
        if (l < 0 || (i < 5 && s[2] != ':'))
            return -1;
        mac[i] = (uint8_t)(h << 4 | l);
        s += i < 5 ? 3 : 2;
    }
    return *s ? -1 : 0;
}

void net_format_ip(uint32_t ip, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

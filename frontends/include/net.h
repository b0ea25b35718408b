/*
 * The guest's small network stack (frontends/lib/net/): Ethernet, ARP
 * (answers, resolves, a small cache), IPv4 without fragments, ICMP echo
 * replies, UDP with a tiny socket API.  Pure code over a transmit
 * callback, so it is tested on the host (tests/unit/guest_net.c); the
 * kernel glue that feeds it from netfront is frontends/kernel/netdev.c.
 *
 * Every frame is checked in net_input before anything acts on it: a frame
 * not for our MAC (or broadcast), a truncated or inconsistent header, a
 * bad IPv4 header checksum, a fragment, a bad ICMP or UDP checksum is
 * dropped and counted, never trusted.  Addresses are kept in host byte
 * order.
 */
#ifndef TANDEM_GUEST_NET_H
#define TANDEM_GUEST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ETH_HLEN    14
#define NET_MTU         1500
#define NET_FRAME_MAX   (NET_ETH_HLEN + NET_MTU)
#define NET_UDP_MAX     (NET_MTU - 20 - 8)      /* 1472 */
#define NET_ARP_SLOTS   16
#define ETH_P_IP        0x0800
#define ETH_P_ARP       0x0806

struct net_stats {
    uint64_t rx_frames, tx_frames, tx_errors;
    uint64_t rx_not_ours;      /* another MAC, another IP */
    uint64_t rx_bad;           /* truncated, bad lengths or checksums, fragments */
    uint64_t rx_unknown;       /* ethertype / protocol / ICMP type we do not serve */
    uint64_t arp_replies_sent, arp_learned;
    uint64_t icmp_echo_replies;
    uint64_t udp_rx, udp_no_port, udp_queue_full;
};

struct net_arp_entry {
    uint32_t ip;               /* 0: free */
    uint8_t mac[6];
    uint64_t used;             /* LRU stamp */
};

struct udp_dgram {
    uint32_t src_ip;
    uint16_t src_port;
    uint16_t len;
    uint8_t data[NET_UDP_MAX];
};

struct udp_sock {
    uint16_t port;
    struct udp_dgram *q;       /* cap entries, caller-provided */
    unsigned int cap, head, count;
    uint64_t drops;            /* queue full */
    struct udp_sock *next;
};

typedef int (*net_xmit_fn)(void *arg, const void *frame, size_t len);

struct net_stack {
    uint8_t mac[6];
    uint32_t ip, mask;
    net_xmit_fn xmit;
    void *xmit_arg;
    struct net_arp_entry arp[NET_ARP_SLOTS];
    uint64_t arp_clock;
    struct udp_sock *socks;
    uint16_t ip_id;
    struct net_stats stats;
};

void net_init(struct net_stack *st, const uint8_t mac[6], uint32_t ip, uint32_t mask,
              net_xmit_fn xmit, void *arg);
/* One received Ethernet frame (without FCS). */
void net_input(struct net_stack *st, const void *frame, size_t len);

/* ---- addresses (parsing of outside input: one place) ---- */
/* "A.B.C.D" or "A.B.C.D/NN" (NN 1..32; default /24): 0 or -1. */
int net_parse_ip(const char *s, uint32_t *ip, uint32_t *mask);
/* "xx:xx:xx:xx:xx:xx" (hex, either case): 0 or -1. */
int net_parse_mac(const char *s, uint8_t mac[6]);
/* "A.B.C.D" into buf (at least 16 bytes). */
void net_format_ip(uint32_t ip, char *buf, size_t len);

/* ---- ARP ---- */
/* 0 and the MAC if ip is in the cache, else -1. */
int net_arp_lookup(struct net_stack *st, uint32_t ip, uint8_t mac[6]);
/* Broadcasts who-has ip; the reply fills the cache. */
int net_arp_request(struct net_stack *st, uint32_t ip);
/* True if ip is on our subnet (and not us). */
bool net_on_link(const struct net_stack *st, uint32_t ip);

/* ---- UDP ---- */
/* Binds port with a queue of cap datagrams (q: caller memory). 0, -1 if taken. */
int udp_bind(struct net_stack *st, struct udp_sock *s, uint16_t port, struct udp_dgram *q,
             unsigned int cap);
void udp_unbind(struct net_stack *st, struct udp_sock *s);
/* The oldest queued datagram (valid until the next udp_pop), or NULL. */
const struct udp_dgram *udp_peek(const struct udp_sock *s);
void udp_pop(struct udp_sock *s);
/* Sends len (<= NET_UDP_MAX) bytes from s's port to ip:port through the
 * MAC dst_mac: the xmit callback's result (0), or -1 (too long). */
int udp_sendto(struct net_stack *st, const struct udp_sock *s, uint32_t ip, uint16_t port,
               const uint8_t dst_mac[6], const void *data, size_t len);

/* ---- helpers ---- */
static inline uint16_t net_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
/* The Internet checksum's running sum over len bytes (add to sum). */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);

/* ---- internals shared by the files of frontends/lib/net/ ---- */
int net_eth_output(struct net_stack *st, uint8_t *frame, const uint8_t dst[6], uint16_t type,
                   size_t payload_len);
void net_arp_input(struct net_stack *st, const uint8_t *p, size_t len);
void net_ip_input(struct net_stack *st, const uint8_t *p, size_t len);
/* Fills the IPv4 header at frame+14 for a payload of len bytes; returns
 * the total frame length. */
size_t net_ip_header(struct net_stack *st, uint8_t *frame, uint8_t proto, uint32_t dst,
                     size_t payload_len);
void net_udp_input(struct net_stack *st, uint32_t src, uint32_t dst, const uint8_t *p, size_t len);

#endif

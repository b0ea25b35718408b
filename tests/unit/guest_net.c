/* Host tests of the guest's network stack (frontends/lib/net/): frames
 * built here byte by byte, what the stack sends captured from its xmit
 * callback, and two stacks wired to each other. */
#include <check.h>
#include <stdint.h>

#include "klib.h"
#include "net.h"

static const uint8_t MAC_A[6] = { 0x00, 0x16, 0x3e, 0, 0, 1 };
static const uint8_t MAC_H[6] = { 0x02, 0, 0, 0, 0, 9 };
#define IP_A 0x0a630002u   /* 10.99.0.2 */
#define IP_H 0x0a630001u   /* 10.99.0.1 */

static uint8_t out[8][NET_FRAME_MAX + 64];
static size_t out_len[8];
static unsigned int nout;
static struct net_stack *peer;   /* when set, frames go to it instead */

static int capture(void *arg, const void *frame, size_t len)
{
    (void)arg;
    if (peer) {
        net_input(peer, frame, len);
        return 0;
    }
    ck_assert_uint_lt(nout, 8);
    memcpy(out[nout], frame, len);
    out_len[nout++] = len;
    return 0;
}

static struct net_stack st;

static void setup(void)
{
    nout = 0;
    peer = NULL;
    net_init(&st, MAC_A, IP_A, 0xffffff00u, capture, NULL);
}

/* ---- frame builders (the test's own) ---- */
static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    net_put16(f + 12, type);
    return 14;
}

static size_t arp(uint8_t *f, uint16_t op, uint32_t spa, uint32_t tpa)
{
    static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    size_t n = eth(f, bc, MAC_H, ETH_P_ARP);
    uint8_t *a = f + n;
    net_put16(a, 1);
    net_put16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    net_put16(a + 6, op);
    memcpy(a + 8, MAC_H, 6);
    net_put32(a + 14, spa);
    memset(a + 18, 0, 6);
    net_put32(a + 24, tpa);
    return n + 28;
}

static size_t ipv4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, const void *payload,
                   size_t len)
{
    size_t n = eth(f, MAC_A, MAC_H, ETH_P_IP);
    uint8_t *h = f + n;
    memset(h, 0, 20);
    h[0] = 0x45;
    net_put16(h + 2, (uint16_t)(20 + len));
    net_put16(h + 4, 77);
    h[8] = 64;
    h[9] = proto;
    net_put32(h + 12, src);
    net_put32(h + 16, dst);
    net_put16(h + 10, net_csum_fold(net_csum_add(0, h, 20)));
    memcpy(h + 20, payload, len);
    return n + 20 + len;
}

static size_t echo_req(uint8_t *f, uint16_t id, uint16_t seq, size_t plen)
{
    uint8_t icmp[256] = { 8, 0 };
    net_put16(icmp + 4, id);
    net_put16(icmp + 6, seq);
    for (size_t i = 0; i < plen; i++)
        icmp[8 + i] = (uint8_t)(i * 7);
    net_put16(icmp + 2, net_csum_fold(net_csum_add(0, icmp, 8 + plen)));
    return ipv4(f, 1, IP_H, IP_A, icmp, 8 + plen);
}

static size_t udp(uint8_t *f, uint16_t sport, uint16_t dport, const void *data, size_t len,
                  bool with_csum)
{
    uint8_t u[1600];
    net_put16(u, sport);
    net_put16(u + 2, dport);
    net_put16(u + 4, (uint16_t)(8 + len));
    net_put16(u + 6, 0);
    memcpy(u + 8, data, len);
    if (with_csum) {
        uint8_t ph[12];
        net_put32(ph, IP_H);
        net_put32(ph + 4, IP_A);
        ph[8] = 0;
        ph[9] = 17;
        net_put16(ph + 10, (uint16_t)(8 + len));
        uint16_t c = net_csum_fold(net_csum_add(net_csum_add(0, ph, 12), u, 8 + len));
        net_put16(u + 6, c ? c : 0xffff);
    }
    return ipv4(f, 17, IP_H, IP_A, u, 8 + len);
}

static void learn_host(void)
{
    uint8_t f[64];
    net_input(&st, f, arp(f, 1, IP_H, IP_A));
    nout = 0;
}

/* ---- tests ---- */

START_TEST(test_parse)
{
    uint32_t ip, mask;
    ck_assert_int_eq(net_parse_ip("10.99.0.2", &ip, &mask), 0);
    ck_assert_uint_eq(ip, IP_A);
    ck_assert_uint_eq(mask, 0xffffff00u);
    ck_assert_int_eq(net_parse_ip("192.168.1.7/16", &ip, &mask), 0);
    ck_assert_uint_eq(mask, 0xffff0000u);
    ck_assert_int_eq(net_parse_ip("1.2.3.4/32", &ip, &mask), 0);
    ck_assert_uint_eq(mask, 0xffffffffu);
    const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/0",
                          "1.2.3.4/33", "1.2.3.4x", "1..3.4", "1.2.3.4/", "-1.2.3.4", "1.2.3.1000" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(net_parse_ip(bad[i], &ip, &mask) == -1, "accepted '%s'", bad[i]);
    uint8_t m[6];
    ck_assert_int_eq(net_parse_mac("00:16:3E:0a:ff:01", m), 0);
    ck_assert_uint_eq(m[2], 0x3e);
    ck_assert_uint_eq(m[5], 1);
    ck_assert_int_eq(net_parse_mac("00:16:3e:0a:ff", m), -1);
    ck_assert_int_eq(net_parse_mac("00:16:3e:0a:ff:01:", m), -1);
    ck_assert_int_eq(net_parse_mac("00-16-3e-0a-ff-01", m), -1);
    ck_assert_int_eq(net_parse_mac("0g:16:3e:0a:ff:01", m), -1);
    char b[16];
    net_format_ip(IP_A, b, sizeof(b));
    ck_assert_str_eq(b, "10.99.0.2");
}
END_TEST

START_TEST(test_arp)
{
    uint8_t f[64], mac[6];
    /* a request for someone else: no reply, nothing learnt */
    net_input(&st, f, arp(f, 1, IP_H, 0x0a630003u));
    ck_assert_uint_eq(nout, 0);
    ck_assert_int_eq(net_arp_lookup(&st, IP_H, mac), -1);
    /* a request for us: a reply to the sender, the sender learnt */
    net_input(&st, f, arp(f, 1, IP_H, IP_A));
    ck_assert_uint_eq(nout, 1);
    ck_assert_uint_eq(out_len[0], 60);
    ck_assert_mem_eq(out[0], MAC_H, 6);
    ck_assert_uint_eq(net_get16(out[0] + 12), ETH_P_ARP);
    ck_assert_uint_eq(net_get16(out[0] + 14 + 6), 2);
    ck_assert_mem_eq(out[0] + 14 + 8, MAC_A, 6);
    ck_assert_uint_eq(net_get32(out[0] + 14 + 14), IP_A);
    ck_assert_uint_eq(net_get32(out[0] + 14 + 24), IP_H);
    ck_assert_int_eq(net_arp_lookup(&st, IP_H, mac), 0);
    ck_assert_mem_eq(mac, MAC_H, 6);
    /* truncated, wrong hardware type */
    uint64_t bad = st.stats.rx_bad;
    size_t n = arp(f, 1, IP_H, IP_A);
    net_input(&st, f, n - 1);
    f[15] = 6;
    net_input(&st, f, n);
    ck_assert_uint_eq(st.stats.rx_bad, bad + 2);
    ck_assert_uint_eq(nout, 1);
    /* resolution: a broadcast who-has */
    ck_assert_int_eq(net_arp_request(&st, 0x0a630003u), 0);
    ck_assert_uint_eq(nout, 2);
    ck_assert_uint_eq(out[1][0], 0xff);
    ck_assert_uint_eq(net_get32(out[1] + 14 + 24), 0x0a630003u);
}
END_TEST

START_TEST(test_arp_cache_evicts_oldest)
{
    uint8_t f[64], mac[6];
    for (uint32_t i = 0; i < NET_ARP_SLOTS + 4; i++) {
        size_t n = arp(f, 1, 0x0a630100u + i, IP_A);
        net_input(&st, f, n);
        nout = 0;
    }
    ck_assert_int_eq(net_arp_lookup(&st, 0x0a630100u, mac), -1);
    ck_assert_int_eq(net_arp_lookup(&st, 0x0a630100u + NET_ARP_SLOTS + 3, mac), 0);
}
END_TEST

START_TEST(test_icmp_echo)
{
    uint8_t f[NET_FRAME_MAX];
    learn_host();
    size_t n = echo_req(f, 0x1234, 7, 56);
    net_input(&st, f, n);
    ck_assert_uint_eq(nout, 1);
    uint8_t *h = out[0] + 14, *r = h + 20;
    ck_assert_mem_eq(out[0], MAC_H, 6);
    ck_assert_uint_eq(net_csum_fold(net_csum_add(0, h, 20)), 0);
    ck_assert_uint_eq(net_get32(h + 12), IP_A);
    ck_assert_uint_eq(net_get32(h + 16), IP_H);
    ck_assert_uint_eq(r[0], 0);
    ck_assert_uint_eq(net_get16(r + 4), 0x1234);
    ck_assert_uint_eq(net_get16(r + 6), 7);
    ck_assert_mem_eq(r + 8, f + 14 + 20 + 8, 56);
    ck_assert_uint_eq(net_csum_fold(net_csum_add(0, r, 64)), 0);
    ck_assert_uint_eq(st.stats.icmp_echo_replies, 1);
}
END_TEST

START_TEST(test_bad_ip_dropped)
{
    uint8_t f[NET_FRAME_MAX];
    learn_host();
    size_t n = echo_req(f, 1, 1, 8);
    uint64_t bad0 = st.stats.rx_bad;
    /* each corruption on a fresh copy */
    struct { size_t off; uint8_t val; } cases[] = {
        { 14 + 10, 0x00 },   /* header checksum */
        { 14 + 0, 0x46 },    /* ihl 6 without options: checksum and length off */
        { 14 + 0, 0x44 },    /* ihl 4 */
        { 14 + 0, 0x65 },    /* version 6 */
        { 14 + 6, 0x20 },    /* more fragments */
        { 14 + 7, 0x01 },    /* fragment offset */
        { 14 + 2, 0x7f },    /* total length beyond the frame */
        { 14 + 20 + 2, 0x00 }, /* ICMP checksum */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t g[NET_FRAME_MAX];
        memcpy(g, f, n);
        g[cases[i].off] = (uint8_t)(g[cases[i].off] == cases[i].val ? cases[i].val ^ 0xff : cases[i].val);
        if (cases[i].off == 14 + 6 || cases[i].off == 14 + 7 || cases[i].off == 14 + 2) {
            net_put16(g + 14 + 10, 0);   /* keep the header checksum right */
            net_put16(g + 14 + 10, net_csum_fold(net_csum_add(0, g + 14, 20)));
        }
        net_input(&st, g, n);
        ck_assert_msg(nout == 0, "case %u answered", i);
        ck_assert_msg(st.stats.rx_bad == bad0 + i + 1, "case %u not counted bad", i);
    }
    net_input(&st, f, 13);   /* shorter than Ethernet */
    net_input(&st, f, 14 + 19);
    ck_assert_uint_eq(st.stats.rx_bad, bad0 + sizeof(cases) / sizeof(cases[0]) + 2);
    /* another MAC, another address: not ours */
    uint8_t g[NET_FRAME_MAX];
    memcpy(g, f, n);
    g[5] ^= 1;
    net_input(&st, g, n);
    ck_assert_uint_eq(st.stats.rx_not_ours, 1);
    ck_assert_uint_eq(nout, 0);
    /* the original still works, with Ethernet padding after it */
    memset(f + n, 0xee, 10);
    net_input(&st, f, n + 10);
    ck_assert_uint_eq(nout, 1);
}
END_TEST

START_TEST(test_udp)
{
    static struct udp_dgram q[2];
    struct udp_sock s;
    uint8_t f[NET_FRAME_MAX], data[NET_UDP_MAX];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ 0x5a);
    ck_assert_int_eq(udp_bind(&st, &s, 7, q, 2), 0);
    struct udp_sock s2;
    ck_assert_int_eq(udp_bind(&st, &s2, 7, q, 2), -1);
    net_input(&st, f, udp(f, 5555, 7, data, NET_UDP_MAX, true));
    net_input(&st, f, udp(f, 5556, 7, data, 1, false));    /* no checksum: accepted */
    net_input(&st, f, udp(f, 5557, 7, data, 3, true));     /* queue full */
    ck_assert_uint_eq(st.stats.udp_queue_full, 1);
    const struct udp_dgram *d = udp_peek(&s);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->len, NET_UDP_MAX);
    ck_assert_uint_eq(d->src_ip, IP_H);
    ck_assert_uint_eq(d->src_port, 5555);
    ck_assert_mem_eq(d->data, data, NET_UDP_MAX);
    udp_pop(&s);
    ck_assert_uint_eq(udp_peek(&s)->len, 1);
    udp_pop(&s);
    ck_assert_ptr_null(udp_peek(&s));
    /* bad checksum, bad lengths, unbound port */
    uint64_t bad = st.stats.rx_bad;
    size_t n = udp(f, 5555, 7, data, 100, true);
    f[14 + 20 + 8 + 50] ^= 1;
    net_input(&st, f, n);
    n = udp(f, 5555, 7, data, 100, false);
    net_put16(f + 14 + 20 + 4, 200);                       /* longer than the IP payload */
    net_input(&st, f, n);
    net_put16(f + 14 + 20 + 4, 7);                         /* shorter than its header */
    net_input(&st, f, n);
    ck_assert_uint_eq(st.stats.rx_bad, bad + 3);
    net_input(&st, f, udp(f, 5555, 9, data, 10, true));
    ck_assert_uint_eq(st.stats.udp_no_port, 1);
    ck_assert_ptr_null(udp_peek(&s));
    ck_assert_uint_eq(nout, 0);
    udp_unbind(&st, &s);
    net_input(&st, f, udp(f, 5555, 7, data, 10, true));
    ck_assert_uint_eq(st.stats.udp_no_port, 2);
}
END_TEST

/* Two stacks wired together: ARP resolution, then datagrams of every
 * size one way and back. */
START_TEST(test_two_stacks)
{
    struct net_stack b;
    static struct udp_dgram qa[1], qb[1];
    struct udp_sock sa, sb;
    uint8_t mac[6], data[NET_UDP_MAX];
    net_init(&b, MAC_H, IP_H, 0xffffff00u, capture, NULL);
    peer = &b;
    udp_bind(&st, &sa, 40000, qa, 1);
    udp_bind(&b, &sb, 7, qb, 1);
    ck_assert_int_eq(net_arp_request(&st, IP_H), 0);   /* b answers into st: see below */
    ck_assert_int_eq(net_arp_lookup(&b, IP_A, mac), 0);
    ck_assert_mem_eq(mac, MAC_A, 6);
    /* b's reply went through capture to `peer` = b itself; give st the entry */
    peer = NULL;
    uint8_t f[64];
    net_input(&st, f, arp(f, 2, IP_H, IP_A));
    ck_assert_int_eq(net_arp_lookup(&st, IP_H, mac), 0);
    peer = &b;
    for (size_t len = 0; len <= NET_UDP_MAX; len++) {
        for (size_t i = 0; i < len; i++)
            data[i] = (uint8_t)(len + i * 13);
        ck_assert_int_eq(udp_sendto(&st, &sa, IP_H, 7, mac, data, len), 0);
        const struct udp_dgram *d = udp_peek(&sb);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->len, len);
        ck_assert_uint_eq(d->src_port, 40000);
        ck_assert_mem_eq(d->data, data, len);
        udp_pop(&sb);
    }
    ck_assert_int_eq(udp_sendto(&st, &sa, IP_H, 7, mac, data, NET_UDP_MAX + 1), -1);
    ck_assert_uint_eq(b.stats.rx_bad, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_net");
    TCase *tc = tcase_create("net");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_arp);
    tcase_add_test(tc, test_arp_cache_evicts_oldest);
    tcase_add_test(tc, test_icmp_echo);
    tcase_add_test(tc, test_bad_ip_dropped);
    tcase_add_test(tc, test_udp);
    tcase_add_test(tc, test_two_stacks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/*
 * app=netbench mode=udp-stream|udp-pingpong peer=IP [size=N] [seconds=S]
 * [count=N] [window=W] [port=7]: UDP against an echo server (app=netecho
 * in another guest, or a host program) at peer:port.  Each datagram
 * carries its sequence number, its send time and a pattern derived from
 * the sequence number; every echo is checked byte for byte.
 *   udp-pingpong: one datagram in flight; a reply not back within 1 s is lost.
 *   udp-stream:   up to `window` (default 128) in flight; when no echo has
 *                 come for 200 ms, what is in flight is counted lost.
 * Ends after S seconds (default 5) or N datagrams; one result line:
 *   netbench: mode=... size=N sent=N received=N lost=N corrupted=N
 *             pps=N mbps=N.NN p50_us=N p99_us=N
 * pps and Mbit/s count echoed datagrams (payload bytes) per second.
 */
#include "apps.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "netdev.h"

#define HDR 12
/* Latency buckets: 1 us each up to 100 ms, then 1 ms each up to 10 s
 * (the last one holds anything slower). */
#define FINE_US 100000
#define BUCKETS (FINE_US + 9900)
#define STALL_NS (200 * NSEC_PER_MSEC)

struct bench {
    struct netdev nd;
    struct udp_sock sock;
    uint32_t peer;
    uint8_t peer_mac[6];
    uint16_t port;
    size_t size;
    uint64_t sent, received, corrupted, late, bitmap_bits;
    uint64_t *seen;             /* bitmap of received sequence numbers */
    uint32_t *hist;
};

static struct bench B;

static void fill(uint8_t *p, size_t size, uint32_t seq, uint64_t now)
{
    net_put32(p, seq);
    net_put32(p + 4, (uint32_t)(now >> 32));
    net_put32(p + 8, (uint32_t)now);
    for (size_t i = HDR; i < size; i++)
        p[i] = (uint8_t)(seq * 31 + i);
}

/* Takes every queued echo: checks it, records its latency.  Returns how
 * many new ones arrived. */
static unsigned int take_echoes(void)
{
    const struct udp_dgram *d;
    unsigned int n = 0;
    while ((d = udp_peek(&B.sock))) {
        bool ok = d->len == B.size && d->src_ip == B.peer && d->src_port == B.port;
        uint32_t seq = ok ? net_get32(d->data) : 0;
        uint64_t t = ok ? (uint64_t)net_get32(d->data + 4) << 32 | net_get32(d->data + 8) : 0;
        for (size_t i = HDR; ok && i < d->len; i++)
            ok = d->data[i] == (uint8_t)(seq * 31 + i);
        if (!ok || seq >= B.sent || seq >= B.bitmap_bits) {
            B.corrupted++;
        } else if (B.seen[seq / 64] & (1ULL << (seq % 64))) {
            B.late++;           /* a duplicate */
        } else {
            B.seen[seq / 64] |= 1ULL << (seq % 64);
            uint64_t us = (monotonic_ns() - t) / 1000;
            uint64_t b = us < FINE_US ? us : FINE_US + (us - FINE_US) / 1000;
            B.hist[b < BUCKETS ? b : BUCKETS - 1]++;
            B.received++;
            n++;
        }
        udp_pop(&B.sock);
    }
    return n;
}

static uint64_t percentile(unsigned int pct)
{
    uint64_t want = (B.received * pct + 99) / 100, acc = 0;
    for (unsigned int i = 0; i < BUCKETS; i++)
        if ((acc += B.hist[i]) >= want && want)
            return i < FINE_US ? i : FINE_US + (uint64_t)(i - FINE_US) * 1000;
    return 0;
}

static int send_one(uint64_t deadline)
{
    uint8_t buf[NET_UDP_MAX];
    fill(buf, B.size, (uint32_t)B.sent, monotonic_ns());
    int rc = netdev_udp_send(&B.nd, &B.sock, B.peer, B.port, B.peer_mac, buf, B.size, deadline);
    if (rc == 0)
        B.sent++;
    return rc;
}

static void pingpong(uint64_t end, uint64_t count)
{
    while (monotonic_ns() < end && B.sent < count) {
        if (send_one(end) < 0)
            continue;
        uint64_t want = B.sent, limit = monotonic_ns() + NSEC_PER_SEC;
        while (monotonic_ns() < limit) {
            take_echoes();
            if (B.seen[(want - 1) / 64] & (1ULL << ((want - 1) % 64)))
                break;
            netdev_poll(&B.nd, limit);
        }
    }
}

static void stream(uint64_t end, uint64_t count, uint64_t window)
{
    uint64_t written_off = 0, last_progress = monotonic_ns();
    while (monotonic_ns() < end && B.sent < count) {
        netdev_poll(&B.nd, 1);  /* non-blocking: deadline already past */
        if (take_echoes())
            last_progress = monotonic_ns();
        if (B.sent - B.received - written_off < window) {
            send_one(end);
            continue;
        }
        if (monotonic_ns() - last_progress > STALL_NS) {
            written_off = B.sent - B.received;
            last_progress = monotonic_ns();
            continue;
        }
        netdev_poll(&B.nd, last_progress + STALL_NS);
    }
}

int app_netbench(const struct cmdline *cl)
{
    uint64_t size, seconds, count, window, port;
    char err[96];
    const char *mode = cmdline_get(cl, "mode"), *peer = cmdline_get(cl, "peer");
    if (cmdline_get_u64(cl, "size", 64, NET_UDP_MAX, &size, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "seconds", 5, 3600, &seconds, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "count", 0, 1ULL << 26, &count, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "window", 128, 240, &window, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "port", 7, 65535, &port, err, sizeof(err)) < 0) {
        printk("netbench: FAIL %s\n", err);
        return 1;
    }
    bool is_stream = mode && strcmp(mode, "udp-stream") == 0;
    if (!mode || (!is_stream && strcmp(mode, "udp-pingpong") != 0)) {
        printk("netbench: FAIL mode= must be udp-stream or udp-pingpong\n");
        return 1;
    }
    if (!peer || net_parse_ip(peer, &B.peer, NULL) < 0) {
        printk("netbench: FAIL peer= must be an address A.B.C.D\n");
        return 1;
    }
    if (size < HDR) {
        printk("netbench: FAIL size=%llu: at least %u bytes\n", (unsigned long long)size, HDR);
        return 1;
    }
    B.size = size;
    B.port = (uint16_t)port;
    B.bitmap_bits = count ? count : 1ULL << 24;
    B.seen = calloc(B.bitmap_bits / 64 + 1, 8);
    B.hist = calloc(BUCKETS, sizeof(*B.hist));
    struct udp_dgram *q = calloc(256, sizeof(*q));
    if (!B.seen || !B.hist || !q) {
        printk("netbench: FAIL out of memory\n");
        return 1;
    }
    if (netdev_open(&B.nd, cl, "netbench") < 0)
        return 1;
    udp_bind(&B.nd.st, &B.sock, 40000, q, 256);
    if (netdev_resolve(&B.nd, B.peer, B.peer_mac, monotonic_ns() + 30 * NSEC_PER_SEC) < 0) {
        printk("netbench: FAIL no ARP answer from %s\n", peer);
        return 1;
    }
    uint64_t limit = count ? count : B.bitmap_bits;
    uint64_t start = monotonic_ns(), end = start + seconds * NSEC_PER_SEC;
    if (count)
        end = start + 3600 * NSEC_PER_SEC;
    if (is_stream)
        stream(end, limit, window);
    else
        pingpong(end, limit);
    uint64_t elapsed = monotonic_ns() - start;
    /* stragglers */
    uint64_t drain = monotonic_ns() + NSEC_PER_SEC;
    while (B.received < B.sent && monotonic_ns() < drain) {
        netdev_poll(&B.nd, drain);
        take_echoes();
    }
    uint64_t pps = elapsed ? B.received * NSEC_PER_SEC / elapsed : 0;
    uint64_t centi_mbps = elapsed ? B.received * B.size * 8 * 100 * 1000 / elapsed : 0;
    struct netfront_stats fs;
    netfront_get_stats(B.nd.nf, &fs);
    printk("netbench: mode=%s size=%llu sent=%llu received=%llu lost=%llu corrupted=%llu "
           "pps=%llu mbps=%llu.%02llu p50_us=%llu p99_us=%llu ms=%llu doorbells=%llu upcalls=%llu "
           "sleeps=%llu reconnects=%llu\n",
           mode, (unsigned long long)B.size, (unsigned long long)B.sent,
           (unsigned long long)B.received, (unsigned long long)(B.sent - B.received),
           (unsigned long long)B.corrupted, (unsigned long long)pps,
           (unsigned long long)(centi_mbps / 100), (unsigned long long)(centi_mbps % 100),
           (unsigned long long)percentile(50), (unsigned long long)percentile(99),
           (unsigned long long)(elapsed / NSEC_PER_MSEC), (unsigned long long)fs.doorbells,
           (unsigned long long)fs.upcalls, (unsigned long long)fs.sleeps,
           (unsigned long long)fs.reconnects);
    return B.corrupted ? 1 : 0;
}

/*
 * app=netecho [ip=A.B.C.D/NN] [vif=0] [port=7] [seconds=S]: answers ARP
 * and ping (in the stack) and echoes every UDP datagram sent to port 7
 * back to its sender.  Runs until the domain is destroyed, or S seconds
 * (control/shutdown is not watched: app=idle does that).
 * Hotplug: wait-ms=T waits up to T ms for device/vif/<vif> to be attached
 * (tandem network-attach) before connecting; when the vif is detached
 * (tandem network-detach) netecho prints its counters and returns.
 */
#include "apps.h"
#include "kernel.h"
#include "ktime.h"
#include "mm.h"
#include "netdev.h"

#define QUEUE 128

static struct netdev nd;
static struct udp_sock sock;

static void echo_all(uint64_t *echoed, uint64_t *unresolved)
{
    const struct udp_dgram *d;
    while ((d = udp_peek(&sock))) {
        uint8_t mac[6];
        if (net_arp_lookup(&nd.st, d->src_ip, mac) < 0) {
            net_arp_request(&nd.st, d->src_ip);
            (*unresolved)++;
        } else if (netdev_udp_send(&nd, &sock, d->src_ip, d->src_port, mac, d->data, d->len,
                                   monotonic_ns() + NSEC_PER_SEC) == 0) {
            (*echoed)++;
        }
        udp_pop(&sock);
    }
}

int app_netecho(const struct cmdline *cl)
{
    uint64_t seconds, port, wait_ms;
    char err[96], ip[16];
    if (cmdline_get_u64(cl, "seconds", 0, 1000000, &seconds, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "port", 7, 65535, &port, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "wait-ms", 0, 24ULL * 3600 * 1000, &wait_ms, err, sizeof(err)) < 0) {
        printk("netecho: FAIL %s\n", err);
        return 1;
    }
    if (wait_ms) {
        const char *vif = cmdline_get(cl, "vif");
        printk("netecho: waiting for vif %s\n", vif ? vif : "0");
        int rc = netfront_wait_present(vif ? vif : "0", wait_ms * NSEC_PER_MSEC);
        if (rc < 0) {
            printk("netecho: FAIL vif %s did not appear within %llu ms (error %d)\n",
                   vif ? vif : "0", (unsigned long long)wait_ms, rc);
            return 1;
        }
    }
    if (netdev_open(&nd, cl, "netecho") < 0)
        return 1;
    struct udp_dgram *q = calloc(QUEUE, sizeof(*q));
    if (!q || udp_bind(&nd.st, &sock, (uint16_t)port, q, QUEUE) < 0) {
        printk("netecho: FAIL cannot bind port %llu\n", (unsigned long long)port);
        return 1;
    }
    net_format_ip(nd.st.ip, ip, sizeof(ip));
    const uint8_t *m = nd.st.mac;
    printk("netecho: ready ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x port=%llu\n", ip, m[0], m[1],
           m[2], m[3], m[4], m[5], (unsigned long long)port);
    uint64_t end = seconds ? monotonic_ns() + seconds * NSEC_PER_SEC : 0;
    uint64_t echoed = 0, unresolved = 0;
    int rc = 0;
    while (!end || monotonic_ns() < end) {
        if (netfront_detached(nd.nf)) {
            printk("netecho: vif %s detached\n", nd.nf->id);
            break;
        }
        if (nd.nf->xf.state == XENFRONT_DEAD) {
            printk("netecho: FAIL vif %s lost its backend for good\n", nd.nf->id);
            rc = 1;
            break;
        }
        uint64_t next = monotonic_ns() + NSEC_PER_SEC;
        netdev_poll(&nd, end && end < next ? end : next);
        echo_all(&echoed, &unresolved);
    }
    struct netfront_stats fs;
    netfront_get_stats(nd.nf, &fs);
    const struct net_stats *s = &nd.st.stats;
    printk("netecho: done echoed=%llu icmp=%llu arp=%llu bad=%llu not-ours=%llu queue-full=%llu "
           "unresolved=%llu reconnects=%llu\n",
           (unsigned long long)echoed, (unsigned long long)s->icmp_echo_replies,
           (unsigned long long)s->arp_replies_sent, (unsigned long long)s->rx_bad,
           (unsigned long long)s->rx_not_ours, (unsigned long long)s->udp_queue_full,
           (unsigned long long)unresolved, (unsigned long long)fs.reconnects);
    return rc;
}

/* netfront + the stack (netdev.h). */
#include "netdev.h"
#include "kerrno.h"
#include "kernel.h"
#include "ktime.h"

static int xmit(void *arg, const void *frame, size_t len)
{
    struct netdev *nd = arg;
    return netfront_xmit(nd->nf, frame, len);
}

static void rx(void *arg, const void *frame, size_t len)
{
    struct netdev *nd = arg;
    net_input(&nd->st, frame, len);
}

int netdev_open(struct netdev *nd, const struct cmdline *cl, const char *who)
{
    const char *vif = cmdline_get(cl, "vif");
    const char *ip_s = cmdline_get(cl, "ip");
    char from_be[40];
    uint32_t ip, mask;
    int rc;
    nd->nf = netfront_open(vif ? vif : "0", &rc);
    if (!nd->nf) {
        printk("%s: FAIL cannot connect vif %s (%d)\n", who, vif ? vif : "0", rc);
        return rc;
    }
    if (!ip_s && netfront_backend_read(nd->nf, "ip", from_be, sizeof(from_be)) >= 0)
        ip_s = from_be;
    if (!ip_s) {
        printk("%s: FAIL no address: give ip=A.B.C.D/NN or ip= in the vif config\n", who);
        return -EINVAL;
    }
    if (net_parse_ip(ip_s, &ip, &mask) < 0) {
        printk("%s: FAIL ip '%s' is not A.B.C.D or A.B.C.D/NN\n", who, ip_s);
        return -EINVAL;
    }
    net_init(&nd->st, nd->nf->mac, ip, mask, xmit, nd);
    return 0;
}

int netdev_poll(struct netdev *nd, uint64_t deadline)
{
    int n = netfront_poll(nd->nf, rx, nd);
    if (n)
        return n;
    netfront_wait(nd->nf, deadline);
    return netfront_poll(nd->nf, rx, nd);
}

int netdev_resolve(struct netdev *nd, uint32_t ip, uint8_t mac[6], uint64_t deadline)
{
    uint64_t next = 0;
    while (net_arp_lookup(&nd->st, ip, mac) < 0) {
        uint64_t now = monotonic_ns();
        if (deadline && now >= deadline)
            return -ETIMEDOUT;
        if (now >= next) {
            net_arp_request(&nd->st, ip);
            next = now + 100 * NSEC_PER_MSEC;
        }
        netdev_poll(nd, deadline && deadline < next ? deadline : next);
    }
    return 0;
}

int netdev_udp_send(struct netdev *nd, const struct udp_sock *s, uint32_t ip, uint16_t port,
                    const uint8_t mac[6], const void *data, size_t len, uint64_t deadline)
{
    for (;;) {
        if (!netfront_connected(nd->nf)) {
            netdev_poll(nd, deadline);
            if (!netfront_connected(nd->nf))
                return deadline && monotonic_ns() >= deadline ? -ETIMEDOUT : -ENOTCONN;
        }
        if (nd->nf->nr_tx_free) {
            int rc = udp_sendto(&nd->st, s, ip, port, mac, data, len);
            if (rc != -EAGAIN)
                return rc;
        }
        if (deadline && monotonic_ns() >= deadline)
            return -ETIMEDOUT;
        netdev_poll(nd, deadline);
    }
}

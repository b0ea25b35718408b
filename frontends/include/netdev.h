/*
 * netdev: the kernel glue between netfront and the network stack (net.h)
 * for the apps.  One vif; its address from the command line `ip=A.B.C.D/NN`
 * or else from the backend's `ip` node (the vif config's ip=).
 */
#ifndef TANDEM_GUEST_NETDEV_H
#define TANDEM_GUEST_NETDEV_H

#include "cmdline.h"
#include "net.h"
#include "netfront.h"

struct netdev {
    struct netfront *nf;
    struct net_stack st;
};

/* Opens vif `vif=` (default 0) and sets the stack up: 0 or -errno
 * (message printed, prefixed with who). */
int netdev_open(struct netdev *nd, const struct cmdline *cl, const char *who);
/* Handles whatever arrived; if nothing did, waits for it until deadline
 * (0 = none) and handles that.  Returns frames received. */
int netdev_poll(struct netdev *nd, uint64_t deadline);
/* The MAC of ip (an ARP request every 100 ms): 0, or -ETIMEDOUT. */
int netdev_resolve(struct netdev *nd, uint32_t ip, uint8_t mac[6], uint64_t deadline);
/* udp_sendto, waiting (polling the device) while the TX ring is full:
 * 0, -ETIMEDOUT, -ENOTCONN. */
int netdev_udp_send(struct netdev *nd, const struct udp_sock *s, uint32_t ip, uint16_t port,
                    const uint8_t mac[6], const void *data, size_t len, uint64_t deadline);

#endif

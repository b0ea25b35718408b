/* Reads and checks what a netfront published for the connection (the one
 * place this input is parsed): copy mode, rx notification, offloads it can
 * receive, queue count, and per queue the two ring refs and one event
 * channel or a TX/RX pair; its MAC. */
#ifndef TANDEM_NETBACK_FRONTEND_H
#define TANDEM_NETBACK_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>
#include "net_queue.h"

struct net_fe_queue {
    uint32_t tx_ref, rx_ref;
    uint32_t evtchn_tx, evtchn_rx;     /* equal without split event channels */
};

struct net_fe_cfg {
    unsigned nr_queues;
    bool sg, gso_tcpv4, gso_tcpv6;     /* what it takes on RX */
    bool ipv4_csum, ipv6_csum;         /* partial checksums it takes on RX */
    char mac[18];                      /* "" if none given */
    struct net_fe_queue q[NET_MAX_QUEUES];
};

/* 0, or -1 with a message in err naming the key. */
int net_frontend_read(struct xs_handle *xs, const char *fe, unsigned max_queues,
                      struct net_fe_cfg *cfg, char *err, size_t errlen);

/* "xx:xx:xx:xx:xx:xx", hex digits. */
bool net_mac_ok(const char *s, size_t len);

#endif

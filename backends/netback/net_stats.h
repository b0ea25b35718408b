/* Counters of one vif (all its queues), updated by the queue threads with
 * relaxed atomics and written to a stats file by the xenstore thread
 * (net_device.c). "tx" is the guest's transmit ring (guest -> dom0), "rx"
 * its receive ring (dom0 -> guest), as in netif.h. */
#ifndef TANDEM_NETBACK_STATS_H
#define TANDEM_NETBACK_STATS_H

#include <stdint.h>

struct net_stats {
    uint64_t tx_packets, tx_bytes, tx_drops, tx_errors;
    uint64_t rx_packets, rx_bytes, rx_drops, rx_errors;
    uint64_t notifies, kicks;
    const char *fatal;               /* first fatal reason (static text), or NULL */
};

static inline void net_stat_add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t net_stat_get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Records the first fatal reason; true if this call did (log it once). */
static inline int net_stat_fatal(struct net_stats *s, const char *why)
{
    const char *none = 0;

    return __atomic_compare_exchange_n(&s->fatal, &none, why, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

#endif

/* A dom0 link to the bounce test guest (hypervisor/testguest/bounce_main.c):
 * its port bound with a plain `evtchn-bind`, the irqfd written directly and
 * the doorbell read from the kick eventfd -- the bare event path. */
#ifndef TANDEM_TEST_BOUNCE_LINK_H
#define TANDEM_TEST_BOUNCE_LINK_H

#include <stdbool.h>
#include <stdint.h>

struct bounce_link {
    struct tdm_ctl *ctl;
    int kick, irq;
};

/* Binds `port` of domain `domid` and collects the guest's burst of
 * `doorbells` doorbells (all must arrive). False with a message. */
bool bounce_link_open(struct bounce_link *l, const char *run_dir, unsigned domid, uint32_t port,
                      uint64_t doorbells);
void bounce_link_close(struct bounce_link *l);
/* n round trips, each one's ns in rtt[]; false on a lost or duplicate one. */
bool bounce_link_rtt(struct bounce_link *l, uint64_t n, uint64_t *rtt);

#endif

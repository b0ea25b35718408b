/* The host side of a vif: a tap device (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR | IFF_MULTI_QUEUE, one fd per queue) named as Xen names
 * vifs (vif<domid>.<devid>, or the toolstack's `vifname`), with the MAC
 * Xen gives the dom0 end (fe:ff:ff:ff:ff:ff), brought up and attached to
 * a bridge. Offloads (TUNSETOFFLOAD) say what the kernel may hand us:
 * partial checksums and TSO, as the frontend can take them. */
#ifndef TANDEM_NETBACK_TAP_H
#define TANDEM_NETBACK_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

/* A valid interface name (1..15 bytes of [A-Za-z0-9._-]). */
bool net_tap_name_ok(const char *name);

/* Creates (or, for a further queue, opens) the tap queue `name`; the fd
 * is non-blocking. -1 with err. */
int net_tap_open(const char *name, char *err, size_t errlen);

/* What the kernel may give us on this tap (every queue shares it). */
int net_tap_offload(int fd, bool csum, bool tso4, bool tso6, char *err, size_t errlen);

/* MAC fe:ff:ff:ff:ff:ff, up, and (bridge non-NULL) attached to bridge. */
int net_tap_up(const char *name, const char *bridge, char *err, size_t errlen);

#endif

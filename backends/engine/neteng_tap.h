/* The network engine's host side (neteng.h): a tap device (IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR with a 10-byte virtio-net header |
 * IFF_MULTI_QUEUE, one fd per queue, non-blocking), brought up with the
 * MAC Xen gives the dom0 end of a vif (fe:ff:ff:ff:ff:ff) and attached to
 * a bridge. Front doors name it (netback: vif<domid>.<devid> or the
 * toolstack's `vifname`). Offloads (TUNSETOFFLOAD) say what the kernel
 * may hand the engine: partial checksums and TSO, as the guest's device
 * can take them. */
#ifndef TANDEM_ENGINE_NETENG_TAP_H
#define TANDEM_ENGINE_NETENG_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

/* A valid interface name (1..15 bytes of [A-Za-z0-9._-]). */
bool neteng_tap_name_ok(const char *name);

/* Creates (or, for a further queue, opens) the tap queue `name`; the fd
 * is non-blocking. -1 with err. */
int neteng_tap_open(const char *name, char *err, size_t errlen);

/* What the kernel may give us on this tap (every queue shares it). */
int neteng_tap_offload(int fd, bool csum, bool tso4, bool tso6, char *err, size_t errlen);

/* MAC fe:ff:ff:ff:ff:ff, up, and (bridge non-NULL) attached to bridge. */
int neteng_tap_up(const char *name, const char *bridge, char *err, size_t errlen);

#endif

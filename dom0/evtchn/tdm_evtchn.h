/* Dom0 event-channel library (the role of Xen's libxenevtchn).
 *
 * A service binds to a port a guest allocated for domain 0 (unbound, or one
 * of the pre-allocated interdomain ports) through that domain's tandem-vmm
 * control socket; from then on the data path bypasses the VMM:
 *   guest -> dom0: the guest writes the port to the doorbell (0xB4); KVM
 *                  signals the binding's eventfd (ioeventfd, datamatch);
 *   dom0 -> guest: tdm_evtchn_notify sets the 2-level pending bits in the
 *                  guest's shared_info and writes the domain's irqfd.
 *
 * Local ports are this handle's names for bindings (1, 2, ...), as Xen's
 * dom0 ports are; they are not the guest's port numbers.
 *
 * Waiting: tdm_evtchn_fd() is readable when any bound port has been
 * notified by its guest; tdm_evtchn_pending() then returns one such local
 * port and keeps it quiet until tdm_evtchn_unmask(). Services driving
 * io_uring may instead wait on tdm_evtchn_port_fd() (the raw eventfd) and
 * read it themselves; do not mix the two on one port.
 *
 * Functions return -1 / NULL with errno set and tdm_last_error() saying
 * why. A handle may be used from several threads. */
#ifndef TANDEM_DOM0_TDM_EVTCHN_H
#define TANDEM_DOM0_TDM_EVTCHN_H

#include <stdint.h>
#include "tdm_error.h"

#define TDM_EVTCHN_MAX_PORTS 4096   /* local ports per handle */

struct tdm_evtchn;

/* run_dir: where the VMMs' dom<N>.ctl sockets are; NULL means
 * $TANDEM_RUNDIR, else /run/tandem. */
struct tdm_evtchn *tdm_evtchn_open(const char *run_dir);

/* Unbinds every port and frees the handle. NULL is fine. */
void tdm_evtchn_close(struct tdm_evtchn *h);

/* Readable when some bound port has a notification from its guest. */
int tdm_evtchn_fd(struct tdm_evtchn *h);

/* Binds guest `domid`'s port `remote_port` (allocated by the guest for
 * domain 0). Returns the local port (>= 1). */
int tdm_evtchn_bind_interdomain(struct tdm_evtchn *h, unsigned domid,
                                uint32_t remote_port);

/* The other way round (Xen's alloc_unbound in dom0): reserves a dom0 port
 * for guest `domid` (the VMM's `evtchn-alloc`) and returns its number, which
 * the service tells the guest (e.g. in xenstore); the guest binds it with
 * EVTCHNOP_bind_interdomain(remote_dom 0, remote_port = that number). The
 * reservation lives as long as this handle's connection to the domain. */
int64_t tdm_evtchn_alloc_unbound(struct tdm_evtchn *h, unsigned domid);

/* Once the guest has bound dom0 port `dom0_port`: binds its end as
 * tdm_evtchn_bind_interdomain does. -1/EAGAIN while the guest has not. */
int tdm_evtchn_bind_allocated(struct tdm_evtchn *h, unsigned domid, uint32_t dom0_port);

/* Raises the port in its guest (pending bits + upcall interrupt). */
int tdm_evtchn_notify(struct tdm_evtchn *h, int local_port);

/* One local port that its guest has notified (consumes the notification
 * and holds further ones back until tdm_evtchn_unmask), or -1 with errno
 * EAGAIN when none is pending. Never blocks. */
int tdm_evtchn_pending(struct tdm_evtchn *h);

/* Lets tdm_evtchn_fd report the port again. */
int tdm_evtchn_unmask(struct tdm_evtchn *h, int local_port);

/* Releases the binding in the VMM and here. */
int tdm_evtchn_unbind(struct tdm_evtchn *h, int local_port);

/* The binding's guest->dom0 eventfd (owned by the handle; do not close). */
int tdm_evtchn_port_fd(struct tdm_evtchn *h, int local_port);

/* The guest's domid / port number of a binding, -1 if not bound. */
int tdm_evtchn_remote_domid(struct tdm_evtchn *h, int local_port);
int64_t tdm_evtchn_remote_port(struct tdm_evtchn *h, int local_port);

#endif

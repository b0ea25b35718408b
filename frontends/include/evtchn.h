/*
 * Event channels (Xen's 2-level ABI in shared_info / vcpu_info).
 * Handlers run in the upcall, on the vCPU the port is bound to, with
 * interrupts disabled: they must be short (typically they wake a thread).
 */
#ifndef TANDEM_GUEST_EVTCHN_H
#define TANDEM_GUEST_EVTCHN_H

#include <stdint.h>

#include "public/event_channel.h"

#define EVTCHN_MAX_PORTS 4096 /* the 2-level limit on 64-bit: 64 words of 64 ports */

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* Maps shared_info, registers vcpu_info for the boot vCPU and installs
 * the upcall vector.  Needs mm and platform. */
void evtchn_init(void);
/* After a resume in a new domain (suspend.c): see evtchn.c. */
void evtchn_resume(void);
/* Same for a secondary vCPU, run on that vCPU.  Returns < 0 if the
 * vCPU gets no upcalls of its own (no per-vCPU upcall vector). */
int evtchn_init_cpu(int cpu);

/* Attaches a handler to an existing port (e.g. the pre-bound xenstore and
 * console ports) and unmasks it. */
int evtchn_bind(evtchn_port_t port, evtchn_handler_t fn, void *arg);
/* EVTCHNOP_bind_virq for vcpu; returns the port or a negative errno. */
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_handler_t fn, void *arg);
/* EVTCHNOP_bind_ipi: a port whose sends interrupt vcpu; port or -errno. */
long evtchn_bind_ipi(uint32_t vcpu, evtchn_handler_t fn, void *arg);
/* EVTCHNOP_alloc_unbound for remote_dom; returns the port or -errno. */
long evtchn_alloc_unbound(domid_t remote_dom, evtchn_handler_t fn, void *arg);
/* EVTCHNOP_bind_interdomain to remote_dom's remote_port; port or -errno. */
long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port, evtchn_handler_t fn,
                             void *arg);
/* EVTCHNOP_close; the handler is removed first. */
int evtchn_close(evtchn_port_t port);
/* EVTCHNOP_send (any port, through the VMM). */
int evtchn_send(evtchn_port_t port);
/* Notifies the remote end of an interdomain port: a 32-bit write of the
 * port to the doorbell port, which KVM hands to the backend's eventfd
 * without a VMM exit. */
void evtchn_notify(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
void evtchn_unmask(evtchn_port_t port);

/* The vcpu_info of a vCPU (registered copy, or shared_info's slot). */
struct vcpu_info *evtchn_vcpu_info(int cpu);
struct shared_info *evtchn_shared_info(void);

/* Upcalls handled on each vCPU (statistics). */
uint64_t evtchn_upcall_count(int cpu);

#endif

/* Xen's 2-level event-channel delivery, written once for every user:
 * tandem-vmm (EVTCHNOP_send, VIRQs, unmask) and every dom0 service (via
 * the tdm_evtchn library) call these, so all raise events the same way.
 *
 * Pure: no allocation, no I/O, no globals; only atomics on the guest's
 * shared_info / vcpu_info, which the guest changes concurrently. After a
 * call returns true the caller must interrupt the vCPU (write the irqfd,
 * or KVM_SIGNAL_MSI) — the guest will not look otherwise.
 *
 * Link: $(EVTCHN_2L_OBJ) (see dom0/evtchn/build.mk), include
 * "evtchn_2l.h" with -Idom0/evtchn. */
#ifndef TANDEM_DOM0_EVTCHN_2L_H
#define TANDEM_DOM0_EVTCHN_2L_H

#include <stdbool.h>
#include "public/xen.h"
#include "public/event_channel.h"

/* Bits per selector word / pending word (64 on x86_64). */
#define EVTCHN_2L_BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

/* True if `port` is inside the 2-level space (1..4095; 0 is never a port). */
bool evtchn_2l_port_valid(evtchn_port_t port);

/* &s->vcpu_info[vcpu], or NULL if vcpu is beyond the legacy array (a vCPU
 * that registered its vcpu_info elsewhere is passed by pointer instead). */
struct vcpu_info *evtchn_2l_vcpu(struct shared_info *s, unsigned vcpu);

/* Marks `port` pending. If the bit was clear and the port is not masked,
 * sets the port's selector bit in v->evtchn_pending_sel and then
 * v->evtchn_upcall_pending. Returns true iff evtchn_upcall_pending went
 * 0 -> 1, i.e. an upcall interrupt is needed. Invalid port: no-op, false. */
bool evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *v,
                           evtchn_port_t port);

/* EVTCHNOP_unmask: clears the mask bit; if the port is pending, redoes the
 * selector/upcall steps (a masked port's edge was not delivered). Returns
 * true iff an upcall interrupt is needed. */
bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *v,
                      evtchn_port_t port);

/* Sets the mask bit (the guest's own operation; used by the VMM on close
 * and by tests). */
void evtchn_2l_mask(struct shared_info *s, evtchn_port_t port);

/* Clears the pending bit (EVTCHNOP_close/reset in the VMM). */
void evtchn_2l_clear_pending(struct shared_info *s, evtchn_port_t port);

bool evtchn_2l_is_pending(const struct shared_info *s, evtchn_port_t port);
bool evtchn_2l_is_masked(const struct shared_info *s, evtchn_port_t port);

#endif

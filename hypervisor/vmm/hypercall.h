/* Hypercall handlers, one per Xen hypercall, dispatched by hypercall.c. */
#ifndef TANDEM_VMM_HYPERCALL_H
#define TANDEM_VMM_HYPERCALL_H

#include <stdint.h>

struct vcpu;
typedef long hypercall_fn(struct vcpu *v, const uint64_t a[5]);

hypercall_fn hc_console_io, hc_xen_version, hc_sched_op, hc_set_timer_op, hc_vcpu_op,
    hc_memory_op, hc_hvm_op, hc_event_channel_op, hc_grant_table_op;

/* DOMID_SELF or our own id. */
int is_self_domid(struct vcpu *v, uint64_t domid);

#endif

/*
 * HVM operations (__HYPERVISOR_hvm_op): numbers and structs of Xen 4.17's
 * public hvm/hvm_op.h.
 */
#ifndef TANDEM_PUBLIC_HVM_HVM_OP_H
#define TANDEM_PUBLIC_HVM_HVM_OP_H

#include "../xen.h"

#define HVMOP_set_param           0
#define HVMOP_get_param           1
#define HVMOP_set_pci_intx_level  2
#define HVMOP_set_isa_irq_level   3
#define HVMOP_set_pci_link_route  4
#define HVMOP_modified_memory     7
#define HVMOP_set_mem_type        8
#define HVMOP_pagetable_dying     9
#define HVMOP_get_time           10
#define HVMOP_xentrace           11
#define HVMOP_set_mem_access     12
#define HVMOP_get_mem_access     13
#define HVMOP_inject_trap        14
#define HVMOP_get_mem_type       15
#define HVMOP_inject_msi         16
#define HVMOP_set_evtchn_upcall_vector 23
#define HVMOP_guest_request_vm_event 24
#define HVMOP_altp2m             25

struct xen_hvm_param {
    domid_t domid;   /* IN: DOMID_SELF or our own id */
    uint32_t index;  /* IN: HVM_PARAM_* */
    uint64_t value;  /* IN/OUT */
};

struct xen_hvm_get_time {
    uint64_t now;  /* OUT: system time, ns */
};

struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;
    uint8_t vector;
};

_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(offsetof(struct xen_hvm_param, value) == 8, "xen_hvm_param.value");
_Static_assert(sizeof(struct xen_hvm_evtchn_upcall_vector) == 8, "upcall_vector");

#endif

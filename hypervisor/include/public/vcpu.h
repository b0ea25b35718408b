/*
 * vCPU operations (__HYPERVISOR_vcpu_op): numbers and structs of Xen 4.17's
 * public vcpu.h. VCPUOP_initialise takes Tandem's own context struct
 * (struct tandem_vcpu_context in tandem.h, see docs/abi.md).
 */
#ifndef TANDEM_PUBLIC_VCPU_H
#define TANDEM_PUBLIC_VCPU_H

#include "xen.h"

#define VCPUOP_initialise                     0
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3
#define VCPUOP_get_runstate_info              4
#define VCPUOP_register_runstate_memory_area  5
#define VCPUOP_set_periodic_timer             6
#define VCPUOP_stop_periodic_timer            7
#define VCPUOP_set_singleshot_timer           8
#define VCPUOP_stop_singleshot_timer          9
#define VCPUOP_register_vcpu_info            10
#define VCPUOP_send_nmi                      11
#define VCPUOP_get_physid                    12
#define VCPUOP_register_vcpu_time_memory_area 13

#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3

struct vcpu_runstate_info {
    int state;
    uint64_t state_entry_time;
    uint64_t time[4];
};

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;  /* absolute system time */
    uint32_t flags;           /* VCPU_SSHOTTMR_* */
};
#define _VCPU_SSHOTTMR_future 0
#define VCPU_SSHOTTMR_future (1U << _VCPU_SSHOTTMR_future)

struct vcpu_register_vcpu_info {
    uint64_t mfn;     /* gfn of the page holding the vcpu_info */
    uint32_t offset;  /* offset within the page */
    uint32_t rsvd;
};

_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "runstate_info");
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "singleshot");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "register_vcpu_info");

#endif

/*
 * Event channel operations (__HYPERVISOR_event_channel_op): command numbers
 * and argument structs of Xen 4.17's public event_channel.h.
 */
#ifndef TANDEM_PUBLIC_EVENT_CHANNEL_H
#define TANDEM_PUBLIC_EVENT_CHANNEL_H

#include "xen.h"

typedef uint32_t evtchn_port_t;

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset           10
#define EVTCHNOP_init_control    11
#define EVTCHNOP_expand_array    12
#define EVTCHNOP_set_priority    13
#define EVTCHNOP_reset_cont      14

struct evtchn_alloc_unbound {
    domid_t dom, remote_dom;  /* IN */
    evtchn_port_t port;       /* OUT */
};

struct evtchn_bind_interdomain {
    domid_t remote_dom;        /* IN */
    evtchn_port_t remote_port; /* IN */
    evtchn_port_t local_port;  /* OUT */
};

struct evtchn_bind_virq {
    uint32_t virq;       /* IN */
    uint32_t vcpu;       /* IN */
    evtchn_port_t port;  /* OUT */
};

#define BIND_PIRQ__WILL_SHARE 1
struct evtchn_bind_pirq {
    uint32_t pirq;
    uint32_t flags;
    evtchn_port_t port;
};

struct evtchn_bind_ipi {
    uint32_t vcpu;
    evtchn_port_t port;
};

struct evtchn_close {
    evtchn_port_t port;
};

struct evtchn_send {
    evtchn_port_t port;
};

#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5

struct evtchn_status {
    domid_t dom;         /* IN */
    evtchn_port_t port;  /* IN */
    uint32_t status;     /* OUT: EVTCHNSTAT_* */
    uint32_t vcpu;       /* OUT: vCPU notified */
    union {
        struct { domid_t dom; } unbound;
        struct { domid_t dom; evtchn_port_t port; } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};

struct evtchn_bind_vcpu {
    evtchn_port_t port;
    uint32_t vcpu;
};

struct evtchn_unmask {
    evtchn_port_t port;
};

struct evtchn_reset {
    domid_t dom;
};

struct evtchn_init_control {
    uint64_t control_gfn;
    uint32_t offset;
    uint32_t vcpu;
    uint8_t link_bits;
    uint8_t _pad[7];
};

struct evtchn_expand_array {
    uint64_t array_gfn;
};

struct evtchn_set_priority {
    evtchn_port_t port;
    uint32_t priority;
};

_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "alloc_unbound.port");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "evtchn_status.u");
_Static_assert(sizeof(struct evtchn_init_control) == 24, "init_control");

#endif

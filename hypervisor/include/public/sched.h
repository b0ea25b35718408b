/*
 * Scheduler operations (__HYPERVISOR_sched_op): numbers and structs of Xen
 * 4.17's public sched.h.
 */
#ifndef TANDEM_PUBLIC_SCHED_H
#define TANDEM_PUBLIC_SCHED_H

#include "event_channel.h"

#define SCHEDOP_yield           0
#define SCHEDOP_block           1
#define SCHEDOP_shutdown        2
#define SCHEDOP_poll            3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code   5
#define SCHEDOP_watchdog        6
#define SCHEDOP_pin_override    7

#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5
#define SHUTDOWN_MAX        5

struct sched_shutdown {
    unsigned int reason;  /* SHUTDOWN_* */
};

struct sched_poll {
    XEN_GUEST_HANDLE_64(evtchn_port_t) ports;
    unsigned int nr_ports;
    uint64_t timeout;  /* absolute system time (ns), 0 = none */
};

struct sched_remote_shutdown {
    domid_t domain_id;
    unsigned int reason;
};

struct sched_watchdog {
    uint32_t id;
    uint32_t timeout;
};

struct sched_pin_override {
    int32_t pcpu;
};

_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "sched_poll.timeout");
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "remote_shutdown");

#endif

/*
 * Time: the monotonic system time (ns since the domain started) read from
 * this vCPU's vcpu_time_info without a hypercall, the host wallclock from
 * shared_info, and raw TSC readings converted with the FDT's tsc-khz as an
 * independent check.
 */
#ifndef TANDEM_GUEST_KTIME_H
#define TANDEM_GUEST_KTIME_H

#include <stdint.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* Binds VIRQ_TIMER on this vCPU (needs evtchn). */
void time_init_cpu(int cpu);
/* After a resume in a new domain (vcpu 0): rebinds VIRQ_TIMER. */
void time_resume(void);

/* Monotonic ns; never goes backwards on one vCPU. */
uint64_t monotonic_ns(void);

/* Host wallclock in ns since the Unix epoch (shared_info wc + system
 * time), or 0 if the VMM published none. */
uint64_t wallclock_ns(void);

/* Arms this vCPU's one-shot timer for deadline (system time, ns); the
 * VIRQ_TIMER upcall follows at or after it.  0 cancels. */
void timer_arm(uint64_t deadline);

/* TSC ticks to ns with the FDT's tsc-khz (0 when unknown). */
uint64_t tsc_to_ns(uint64_t ticks);

#endif

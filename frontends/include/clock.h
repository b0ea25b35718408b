/*
 * Clock arithmetic (pure, host-tested): Xen's TSC-to-nanoseconds scaling
 * of vcpu_time_info (shift, then multiply by a 32.32 fraction) and the
 * plain conversion with a TSC frequency in kHz, used as an independent
 * cross-check.
 */
#ifndef TANDEM_GUEST_CLOCK_H
#define TANDEM_GUEST_CLOCK_H

#include <stdint.h>

/* ((delta << shift) or (delta >> -shift)) * mul_frac / 2^32 */
uint64_t clock_scale_delta(uint64_t delta, uint32_t mul_frac, int8_t shift);

/* TSC ticks to ns at khz kHz (0 if khz is 0); no 128-bit division. */
uint64_t clock_tsc_to_ns(uint64_t ticks, uint32_t khz);

/* ns to TSC ticks at khz kHz. */
uint64_t clock_ns_to_tsc(uint64_t ns, uint32_t khz);

/* Computes the (mul_frac, shift) pair for a TSC of khz kHz, as a
 * hypervisor would publish it; used by tests and as a fallback. */
void clock_compute_scale(uint32_t khz, uint32_t *mul_frac, int8_t *shift);

#endif

/*
 * The i8254 programmable interval timer of a PC (docs/hvm.md "PIT"):
 * counters 0-2 at ports 0x40-0x42, the control word at 0x43, and port
 * 0x61 (counter 2's gate, its output and the refresh toggle). The counters
 * run at 1.193182 MHz on CLOCK_MONOTONIC (or a clock the creator gives).
 *
 * Counter 0's output is IRQ 0. The model keeps no timer of its own: the
 * VMM's loop arms a timerfd (TFD_TIMER_ABSTIME, CLOCK_MONOTONIC) at
 * pit_next_event_ns() and calls pit_tick() when it fires, then re-arms.
 * The changed callback says that counter 0 was reprogrammed, so the loop
 * must re-arm now. Periods shorter than PIT_MIN_EVENT_NS are stretched to
 * it, and periods the loop missed coalesce into one interrupt (as KVM's
 * own PIT does): the counters' values stay exact, only IRQ 0 is bounded.
 */
#ifndef TANDEM_VMM_DEV_PIT_H
#define TANDEM_VMM_DEV_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

#define PIT_HZ           1193182u
#define PIT_MIN_EVENT_NS 50000u       /* at most 20,000 IRQ 0 a second */
#define PIT_NO_EVENT     UINT64_MAX

struct iobus;
struct pit;

struct pit_clock {
    uint64_t (*now_ns)(void *opaque);   /* NULL: CLOCK_MONOTONIC */
    void *opaque;
};

struct pit_changed_fn {
    void (*changed)(void *opaque);      /* called without the PIT's lock */
    void *opaque;
};

/* Registers 0x40-0x43 and 0x61 on bus (NULL: none). irq0 is pulsed on each
 * rising edge of counter 0's output; clock and changed may be NULL. */
struct pit *pit_create(struct iobus *bus, const struct irq_line *irq0,
                       const struct pit_clock *clock, const struct pit_changed_fn *changed);
void pit_destroy(struct pit *pit);

/* When counter 0's output next rises (absolute, in the clock's ns), or
 * PIT_NO_EVENT if it will not by itself. */
uint64_t pit_next_event_ns(struct pit *pit);

/* Raises IRQ 0 if counter 0's output rose since the last call; true if it did. */
bool pit_tick(struct pit *pit);

#endif

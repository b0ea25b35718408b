/*
 * The I/O APIC of a PC at 0xfec00000 (docs/hvm.md "Interrupt controllers"):
 * an 82093AA-style version 0x11 with 24 pins, IOREGSEL at +0x00 and IOWIN
 * at +0x10.
 *
 * With KVM's split irqchip the LAPICs are in KVM and this model delivers
 * each interrupt as the MSI its redirection entry describes, through an
 * msi_sink (KVM_SIGNAL_MSI, or KVM_IRQ_LINE on a GSI routed to that MSI).
 * KVM tells userspace of the EOI of a level-triggered vector with
 * KVM_EXIT_IOAPIC_EOI: the VMM calls ioapic_eoi() with it. KVM exits on
 * such an EOI only for vectors it finds in MSI routes of the first
 * KVM_CAP_SPLIT_IRQCHIP-reserved GSIs, so the integrator mirrors every pin
 * as a route (KVM_SET_GSI_ROUTING, GSI = pin) from the route callback.
 */
#ifndef TANDEM_VMM_DEV_IOAPIC_H
#define TANDEM_VMM_DEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

#define IOAPIC_BASE    0xfec00000ull
#define IOAPIC_SIZE    0x1000
#define IOAPIC_PINS    24
#define IOAPIC_VERSION 0x00170011u     /* max redirection entry 23, version 0x11 */

struct iobus;
struct ioapic;

/* A pin's entry changed: its message now, and whether it is masked. Called
 * with the IOAPIC's lock held; it must not call back into the IOAPIC. */
struct ioapic_route_fn {
    void (*changed)(void *opaque, unsigned int pin, uint64_t addr, uint32_t data, bool masked);
    void *opaque;
};

/* Registers [IOAPIC_BASE, +IOAPIC_SIZE) on bus (NULL: none, for tests).
 * msi receives every delivery (called with the IOAPIC's lock held; it
 * must not call back). route may be NULL. */
struct ioapic *ioapic_create(struct iobus *bus, const struct msi_sink *msi,
                             const struct ioapic_route_fn *route);
void ioapic_destroy(struct ioapic *io);

/* Input gsi (0-23) asserted or not; matches irq_line's set. The level is
 * the input's logical state: the polarity bit is kept for the guest to
 * read but the devices' lines are already active-high. */
void ioapic_set_irq(void *ioapic, unsigned int gsi, bool level);

/* The EOI of vector by a LAPIC (KVM_EXIT_IOAPIC_EOI): every level-triggered
 * pin with that vector and remote IRR set clears it, and delivers again if
 * its input is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* The MSI that pin's entry sends (addr 0xfee00000 | dest << 12 |
 * destmode << 2; data vector | delivery mode << 8 | trigger << 15): 0, or
 * -1 for a pin past 23. */
int ioapic_pin_msi(struct ioapic *io, unsigned int pin, uint64_t *addr, uint32_t *data);

#endif

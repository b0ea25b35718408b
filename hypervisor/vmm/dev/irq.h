/*
 * Interrupts between tandem-vmm's device models (docs/vmm.md "Devices").
 * A device drives the level of its line; the controller at the other end
 * (i8259 pair, IOAPIC) decides what an edge or a level means. A device
 * with MSI or MSI-X sends a message through an msi_sink instead.
 */
#ifndef TANDEM_VMM_DEV_IRQ_H
#define TANDEM_VMM_DEV_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line {
    void (*set)(void *opaque, unsigned int line, bool level);
    void *opaque;
    unsigned int line;         /* the ISA IRQ or GSI this device is wired to */
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
    if (l && l->set)
        l->set(l->opaque, l->line, level);
}

/* An edge for an edge-triggered input: up, then down. */
static inline void irq_line_pulse(const struct irq_line *l)
{
    irq_line_set(l, true);
    irq_line_set(l, false);
}

/* A message-signalled interrupt (address and data as the guest programmed
 * them: LAPIC MSI format). Returns 0, or -1 if it could not be delivered. */
struct msi_sink {
    int (*send)(void *opaque, uint64_t addr, uint32_t data);
    void *opaque;
};

static inline int msi_send(const struct msi_sink *s, uint64_t addr, uint32_t data)
{
    return s && s->send ? s->send(s->opaque, addr, data) : -1;
}

#endif

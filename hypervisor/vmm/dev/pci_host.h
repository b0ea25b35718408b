/*
 * The PC chipset's PCI functions (docs/hvm.md "PCI"): the i440FX host
 * bridge at 00:00.0 (PAM registers for the shadow RAM at 0xc0000-0xfffff,
 * SMRAM at 0x72) and the PIIX3 PCI-to-ISA bridge at 00:01.0 (PIRQ routes
 * 0x60-0x63 to ISA IRQs).
 */
#ifndef TANDEM_VMM_DEV_PCI_HOST_H
#define TANDEM_VMM_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"
#include "dev/pci.h"

#define I440FX_PAM0   0x59
#define I440FX_SMRAM  0x72
#define PIIX3_PIRQRC  0x60

/* A PAM segment's mode: where reads and writes of it go. */
enum pam_mode {
    PAM_PCI = 0,               /* both to PCI (the firmware ROM) */
    PAM_READ_ONLY = 1,         /* reads RAM, writes to PCI (dropped) */
    PAM_WRITE_ONLY = 2,        /* reads PCI (ROM), writes RAM */
    PAM_READ_WRITE = 3,        /* RAM */
};
#define PAM_SEGMENTS 13        /* 0: 0xf0000-0xfffff; 1-12: 16 KiB each from 0xc0000 */

struct i440fx_fn {
    /* Segment seg ([base, base + size)) changed mode. */
    void (*pam_changed)(void *opaque, unsigned int seg, uint32_t base, uint32_t size,
                        enum pam_mode mode);
    /* 0xa0000-0xbffff shows SMRAM to ordinary accesses (D_OPEN and
     * G_SMRAME) or the VGA window again. */
    void (*smram_changed)(void *opaque, bool open);
    void *opaque;
};

struct i440fx;
struct piix3;

/* Callbacks run with the PCI bus's configuration lock held (pci.h). */
struct i440fx *i440fx_create(struct pci_bus *bus, const struct i440fx_fn *fn);
void i440fx_destroy(struct i440fx *host);
enum pam_mode i440fx_pam_mode(struct i440fx *host, unsigned int seg);
/* The range segment seg covers: 0, or -1 past the last. */
int i440fx_pam_segment(unsigned int seg, uint32_t *base, uint32_t *size);
/* The PAM segment holding gpa, -1 outside 0xc0000-0xfffff. */
int i440fx_pam_segment_at(uint64_t gpa);

/* isa_irq.set(opaque, irq, level) drives ISA IRQ irq (3-15) for the PCI
 * interrupts routed to it; the caller wires it to the PIC and the IOAPIC's
 * GSI of the same number. The routed IRQs must be level-triggered in the
 * PIC's ELCR: SeaBIOS sets those bits itself (ports 0x4d0/0x4d1). The
 * PIIX3 becomes the bus's INTx router. */
struct piix3 *piix3_create(struct pci_bus *bus, const struct irq_line *isa_irq);
void piix3_destroy(struct piix3 *isa);
/* The ISA IRQ PIRQ pirq (0-3) goes to, or -1 (disabled or reserved). */
int piix3_pirq_irq(struct piix3 *isa, unsigned int pirq);

#endif

/*
 * The two cascaded i8259A PICs of a PC (docs/hvm.md "Interrupt
 * controllers"): master at ports 0x20/0x21, slave at 0xa0/0xa1 on the
 * master's IRQ 2, and the PIIX3's ELCR registers at 0x4d0/0x4d1 that make
 * an input level- instead of edge-triggered.
 *
 * The VMM runs KVM's split irqchip: the LAPIC is in KVM, so the PIC's INTR
 * pin goes to the vCPU that accepts ExtINT (the BSP's LINT0 in virtual-wire
 * mode). The integrator's intr callback sees INTR change; when INTR is high
 * and the vCPU can take an interrupt (kvm_run->ready_for_interrupt_injection
 * with request_interrupt_window set to get there), it calls pic_ack() (the
 * INTA cycle) and injects the vector it returns with KVM_INTERRUPT.
 */
#ifndef TANDEM_VMM_DEV_PIC_H
#define TANDEM_VMM_DEV_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

struct iobus;
struct pic;

/* Registers 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1 on bus (NULL: none, for
 * tests). intr receives the INTR level (its line field is not used); it is
 * called with the PIC's lock held and must not call back into the PIC. */
struct pic *pic_create(struct iobus *bus, const struct irq_line *intr);
void pic_destroy(struct pic *pic);

/* Input irq (0-15) at level (true = asserted). Matches irq_line's set, so
 * { pic_set_irq, pic, n } is a device's line to the PIC. */
void pic_set_irq(void *pic, unsigned int irq, bool level);

/* The INTA cycle: the vector of the highest-priority unmasked request, now
 * in service; with nothing to deliver (the request went away), the
 * spurious IRQ 7 of the master (or IRQ 15 of the slave), as the 8259A. */
int pic_ack(struct pic *pic);

/* The INTR pin's level now. */
bool pic_intr(struct pic *pic);

#endif

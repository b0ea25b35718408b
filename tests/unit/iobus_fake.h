/* A stand-in for tandem-vmm's I/O bus (hypervisor/vmm/iobus.h) for the
 * device-model tests: the same interface, a fixed table, no locking (the
 * tests are single-threaded), plus helpers that play a vCPU's in/out. */
#ifndef TANDEM_TESTS_IOBUS_FAKE_H
#define TANDEM_TESTS_IOBUS_FAKE_H

#include <stdint.h>

#include "dev/irq.h"
#include "iobus.h"

/* How many ranges are registered in space (to check create/destroy). */
unsigned iobus_fake_count(const struct iobus *bus, enum iobus_space space);

/* Port I/O as a vCPU's in/out of len bytes (little-endian value). An
 * access nothing serves reads as all ones, like a floating ISA bus. */
uint32_t fake_in(struct iobus *bus, uint16_t port, uint32_t len);
void fake_out(struct iobus *bus, uint16_t port, uint32_t len, uint32_t val);
static inline uint8_t fake_inb(struct iobus *b, uint16_t p) { return (uint8_t)fake_in(b, p, 1); }
static inline void fake_outb(struct iobus *b, uint16_t p, uint8_t v) { fake_out(b, p, 1, v); }

/* An interrupt line that records what a model does with it: the level,
 * and how many times it was set. A model driving another line number
 * aborts the test. */
struct fake_irq {
    unsigned line;
    bool level;
    unsigned changes;
};
struct irq_line fake_irq_line(struct fake_irq *fi, unsigned line);

#endif

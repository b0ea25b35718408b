/*
 * Helpers for the device-model suites (tests/unit/vmm_dev_*) over
 * tandem-vmm's own I/O bus (iobus.c): a model registers its ranges as it
 * does in tandem-vmm and a test plays a vCPU's accesses by address. Plus
 * interrupt recorders for the irq_line/msi_sink a model drives.
 */
#ifndef TANDEM_TESTS_VMM_DEV_BUS_H
#define TANDEM_TESTS_VMM_DEV_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"
#include "iobus.h"

/* Port and MMIO accesses through the bus; an access nobody claims reads as
 * all ones (as on a PC) and makes *claimed false when given. */
uint32_t tbus_in(struct iobus *bus, uint16_t port, uint32_t len);
void tbus_out(struct iobus *bus, uint16_t port, uint32_t len, uint32_t val);
uint64_t tbus_read(struct iobus *bus, uint64_t addr, uint32_t len);
void tbus_write(struct iobus *bus, uint64_t addr, uint32_t len, uint64_t val);
bool tbus_claimed(struct iobus *bus, enum iobus_space space, uint64_t addr, uint32_t len);
/* How many ranges are registered in space. */
unsigned tbus_count(struct iobus *bus, enum iobus_space space);

/* A hostile guest: n random reads and writes of 1, 2, 4 (and for MMIO 8)
 * bytes at random offsets of [base, base + len), from seed. */
void tbus_hammer(struct iobus *bus, enum iobus_space space, uint64_t base, uint64_t len,
                 unsigned n, unsigned seed);

/* Records line levels (up to 32 lines), edges and MSIs. */
#define TREC_MSI_MAX 64
struct trec {
    bool level[32];
    unsigned rises[32], falls[32];
    unsigned nmsi;
    uint64_t msi_addr[TREC_MSI_MAX];
    uint32_t msi_data[TREC_MSI_MAX];
};
void trec_set(void *rec, unsigned int line, bool level);
int trec_msi(void *rec, uint64_t addr, uint32_t data);

/* One line's recorder: its level and how many times it was set. A model
 * driving another line number aborts the test. */
struct fake_irq {
    unsigned line;
    bool level;
    unsigned changes;
};
struct irq_line fake_irq_line(struct fake_irq *fi, unsigned line);

#endif

/*
 * A test-only I/O bus for the device-model suites (tests/unit/vmm_dev_*):
 * the iobus.h functions over a small array, so that a model registers its
 * ranges as it will in tandem-vmm and a test reaches them by address. Plus
 * an interrupt recorder for the irq_line/msi_sink a model drives.
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

#endif

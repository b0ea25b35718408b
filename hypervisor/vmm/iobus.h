/*
 * tandem-vmm's I/O bus (docs/vmm.md "Devices"): the port and MMIO ranges a
 * device registers, looked up by the vCPU exit handler. A device is one
 * file in hypervisor/vmm/dev/; it registers its ranges in its init and
 * they go with iobus_unregister (or with the whole bus).
 *
 * Handlers run on the vCPU thread that took the exit, with no VMM lock
 * held: a device keeps its own lock where its state is shared. Ranges may
 * be registered and removed while vCPUs run (a PCI BAR moving); the bus
 * guarantees that once iobus_unregister returns, no handler of that range
 * is running or will run.
 */
#ifndef TANDEM_VMM_IOBUS_H
#define TANDEM_VMM_IOBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

enum iobus_space { IOBUS_PIO, IOBUS_MMIO, IOBUS_NR_SPACES };

/* One access of len bytes (1, 2, 4 or 8; for PIO at most 4) at offset off
 * from the start of the registered range. A write gives data; a read fills
 * it (the bus zeroes it first, so a handler that leaves it gives 0). v is
 * the vCPU that made the access, NULL when a test or a DMA path calls. */
typedef void (*iobus_fn)(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data,
                         uint32_t len, bool is_write);

struct iobus_range {
    enum iobus_space space;
    uint64_t base, len;
    iobus_fn fn;
    void *opaque;
    const char *name;          /* the device's name: logs, `tandem-vmm --devices` */
};

struct iobus;

struct iobus *iobus_new(void);
void iobus_free(struct iobus *bus);

/* 0, or -1 with errno EEXIST (it overlaps a range already there) or
 * EINVAL (len 0, wraps, or a port range past 0xffff). */
int iobus_register(struct iobus *bus, const struct iobus_range *r);
/* Removes the range that starts at base in space: 0, or -1 (ENOENT). */
int iobus_unregister(struct iobus *bus, enum iobus_space space, uint64_t base);

/* Calls the handler of the range holding [addr, addr + len): true if one
 * did. An access that straddles the end of a range goes nowhere (false). */
bool iobus_access(struct iobus *bus, enum iobus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write, struct vcpu *v);

/* Calls fn for every range of space, in address order, with the bus's
 * writers held off (fn must not register or unregister). */
void iobus_foreach(struct iobus *bus, enum iobus_space space,
                   void (*fn)(const struct iobus_range *r, void *ctx), void *ctx);

#endif

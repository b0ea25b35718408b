/*
 * An NVMe controller (docs/hvm.md "NVMe"), the PC's disk: the second
 * front door of the block engine (backends/engine/blkeng.h), beside
 * blkback. A PCI function (class 01 08 02) with its registers and
 * doorbells in BAR0 and its MSI-X table in BAR4; the admin queue and up
 * to NVME_MAX_IO_QUEUES I/O queue pairs; each disk of the domain is a
 * namespace (1, 2, ...) over a blkeng_backing the caller opened.
 *
 * Threads: register accesses come from the vCPUs (any of them, on the
 * I/O bus); everything else - fetching commands, turning PRPs into host
 * iovecs over the guest's RAM (dev/dma.h), the engines, completions and
 * interrupts - happens on the controller's own thread, which sleeps in
 * poll() on its doorbell eventfd and its engines' io_urings. A doorbell
 * write stores the new value and wakes that thread (one eventfd write
 * per sleep, not per doorbell). With ioeventfd given (KVM's, by the VMM),
 * a guest that set up shadow doorbells (Doorbell Buffer Config, as Linux
 * does) rings the I/O queues' doorbells without an exit to the VMM: the
 * write goes to that eventfd in the kernel and the thread reads the
 * value from the shadow buffer.
 */
#ifndef TANDEM_VMM_DEV_NVME_H
#define TANDEM_VMM_DEV_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkeng_backing.h"
#include "dev/dma.h"
#include "dev/pci.h"

#define NVME_MAX_NS         16
#define NVME_MAX_IO_QUEUES  16
#define NVME_QUEUE_ENTRIES  1024     /* CAP.MQES + 1 */
#define NVME_MDTS           7        /* 2^7 pages of 4 KiB: 512 KiB a command */
#define NVME_BAR0_SIZE      0x4000
#define NVME_DOORBELLS      0x1000   /* BAR0 offset; stride 4 bytes (CAP.DSTRD 0) */

struct nvme;

struct nvme_config {
    const struct dev_dma *dma;                /* borrowed; outlives the controller */
    const struct blkeng_backing *ns[NVME_MAX_NS];   /* namespace i+1; borrowed */
    unsigned nr_ns;                           /* 1..NVME_MAX_NS */
    unsigned io_queues;                       /* queue pairs offered: 1..NVME_MAX_IO_QUEUES */
    char serial[21];                          /* Identify's SN (ASCII) */
    const char *name;                         /* log prefix, e.g. "nvme0" */
    /* KVM's ioeventfd for an MMIO address (4-byte writes, any value); NULL:
     * no Doorbell Buffer Config is offered and every doorbell exits. */
    int (*ioeventfd)(void *opaque, uint64_t gpa, int fd, bool assign);
    void *ioeventfd_opaque;
    /* Tests and fuzzing: no thread; the caller runs the controller with
     * nvme_run(), on its own thread, as the thread would. */
    bool manual;
};

struct nvme_stats {
    uint64_t commands, admin, reads, writes, flushes, dsm, errors;
    uint64_t read_bytes, write_bytes;
    uint64_t wakeups;                         /* times the thread woke up */
    uint64_t doorbell_exits;                  /* doorbell writes that reached the VMM */
    uint64_t interrupts;                      /* MSI-X messages or INTx raises */
};

/* The controller at devfn of bus, its thread started. NULL with a message. */
struct nvme *nvme_create(struct pci_bus *bus, unsigned devfn, const struct nvme_config *cfg,
                         char *err, size_t errlen);
/* Stops the thread (I/O in flight finishes first), unregisters, frees. */
void nvme_destroy(struct nvme *n);
void nvme_get_stats(struct nvme *n, struct nvme_stats *out);

/* manual: one round of the controller's work (registers, completions,
 * queues, interrupts); true while there is more (a command to take, a
 * request in the engines). */
bool nvme_run(struct nvme *n);

/* BAR0 as the guest sees it at offset off (for tests and a host-side
 * driver: the same handler the I/O bus calls). */
void nvme_mmio(struct nvme *n, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

#endif

/*
 * Guest memory as a bus-mastering device model sees it (docs/vmm.md
 * "Devices"): the NVMe controller and the e1000 read their queues and
 * move data by translating guest-physical addresses into the VMM's own
 * mapping of guest RAM, with no copy. A model never dereferences a guest
 * address it did not get back from dma_map: addresses outside RAM (the
 * PCI hole, the ROM, past the end) give NULL and the model reports a
 * data-transfer error to the guest.
 */
#ifndef TANDEM_VMM_DEV_DMA_H
#define TANDEM_VMM_DEV_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dev_dma {
    /* The host address of [gpa, gpa + len), which lies wholly in one
     * piece of guest RAM, or NULL. write: the device will store there. */
    void *(*map)(void *opaque, uint64_t gpa, uint64_t len, bool write);
    void *opaque;
    /* The mapping of guest RAM as one range (what an io_uring engine
     * registers as fixed buffers); NULL/0 if there is none. */
    uint8_t *ram;
    uint64_t ram_len;
};

static inline void *dma_map(const struct dev_dma *d, uint64_t gpa, uint64_t len, bool write)
{
    if (!len || gpa + len < gpa)
        return NULL;
    return d->map(d->opaque, gpa, len, write);
}

#endif

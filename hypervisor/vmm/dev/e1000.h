/*
 * Intel 82540EM Gigabit Ethernet controller (e1000) on Tandem's network
 * engine (backends/engine/neteng.h; docs/e1000.md).
 *
 * A PCI function (8086:100e, subsystem 8086:001e, class 02 00 00, INTA#)
 * with BAR 0 = 128 KiB of registers (MMIO) and BAR 1 = 64 bytes of I/O
 * (IOADDR/IODATA, the indirect window Linux's e1000 resets the 82540
 * through). The model registers each BAR on the bus's I/O bus
 * (pci_bus_iobus) where the guest places it.
 *
 * Threads: register accesses come on vCPU threads (any of them) and are
 * served under the model's mutex; the model owns one thread that drives
 * its engine (one engine, one io_uring, one tap queue) and sleeps in it,
 * woken through an eventfd when TDT is written or RDT gives room (one
 * write per wake-up, however often the guest writes). Frames go from
 * guest memory to the tap without a copy (iovecs into guest RAM), frames
 * from the tap are copied into the guest's receive buffers.
 *
 * Lock order: the model's mutex, then the PCI function's (pci_set_intx,
 * pci_cfg_get: the interrupt router runs under it). The PCI callbacks
 * (bar_update, cfg_write) take no lock of the model's.
 */
#ifndef TANDEM_VMM_DEV_E1000_H
#define TANDEM_VMM_DEV_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/dma.h"
#include "dev/pci.h"
#include "iobus.h"

struct e1000_config {
    int tap_fd;                        /* borrowed: one tap queue (neteng_tap_open); the model
                                          sets its offloads to none (whole frames, complete
                                          checksums) and must be destroyed before it closes */
    bool tap_is_socket;                /* tests: tap_fd is a SOCK_SEQPACKET socket speaking the
                                          tap's format (virtio-net header + frame a message) */
    uint8_t mac[6];                    /* the EEPROM's address (RAL0/RAH0 after reset) */
    const struct dev_dma *dma;         /* guest memory; outlives the model */
    const char *name;                  /* for logs ("e1000 00:03.0") */
};

/* What the model did, for the VMM's stats (guest view: tx = guest -> tap). */
struct e1000_stats {
    uint64_t tx_frames, tx_bytes;      /* frames handed to the tap (a TSO frame counts once) */
    uint64_t tx_dropped;               /* frames the model refused (descriptors, buffers, lengths) */
    uint64_t tx_tap_errors;            /* sends the tap refused */
    uint64_t rx_frames, rx_bytes;      /* frames placed in the guest */
    uint64_t rx_filtered;              /* not for this device's addresses */
    uint64_t rx_dropped;               /* runts, too long, receiver off, bad buffers */
    uint64_t kicks;                    /* eventfd writes (doorbells) */
};

/* The function at devfn of bus, with its thread running. NULL with a
 * message in err (the devfn is taken, the tap's offloads, the engine). */
struct e1000 *e1000_create(struct pci_bus *bus, unsigned devfn, const struct e1000_config *cfg,
                           char *err, size_t errlen);

/* Stops the thread after the sends in flight completed, frees the PCI
 * function (its BARs leave the bus: no handler runs after this) and the
 * engine. Call before pci_bus_free. */
void e1000_destroy(struct e1000 *e);

void e1000_get_stats(struct e1000 *e, struct e1000_stats *out);

#endif

/*
 * PCI bus 0 of the emulated PC (docs/hvm.md "PCI"): configuration
 * mechanism #1 (address at 0xcf8, data at 0xcfc-0xcff), type 0 headers of
 * 256 bytes, BARs with sizing, the capability list with MSI and MSI-X, and
 * INTx routed by the bus's router (the PIIX3, dev/pci_host.h).
 *
 * A device model creates its function with pci_dev_new, declares its BARs
 * and capabilities, and keeps its registers in its own file. pci.c tells
 * it through ops->bar_update when one of its BARs appears at, or leaves,
 * an address (the guest moved it, or switched I/O or memory decoding in
 * the command register), so that it can (un)register that range on the
 * I/O bus. MSI-X tables and PBAs live in a BAR: give that BAR to pci.c
 * (PCI_BAR_MSIX_ONLY) and it maps them itself, or call pci_msix_mmio from
 * the BAR's handler.
 *
 * Locks: configuration accesses are serialized by the bus; callbacks
 * (bar_update, cfg_write, the router) run under that serialization but with
 * no lock a vCPU's MMIO handler could wait for, so they may call
 * iobus_register/unregister, never a configuration access.
 */
#ifndef TANDEM_VMM_DEV_PCI_H
#define TANDEM_VMM_DEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"
#include "iobus.h"

#define PCI_CFG_SIZE   256
#define PCI_NUM_BARS   6

/* Standard header offsets. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO            0x0001
#define PCI_COMMAND_MEMORY        0x0002
#define PCI_COMMAND_MASTER        0x0004
#define PCI_COMMAND_INTX_DISABLE  0x0400
#define PCI_STATUS_INTERRUPT      0x0008
#define PCI_STATUS_CAP_LIST       0x0010

#define PCI_CAP_ID_MSI  0x05
#define PCI_CAP_ID_MSIX 0x11

/* BAR kinds (pci_bar_define flags). A 64-bit BAR takes the next slot too. */
#define PCI_BAR_IO         0x01
#define PCI_BAR_MEM32      0x02
#define PCI_BAR_MEM64      0x04
#define PCI_BAR_PREFETCH   0x08
#define PCI_BAR_MSIX_ONLY  0x10   /* holds only the MSI-X table/PBA: pci.c maps it */

#define PCI_DEVFN(slot, fn) ((unsigned)(slot) << 3 | (fn))

struct pci_bus;
struct pci_dev;

struct pci_dev_ops {
    /* BAR bar (its space, address and size) is now decoded (mapped true)
     * or no longer (false). A move reports the old place unmapped first.
     * The guest chooses the address: it may overlap another range, so
     * iobus_register can fail; remember that, and do not unregister a
     * range that was never yours. */
    void (*bar_update)(void *opaque, unsigned int bar, enum iobus_space space, uint64_t addr,
                       uint64_t size, bool mapped);
    /* After the guest wrote len bytes at off (the generic rules applied:
     * only bits the device made writable changed). */
    void (*cfg_write)(void *opaque, unsigned int off, unsigned int len, uint32_t val);
};

/* INTx router: PIRQ pirq (0-3 = PIRQA-D) has some device asserting (level)
 * or none. */
struct pci_intx_router {
    void (*set)(void *opaque, unsigned int pirq, bool level);
    void *opaque;
};

struct pci_dev_info {
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t revision;
    uint32_t class_code;       /* class << 16 | subclass << 8 | prog-if */
    uint8_t irq_pin;           /* 0 none, 1-4 INTA#-INTD# */
    bool multifunction;
    const char *name;
};

/* Bus 0 with its 0xcf8-0xcff ports on iobus (NULL: none, for tests; BARs
 * are then reported but not mapped by pci.c). msi receives every MSI and
 * MSI-X message. */
struct pci_bus *pci_bus_new(struct iobus *iobus, const struct msi_sink *msi);
void pci_bus_free(struct pci_bus *bus);
/* The I/O bus the device models register their BARs on (NULL in tests
 * that gave none). */
struct iobus *pci_bus_iobus(struct pci_bus *bus);
void pci_bus_set_router(struct pci_bus *bus, const struct pci_intx_router *r);
/* Port 0xcf9's reset request (bit 2 set; PIIX3 reset control register). */
void pci_bus_set_reset(struct pci_bus *bus, void (*reset)(void *opaque, bool hard), void *opaque);

/* The PIRQ (0-3) that INTx pin (1-4) of a device in slot lands on, as
 * SeaBIOS and QEMU's i440FX wire it: (slot + pin - 2) mod 4. */
unsigned pci_slot_pirq(unsigned int slot, unsigned int pin);

/* A function at devfn on bus 0: NULL with errno EEXIST (taken), EINVAL. */
struct pci_dev *pci_dev_new(struct pci_bus *bus, unsigned int devfn,
                            const struct pci_dev_info *info, const struct pci_dev_ops *ops,
                            void *opaque);
void pci_dev_free(struct pci_dev *dev);

/* A BAR of size bytes (a power of two: >= 4 for I/O, >= 16 for memory). */
int pci_bar_define(struct pci_dev *dev, unsigned int bar, uint64_t size, unsigned int flags);
/* Where the BAR decodes now (0 if it does not). */
uint64_t pci_bar_addr(struct pci_dev *dev, unsigned int bar);

/* Device-specific registers: initial bytes, and which bits the guest may
 * write (wmask, per byte). */
void pci_cfg_init(struct pci_dev *dev, unsigned int off, unsigned int len, uint32_t val,
                  uint32_t wmask);
uint32_t pci_cfg_get(struct pci_dev *dev, unsigned int off, unsigned int len);

/* Capabilities: the offset of the new one in config space, or -1. */
int pci_msi_init(struct pci_dev *dev, unsigned int nvec, bool addr64, bool maskable);
int pci_msix_init(struct pci_dev *dev, unsigned int nvec, unsigned int table_bar,
                  uint32_t table_off, unsigned int pba_bar, uint32_t pba_off);

/* Interrupts from the device. pci_notify sends vector through MSI-X or MSI,
 * whichever the guest enabled (a masked vector goes pending): 0, or -1 if
 * neither is enabled (the device then uses INTx). */
int pci_notify(struct pci_dev *dev, unsigned int vector);
void pci_set_intx(struct pci_dev *dev, bool level);
bool pci_msi_enabled(struct pci_dev *dev);
bool pci_msix_enabled(struct pci_dev *dev);

/* An access to the BAR holding the MSI-X table or PBA at offset off: true
 * if it fell on them (and was served). */
bool pci_msix_mmio(struct pci_dev *dev, unsigned int bar, uint64_t off, uint8_t *data,
                   uint32_t len, bool is_write);

/* Configuration reads and writes as mechanism #1 would make them (tests,
 * firmware helpers). */
uint32_t pci_cfg_read(struct pci_bus *bus, unsigned int devfn, unsigned int off, unsigned int len);
void pci_cfg_write(struct pci_bus *bus, unsigned int devfn, unsigned int off, unsigned int len,
                   uint32_t val);

#endif

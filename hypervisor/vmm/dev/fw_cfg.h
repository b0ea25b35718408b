/*
 * QEMU's firmware configuration device as SeaBIOS reads it (docs/hvm.md
 * "Emulated devices"; QEMU's docs/specs/fw_cfg.rst): selector port 0x510
 * (16-bit, little-endian), data port 0x511 (8-bit, read-only), DMA address
 * register 0x514-0x51b (64-bit big-endian; the write of its low half at
 * 0x518 starts the transfer). Items are blobs under a 16-bit key; named
 * ones ("files") are listed in the directory at FW_CFG_FILE_DIR.
 */
#ifndef TANDEM_VMM_DEV_FW_CFG_H
#define TANDEM_VMM_DEV_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iobus;
struct vcpu;

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514     /* high half; low half at 0x518 */

/* Keys. */
#define FW_CFG_SIGNATURE     0x00  /* "QEMU" */
#define FW_CFG_ID            0x01  /* le32 feature bits */
#define FW_CFG_UUID          0x02
#define FW_CFG_RAM_SIZE      0x03  /* le64 */
#define FW_CFG_NOGRAPHIC     0x04  /* le16 */
#define FW_CFG_NB_CPUS       0x05  /* le16 */
#define FW_CFG_MACHINE_ID    0x06
#define FW_CFG_NUMA          0x0d  /* le64 node count, le64 per CPU, le64 per node */
#define FW_CFG_BOOT_MENU     0x0e  /* le16 */
#define FW_CFG_MAX_CPUS      0x0f  /* le16 */
#define FW_CFG_FILE_DIR      0x19
#define FW_CFG_FILE_FIRST    0x20
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_ACPI_TABLES   (FW_CFG_ARCH_LOCAL + 0)   /* le16 count */
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)  /* le16 count */
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)   /* u8 */
#define FW_CFG_E820_TABLE    (FW_CFG_ARCH_LOCAL + 3)   /* le32 count of reservations */

#define FW_CFG_VERSION       0x01  /* FW_CFG_ID: the port interface */
#define FW_CFG_VERSION_DMA   0x02  /* FW_CFG_ID: the DMA interface */

/* FWCfgDmaAccess.control */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  0x51454d5520434647ULL   /* "QEMU CFG", big-endian */

#define FW_CFG_FILE_NAME  56       /* with its NUL */
#define FW_CFG_MAX_FILES  256

/* The guest's memory, for DMA: each returns 0, or -1 if any byte of
 * [gpa, gpa + len) is outside guest RAM (and then touches nothing). */
struct fw_cfg_dma_ops {
    int (*read)(void *opaque, uint64_t gpa, void *buf, size_t len);
    int (*write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
    void *opaque;
};

struct fw_cfg;

/* Registers the ports; with dma NULL there is no DMA interface (FW_CFG_ID
 * says so and 0x514 is not registered). NULL with errno set if a port is
 * taken or memory runs out. */
struct fw_cfg *fw_cfg_create(struct iobus *bus, const struct fw_cfg_dma_ops *dma);
void fw_cfg_destroy(struct fw_cfg *f);

/* A numbered item (copied; replaces one with the same key). -1 with errno
 * EINVAL for the keys the device owns (signature, ID, directory) and the
 * file keys, ENOMEM. */
int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
int fw_cfg_add_u8(struct fw_cfg *f, uint16_t key, uint8_t v);
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v);   /* little-endian */
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v);

/* A named item, listed in the directory; guest_writable lets DMA write
 * into it (never beyond its size). Returns its key, or -1 with errno
 * EEXIST (the name is there), ENAMETOOLONG, EINVAL (empty name, or larger
 * than 4 GiB), ENOSPC (FW_CFG_MAX_FILES), ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len,
                    bool guest_writable);

/* Copies up to cap bytes of an item (a guest may have written it) and
 * returns its size, or -1 if there is no such key. */
long fw_cfg_get(struct fw_cfg *f, uint16_t key, void *buf, size_t cap);

/* "etc/e820": 20-byte little-endian entries {addr, len, type}. */
struct fw_cfg_e820 {
    uint64_t addr, len;
    uint32_t type;
};
int fw_cfg_add_e820(struct fw_cfg *f, const struct fw_cfg_e820 *e, unsigned n);

/* The legacy items SeaBIOS's fw/paravirt.c reads, for a PC with cpus
 * vCPUs (max_cpus possible) and ram bytes of RAM, no NUMA nodes, no
 * tables passed in: NB_CPUS, MAX_CPUS, RAM_SIZE, NOGRAPHIC, BOOT_MENU,
 * NUMA, ACPI_TABLES, SMBIOS_ENTRIES, IRQ0_OVERRIDE, E820_TABLE, and the
 * file "etc/boot-cpus". 0, or -1 (errno from the adds). */
int fw_cfg_add_pc_items(struct fw_cfg *f, unsigned cpus, unsigned max_cpus, uint64_t ram);

void fw_cfg_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
               bool is_write);
void fw_cfg_dma_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write);

#endif

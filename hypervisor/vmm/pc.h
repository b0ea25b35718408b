/* The full-emulation platform, a PC (pc.c, docs/hvm.md "The PC"). */
#ifndef TANDEM_VMM_PC_H
#define TANDEM_VMM_PC_H

#include <stddef.h>
#include <stdint.h>

#include "blkeng_backing.h"
#include "config.h"
#include "ramdisk.h"

#define PC_ROM_MIN     0x10000u        /* firmware sizes: multiples of 64 KiB */
#define PC_ROM_MAX     (16u << 20)
/* RAM: up to 3 GiB from 0 (below the PCI hole), the rest from 4 GiB. */
#define PC_LOW_RAM_MAX 3072u           /* MiB */
#define PC_RAM_MAX     (1u << 20)      /* MiB: 1 TiB (and the host's memory, config.c) */
#define PC_HIGH_RAM_GPA (1ULL << 32)
/* 0xc0000-0xfffff: the i440FX's PAM segments, each a memory slot of its
 * own (PC_PAM_SLOT0 + segment), mapped as the PAM registers say (pc.c);
 * the PC's low RAM is slot 0 below them and PC_RAM_1M_SLOT above. */
#define PC_PAM_BASE     0xc0000ULL
#define PC_PAM_END      0x100000ULL
#define PC_RAM_1M_SLOT  3
#define PC_PAM_SLOT0    4
#define PC_RAM_MIN     2u              /* MiB: the firmware's copy at 0xe0000 fits */

struct vm;
struct vcpu;

/* The firmware image (SeaBIOS's bios-256k.bin, say), read before any VM
 * exists: a private copy that becomes the ROM. */
struct pc_firmware {
    uint8_t *data;
    size_t size;
};
int pc_firmware_open(const char *path, struct pc_firmware *fw, char *err, size_t errlen);
void pc_firmware_close(struct pc_firmware *fw);

/* The disks (--disk), opened before any VM exists: a bad path is bad
 * input. Each becomes an NVMe namespace. */
struct pc_disks {
    struct blkeng_backing b[VMM_MAX_DISKS];
    unsigned n;
};
int pc_disks_open(const struct vmm_config *cfg, struct pc_disks *d, char *err, size_t errlen);
void pc_disks_close(struct pc_disks *d);

/* A kernel on the PC (pc_boot.c): a Linux bzImage entered by the 64-bit
 * boot protocol with no firmware, or (with --firmware) any bzImage the
 * firmware's option ROM loads. Opened and checked before any VM exists. */
struct pc_kernel {
    uint8_t *data;                 /* the file (private mapping) */
    size_t len;
    size_t setup_len;              /* the real-mode part: (setup_sects + 1) * 512 */
    size_t hdr_end;                /* the setup header's end (0x202 + the jump's offset) */
    uint64_t load, kernel_end;     /* where the protected-mode part goes, and init_size's end */
    const char *cmdline;
    struct ramdisk rd;
    const char *ramdisk_path;
    /* With --firmware: QEMU's linuxboot_dma.bin, the option ROM that loads it. */
    const char *linuxboot;
    char rom_path[4200];
    uint8_t *rom;
    size_t rom_len;
};
int pc_kernel_open(const struct vmm_config *cfg, struct pc_kernel *k, char *err, size_t errlen);
void pc_kernel_close(struct pc_kernel *k);
struct pci_bus;
/* Kernel, zero page, e820, cmdline, initrd, page tables, GDT, MP table and
 * PCI set up as firmware would; vCPU 0 at the kernel's 64-bit entry. */
int pc_kernel_load(struct vm *vm, struct pc_kernel *k, struct pci_bus *bus);
/* The memory part of pc_kernel_load (vm->mem, ram_size, nr_vcpus; no KVM). */
int pc_kernel_layout(struct vm *vm, struct pc_kernel *k, struct pci_bus *bus);
/* With --firmware: the kernel, its setup, command line and initrd as
 * fw_cfg items and the option ROM that loads them first in the boot order. */
struct fw_cfg;
int pc_kernel_fw_cfg(struct pc_kernel *k, struct fw_cfg *fw);
/* pc_kernel_load (or, with firmware, pc_kernel_fw_cfg) on this VM's PC
 * (after pc_devices_init). */
int pc_direct_boot(struct vm *vm, struct pc_kernel *k);

/* The ROM's memory slot below 4 GiB and its low copy in RAM. 0 or -1. */
int pc_map_firmware(struct vm *vm, const struct pc_firmware *fw);

/* The machine's devices on vm->bus, after the main loop and the console
 * exist. 0, or -1 (said why; pc_devices_close undoes the part done). */
int pc_devices_init(struct vm *vm, const struct pc_disks *disks);
void pc_devices_close(struct vm *vm);

/* KVM's GSI routes 0-23: the IOAPIC pins that are unmasked, as the MSIs
 * their entries send (evtchn_irq_routes_update puts them in the table).
 * The number filled, at most max. */
struct kvm_irq_routing_entry;
unsigned pc_irq_routes(struct vm *vm, struct kvm_irq_routing_entry *e, unsigned max);
/* KVM_EXIT_IOAPIC_EOI: a level-triggered vector's EOI, to the IOAPIC. */
void pc_ioapic_eoi(struct vm *vm, uint8_t vector);

/* vCPU 0, before each KVM_RUN: the PICs' interrupt, injected when KVM can
 * take it, else an interrupt window asked for. */
void pc_before_run(struct vcpu *v);

#endif

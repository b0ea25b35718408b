/*
 * A kernel booted on the PC (docs/hvm.md "Direct boot"), two ways:
 *
 * With firmware (--firmware ROM --kernel FILE, QEMU's -kernel): the file's
 * real-mode setup, protected-mode part, command line and initrd are fw_cfg
 * items (QEMU's FW_CFG_SETUP_*, KERNEL_*, CMDLINE_*, INITRD_*, laid out as
 * QEMU lays them: setup at 0x10000, command line at 0x20000, kernel at
 * 1 MiB), and Debian's linuxboot_dma.bin (QEMU's option ROM, package
 * qemu-system-data) is the first boot entry: SeaBIOS runs it, it copies
 * them by fw_cfg DMA and enters the setup in real mode with the BIOS
 * there. Any bzImage of boot protocol 2.02+: Linux, iPXE's ipxe.lkrn.
 *
 * Without firmware (--machine pc --kernel FILE): the x86 64-bit boot protocol (Linux's
 * Documentation/arch/x86/boot.rst). The VMM does what a boot loader and
 * the firmware would have done:
 *
 *   0x00500  GDT: __BOOT_CS (0x10, 64-bit code), __BOOT_DS (0x18)
 *   0x07000  the zero page (struct boot_params): the setup header copied
 *            from the file, the loader's fields, the e820 map
 *   0x09000  page tables: 0..4 GiB identity-mapped with 2 MiB pages
 *   0x20000  the command line
 *   0xf0000  the MP table (Intel MP 1.4): every vCPU, the IOAPIC, the ISA
 *            IRQs and each PCI function's INTx, so that Linux finds the
 *            CPUs and routes interrupts with no ACPI
 *   kernel   the protected-mode part at the header's alignment (relocatable)
 *            or pref_address; entered at +0x200 (startup_64) in long mode
 *            with RSI = the zero page
 *   initrd   page-aligned, as high as the header's initrd_addr_max allows
 *
 * and, like SeaBIOS: 0xc0000-0xfffff made RAM (PAM), each PCI function's BARs get addresses (I/O from
 * 0xc000, memory from 0xe0000000), decoding and bus mastering on, and
 * its INTx a route through the PIIX3 (PIRQ A-D to IRQ 10, 10, 11, 11) with
 * the interrupt line register saying so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/fw_cfg.h"
#include "dev/pci.h"
#include "dev/pci_host.h"
#include "mapfile.h"
#include "pc.h"
#include "vmm.h"

#define GDT_GPA        0x500ULL
#define ZERO_PAGE_GPA  0x7000ULL
#define PML4_GPA       0x9000ULL
#define CMDLINE_GPA    0x20000ULL
#define CMDLINE_ROOM   0x10000ULL
#define MPTABLE_GPA    0xf0000ULL
#define EBDA_START     0x9fc00ULL
#define HIGH_START     0x100000ULL

/* The setup header (offsets in the file and in boot_params alike). */
#define HDR_SETUP_SECTS   0x1f1
#define HDR_JUMP          0x200
#define HDR_MAGIC         0x202    /* "HdrS" */
#define HDR_VERSION       0x206
#define HDR_LOADER_TYPE   0x210
#define HDR_LOADFLAGS     0x211
#define HDR_CODE32_START  0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE  0x21c
#define HDR_CMD_LINE_PTR  0x228
#define HDR_INITRD_MAX    0x22c
#define HDR_KERNEL_ALIGN  0x230
#define HDR_RELOCATABLE   0x234
#define HDR_XLOADFLAGS    0x236
#define HDR_CMDLINE_SIZE  0x238
#define HDR_PREF_ADDRESS  0x258
#define HDR_INIT_SIZE     0x260
#define BP_E820_ENTRIES   0x1e8
#define BP_E820_TABLE     0x2d0
#define BP_E820_MAX       128
#define LOADED_HIGH       0x01
#define XLF_KERNEL_64     0x01

#define PIRQ_IRQ_A 10                 /* PIRQA, PIRQB -> 10; PIRQC, PIRQD -> 11 (SeaBIOS's) */
#define PIRQ_IRQ_C 11

/* The RAM below 4 GiB: where the kernel, its data and the initrd go. */
static uint64_t low_ram(const struct vmm_config *cfg)
{
    uint64_t ram = cfg->memory_mib << 20, low = (uint64_t)PC_LOW_RAM_MAX << 20;
    return ram < low ? ram : low;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

#define LINUXBOOT_ROM "/usr/share/qemu/linuxboot_dma.bin"
#define FWB_SETUP_ADDR  0x10000ULL     /* QEMU's real_addr for protocol 2.02+ */
#define FWB_KERNEL_ADDR 0x100000ULL

/* $TANDEM_LINUXBOOT_ROM, else the build's copy beside the binary
 * (bin/../firmware/, what make copies there), else Debian's. */
static const char *linuxboot_path(char *buf, size_t len)
{
    const char *env = getenv("TANDEM_LINUXBOOT_ROM");
    if (env && *env)
        return env;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(buf, len, "%s/../firmware/linuxboot_dma.bin", self);
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    return LINUXBOOT_ROM;
}

/* The protocol 2.02+ kernel the firmware's option ROM loads. */
static int open_for_firmware(const struct vmm_config *cfg, struct pc_kernel *k, char *err,
                             size_t errlen)
{
    const uint8_t *h = k->data;
    uint16_t version = rd16(h + HDR_VERSION);
    if (version < 0x202 || !(h[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "kernel %s: boot protocol %u.%02u%s: the firmware loads a bzImage "
                 "of protocol 2.02 or later", cfg->kernel, version >> 8, version & 0xff,
                 h[HDR_LOADFLAGS] & LOADED_HIGH ? "" : " loaded low");
        return -1;
    }
    uint64_t ram = low_ram(cfg);
    if (FWB_KERNEL_ADDR + (k->len - k->setup_len) > ram) {
        snprintf(err, errlen, "kernel %s: does not fit in %llu MiB of RAM", cfg->kernel,
                 (unsigned long long)cfg->memory_mib);
        return -1;
    }
    k->load = FWB_KERNEL_ADDR;
    k->kernel_end = FWB_KERNEL_ADDR + (k->len - k->setup_len);
    k->linuxboot = linuxboot_path(k->rom_path, sizeof(k->rom_path));
    struct mapped_file rom;
    if (mapped_file_open(k->linuxboot, "option ROM (qemu-system-data's linuxboot_dma.bin)", 512,
                         1 << 20, 0, &rom, err, errlen))
        return -1;
    k->rom = rom.data;
    k->rom_len = rom.len;
    return 0;
}

/* The 64-bit entry's checks and the kernel's place. */
static int open_direct(const struct vmm_config *cfg, struct pc_kernel *k, char *err, size_t errlen)
{
    const uint8_t *h = k->data;
    const char *path = cfg->kernel;
    uint64_t ram = low_ram(cfg);
    uint16_t version = rd16(h + HDR_VERSION);
    if (version < 0x20c || !(rd16(h + HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
        snprintf(err, errlen, "kernel %s: boot protocol %u.%02u without a 64-bit entry "
                 "(XLF_KERNEL_64, 2.12+): direct boot uses the 64-bit boot protocol (with "
                 "--firmware the firmware boots older ones)", path, version >> 8, version & 0xff);
        return -1;
    }
    uint64_t align = rd32(h + HDR_KERNEL_ALIGN), pref = rd64(h + HDR_PREF_ADDRESS);
    uint64_t init = rd32(h + HDR_INIT_SIZE);
    uint64_t pm = k->len - k->setup_len;
    if (h[HDR_RELOCATABLE]) {
        if (!align || (align & (align - 1)) || align > (1ULL << 30))
            align = 2ULL << 20;
        k->load = (HIGH_START + align - 1) & ~(align - 1);
    } else {
        k->load = pref ? pref : HIGH_START;
    }
    if (init < pm)
        init = pm;
    if (k->load + init > ram) {
        snprintf(err, errlen, "kernel %s: needs %llu MiB at %#llx (init_size): more than the "
                 "%llu MiB of RAM", path, (unsigned long long)(init >> 20),
                 (unsigned long long)k->load, (unsigned long long)cfg->memory_mib);
        return -1;
    }
    k->kernel_end = k->load + init;
    return 0;
}

int pc_kernel_open(const struct vmm_config *cfg, struct pc_kernel *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof(*k));
    k->rd.fd = -1;
    uint64_t ram = low_ram(cfg);
    struct mapped_file f;
    if (mapped_file_open(cfg->kernel, "kernel", 0x1000, 256ULL << 20, 0, &f, err, errlen))
        return -1;
    k->data = f.data;
    k->len = f.len;
    const uint8_t *h = k->data;
    const char *path = cfg->kernel;
    if (memcmp(h + HDR_MAGIC, "HdrS", 4) || rd16(h + 0x1fe) != 0xaa55) {
        snprintf(err, errlen, "kernel %s: not a bzImage (no setup header): direct boot on the "
                 "PC takes a Linux bzImage", path);
        goto fail;
    }
    uint16_t version = rd16(h + HDR_VERSION);
    if (!(h[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "kernel %s: a zImage (loaded low): not supported", path);
        goto fail;
    }
    unsigned setup = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;
    k->setup_len = (size_t)(setup + 1) * 512;
    k->hdr_end = 0x202 + h[0x201];           /* the jump's target: the header's end */
    if (k->setup_len >= k->len || k->hdr_end > k->setup_len || k->hdr_end > 0x1000) {
        snprintf(err, errlen, "kernel %s: setup of %zu bytes does not fit in the file", path,
                 k->setup_len);
        goto fail;
    }
    k->cmdline = cfg->cmdline ? cfg->cmdline : "";
    if (cfg->firmware) {
        if (open_for_firmware(cfg, k, err, errlen))
            goto fail;
    } else if (open_direct(cfg, k, err, errlen)) {
        goto fail;
    }
    uint32_t cmax = version >= 0x206 ? rd32(h + HDR_CMDLINE_SIZE) : 255;
    if (!cmax || cmax >= CMDLINE_ROOM)
        cmax = CMDLINE_ROOM - 1;
    if (strlen(k->cmdline) > cmax) {
        snprintf(err, errlen, "--cmdline: %zu bytes, the kernel takes %u", strlen(k->cmdline), cmax);
        goto fail;
    }
    if (cfg->ramdisk) {
        /* Below initrd_addr_max (the protocol's rule), above the kernel;
         * under firmware, also below the 1 MiB at the top of RAM where
         * SeaBIOS keeps its tables. */
        uint64_t top = version >= 0x203 ? (uint64_t)rd32(h + HDR_INITRD_MAX) + 1 : 0x38000000ULL;
        uint64_t limit = cfg->firmware ? ram - (1ULL << 20) : ram;
        if (top > limit || top <= 1)
            top = limit;
        char why[256];
        if (ramdisk_open(cfg->ramdisk, top, k->kernel_end, &k->rd, why, sizeof(why))) {
            snprintf(err, errlen, "ramdisk %s: %s", cfg->ramdisk, why);
            goto fail;
        }
        k->ramdisk_path = cfg->ramdisk;
    }
    return 0;
fail:
    pc_kernel_close(k);
    return -1;
}

void pc_kernel_close(struct pc_kernel *k)
{
    struct mapped_file f = { k->data, k->len };
    mapped_file_close(&f);
    k->data = NULL;
    ramdisk_close(&k->rd);
    struct mapped_file r = { k->rom, k->rom_len };
    mapped_file_close(&r);
    k->rom = NULL;
}

/* ---- the e820 map ---- */

static unsigned e820(const struct vm *vm, uint8_t *table)
{
    static const struct { uint64_t addr, len; uint32_t type; } fixed[] = {
        { 0, EBDA_START, 1 },
        { EBDA_START, 0xa0000 - EBDA_START, 2 },
        { MPTABLE_GPA, 0x10000, 2 },               /* the MP table's BIOS area */
    };
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++, n++) {
        wr64(table + 20 * n, fixed[i].addr);
        wr64(table + 20 * n + 8, fixed[i].len);
        wr32(table + 20 * n + 16, fixed[i].type);
    }
    wr64(table + 20 * n, HIGH_START);
    wr64(table + 20 * n + 8, vm->ram_low - HIGH_START);
    wr32(table + 20 * n + 16, 1);
    n++;
    if (vm->ram_size > vm->ram_low) {              /* the rest, from 4 GiB */
        wr64(table + 20 * n, PC_HIGH_RAM_GPA);
        wr64(table + 20 * n + 8, vm->ram_size - vm->ram_low);
        wr32(table + 20 * n + 16, 1);
        n++;
    }
    wr64(table + 20 * n, 0xfec00000ULL);           /* IOAPIC */
    wr64(table + 20 * n + 8, 0x1000);
    wr32(table + 20 * n + 16, 2);
    n++;
    wr64(table + 20 * n, 0xfee00000ULL);           /* LAPIC */
    wr64(table + 20 * n + 8, 0x1000);
    wr32(table + 20 * n + 16, 2);
    return n + 1;
}

/* ---- PCI, as the firmware would leave it ---- */

struct pci_alloc {
    uint32_t io, mem;
};

static uint64_t bar_size(struct pci_bus *bus, unsigned devfn, unsigned off, bool io, bool is64)
{
    uint32_t old = pci_cfg_read(bus, devfn, off, 4);
    pci_cfg_write(bus, devfn, off, 4, 0xffffffff);
    uint64_t v = pci_cfg_read(bus, devfn, off, 4) & (io ? ~3u : ~15u);
    pci_cfg_write(bus, devfn, off, 4, old);
    if (!v)
        return 0;                                 /* no BAR there */
    if (is64) {
        uint32_t oldh = pci_cfg_read(bus, devfn, off + 4, 4);
        pci_cfg_write(bus, devfn, off + 4, 4, 0xffffffff);
        v |= (uint64_t)pci_cfg_read(bus, devfn, off + 4, 4) << 32;
        pci_cfg_write(bus, devfn, off + 4, 4, oldh);
    } else {
        v |= io ? 0xffffffffffff0000ULL : 0xffffffff00000000ULL;   /* I/O: 16 bits decoded */
    }
    return ~v + 1;
}

/* Addresses for the BARs of devfn, then decoding on. The PCI hole from
 * 0xe0000000 (RAM ends at 3 GiB at most) holds every BAR the PC has. */
static void pci_place(struct pci_bus *bus, unsigned devfn, struct pci_alloc *a)
{
    uint16_t cmd = PCI_COMMAND_MASTER;
    for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
        unsigned off = PCI_BAR0 + 4 * b;
        uint32_t v = pci_cfg_read(bus, devfn, off, 4);
        bool io = v & 1, is64 = !io && ((v >> 1) & 3) == 2;
        uint64_t size = bar_size(bus, devfn, off, io, is64);
        if (size) {
            uint32_t *next = io ? &a->io : &a->mem;
            uint64_t at = ((uint64_t)*next + size - 1) & ~(size - 1);
            uint64_t limit = io ? 0x10000 : 0xfec00000ULL;
            if (at + size <= limit) {
                pci_cfg_write(bus, devfn, off, 4, (uint32_t)at | (v & (io ? 3 : 15)));
                if (is64)
                    pci_cfg_write(bus, devfn, off + 4, 4, 0);
                *next = (uint32_t)(at + size);
                cmd |= io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
            } else {
                fprintf(stderr, "tandem-vmm: pc: no room for BAR %u of %02x.%u (%llu bytes)\n", b,
                        devfn >> 3, devfn & 7, (unsigned long long)size);
            }
        }
        if (is64)
            b++;
    }
    pci_cfg_write(bus, devfn, PCI_COMMAND, 2, pci_cfg_read(bus, devfn, PCI_COMMAND, 2) | cmd);
}

static unsigned pirq_irq(unsigned pirq)
{
    return pirq < 2 ? PIRQ_IRQ_A : PIRQ_IRQ_C;
}

/* ---- the MP table ---- */

struct mp {
    uint8_t *base, *p;
    uint16_t entries;
};

static void mp_bytes(struct mp *m, const void *b, size_t n)
{
    memcpy(m->p, b, n);
    m->p += n;
    m->entries++;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return (uint8_t)-s;
}

static void mp_irq(struct mp *m, uint8_t type, uint8_t kind, uint16_t flags, uint8_t bus,
                   uint8_t src, uint8_t dst_id, uint8_t dst_pin)
{
    uint8_t e[8] = { type, kind, (uint8_t)flags, (uint8_t)(flags >> 8), bus, src, dst_id, dst_pin };
    mp_bytes(m, e, sizeof(e));
}

#define MP_BUS_PCI 0
#define MP_BUS_ISA 1
#define MP_LEVEL_LOW 0x0f              /* PCI: active low, level-triggered */

static void build_mptable(struct vm *vm, struct pci_bus *bus)
{
    uint8_t *base = vm->mem + MPTABLE_GPA;
    memset(base, 0, 0x1000);
    struct mp m = { base + 16, base + 16 + 44, 0 };
    uint8_t ioapic_id = (uint8_t)vm->nr_vcpus;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        uint8_t e[20] = { 0, (uint8_t)i, 0x14, (uint8_t)(1 | (i == 0 ? 2 : 0)) };
        wr32(e + 4, 0x600);                        /* family 6 */
        wr32(e + 8, 0x201);                        /* FPU, APIC */
        mp_bytes(&m, e, sizeof(e));
    }
    uint8_t pci_bus_e[8] = { 1, MP_BUS_PCI, 'P', 'C', 'I', ' ', ' ', ' ' };
    uint8_t isa_bus_e[8] = { 1, MP_BUS_ISA, 'I', 'S', 'A', ' ', ' ', ' ' };
    mp_bytes(&m, pci_bus_e, sizeof(pci_bus_e));
    mp_bytes(&m, isa_bus_e, sizeof(isa_bus_e));
    uint8_t io[8] = { 2, ioapic_id, 0x11, 1 };
    wr32(io + 4, 0xfec00000u);
    mp_bytes(&m, io, sizeof(io));
    /* PCI INTx first: slot s pin p (1-4) is PIRQ (s + p - 2) mod 4. */
    bool pci_irq[16] = { false };
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if (pci_cfg_read(bus, devfn, PCI_VENDOR_ID, 2) == 0xffff)
            continue;
        unsigned pin = pci_cfg_read(bus, devfn, PCI_INTERRUPT_PIN, 1);
        if (pin < 1 || pin > 4)
            continue;
        unsigned irq = pirq_irq(pci_slot_pirq(devfn >> 3, pin));
        pci_irq[irq] = true;
        mp_irq(&m, 3, 0, MP_LEVEL_LOW, MP_BUS_PCI, (uint8_t)((devfn >> 3) << 2 | (pin - 1)),
               ioapic_id, (uint8_t)irq);
    }
    mp_irq(&m, 3, 3, 0, MP_BUS_ISA, 0, ioapic_id, 0);      /* ExtINT on pin 0 */
    for (unsigned irq = 0; irq < 16; irq++) {
        if (irq == 2 || pci_irq[irq])
            continue;
        mp_irq(&m, 3, 0, 0, MP_BUS_ISA, (uint8_t)irq, ioapic_id, (uint8_t)(irq == 0 ? 2 : irq));
    }
    mp_irq(&m, 4, 3, 0, MP_BUS_ISA, 0, 0xff, 0);           /* LINT0: ExtINT */
    mp_irq(&m, 4, 1, 0, MP_BUS_ISA, 0, 0xff, 1);           /* LINT1: NMI */
    uint8_t *h = base + 16;
    memcpy(h, "PCMP", 4);
    wr16(h + 4, (uint16_t)(m.p - h));
    h[6] = 4;
    memcpy(h + 8, "TANDEM  ", 8);
    memcpy(h + 16, "PC          ", 12);
    wr16(h + 34, m.entries);
    wr32(h + 36, 0xfee00000u);
    h[7] = checksum(h, (size_t)(m.p - h));
    /* The floating pointer, at a 16-byte boundary of the BIOS area. */
    memcpy(base, "_MP_", 4);
    wr32(base + 4, (uint32_t)(MPTABLE_GPA + 16));
    base[8] = 1;
    base[9] = 4;
    base[10] = checksum(base, 16);
}

static void pci_setup(struct pci_bus *bus)
{
    /* 0xc0000-0xfffff RAM, read and written (PAM 0x33; 0x30 for PAM0's
     * 0xf0000 half), as SeaBIOS leaves it while it sets up: the MP table
     * is in that RAM, and there is no ROM to show instead. */
    pci_cfg_write(bus, PCI_DEVFN(0, 0), I440FX_PAM0, 1, 0x30);
    for (unsigned i = 1; i < 7; i++)
        pci_cfg_write(bus, PCI_DEVFN(0, 0), I440FX_PAM0 + i, 1, 0x33);
    /* PIRQ A-D to IRQ 10, 10, 11, 11 in the PIIX3. */
    for (unsigned i = 0; i < 4; i++)
        pci_cfg_write(bus, PCI_DEVFN(1, 0), PIIX3_PIRQRC + i, 1, pirq_irq(i));
    struct pci_alloc a = { 0xc000, 0xe0000000u };
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if (pci_cfg_read(bus, devfn, PCI_VENDOR_ID, 2) == 0xffff)
            continue;
        if ((pci_cfg_read(bus, devfn, PCI_HEADER_TYPE, 1) & 0x7f) != 0)
            continue;
        pci_place(bus, devfn, &a);
        unsigned pin = pci_cfg_read(bus, devfn, PCI_INTERRUPT_PIN, 1);
        if (pin >= 1 && pin <= 4)
            pci_cfg_write(bus, devfn, PCI_INTERRUPT_LINE, 1,
                          pirq_irq(pci_slot_pirq(devfn >> 3, pin)));
    }
}

/* ---- putting it all in guest memory ---- */

int pc_kernel_layout(struct vm *vm, struct pc_kernel *k, struct pci_bus *bus)
{
    uint8_t *ram = vm->mem;
    /* The kernel's protected-mode part. */
    memcpy(ram + k->load, k->data + k->setup_len, k->len - k->setup_len);
    /* GDT. */
    uint8_t *gdt = ram + GDT_GPA;
    memset(gdt, 0, 32);
    wr64(gdt + 0x10, 0x00af9b000000ffffULL);      /* 64-bit code, DPL 0 */
    wr64(gdt + 0x18, 0x00cf93000000ffffULL);      /* data, 4 GiB flat */
    /* Identity map of 0..4 GiB with 2 MiB pages. */
    uint8_t *pt = ram + PML4_GPA;
    memset(pt, 0, 6 * 4096);
    wr64(pt, (PML4_GPA + 0x1000) | 3);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t pd = PML4_GPA + 0x2000 + 0x1000ULL * i;
        wr64(pt + 0x1000 + 8 * i, pd | 3);
        for (unsigned j = 0; j < 512; j++)
            wr64(ram + pd + 8 * j, ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83);
    }
    /* Command line. */
    size_t cl = strlen(k->cmdline);
    memcpy(ram + CMDLINE_GPA, k->cmdline, cl);
    ram[CMDLINE_GPA + cl] = 0;
    /* The zero page: the file's setup header, then what the loader says. */
    uint8_t *zp = ram + ZERO_PAGE_GPA;
    memset(zp, 0, 4096);
    memcpy(zp + HDR_SETUP_SECTS, k->data + HDR_SETUP_SECTS, k->hdr_end - HDR_SETUP_SECTS);
    zp[HDR_LOADER_TYPE] = 0xff;                   /* no registered boot loader id */
    wr32(zp + HDR_CODE32_START, (uint32_t)k->load);
    wr32(zp + HDR_CMD_LINE_PTR, (uint32_t)CMDLINE_GPA);
    if (k->rd.size) {
        char err[256];
        uint64_t gpa = k->rd.gpa, size = k->rd.size;
        if (ramdisk_load(&k->rd, ram, err, sizeof(err))) {
            fprintf(stderr, "tandem-vmm: ramdisk: %s\n", err);
            return -1;
        }
        wr32(zp + HDR_RAMDISK_IMAGE, (uint32_t)gpa);
        wr32(zp + HDR_RAMDISK_SIZE, (uint32_t)size);
    }
    zp[BP_E820_ENTRIES] = (uint8_t)e820(vm, zp + BP_E820_TABLE);
    /* PCI as the firmware leaves it, and the table that describes it. */
    pci_setup(bus);
    build_mptable(vm, bus);
    return 0;
}

int pc_kernel_load(struct vm *vm, struct pc_kernel *k, struct pci_bus *bus)
{
    if (pc_kernel_layout(vm, k, bus))
        return -1;
    /* vCPU 0 at startup_64; the others wait for their INIT/SIPI. */
    return vcpu_set_long_mode(&vm->vcpus[0], k->load + 0x200, ZERO_PAGE_GPA, PML4_GPA, GDT_GPA,
                              31);
}

/* ---- with firmware: fw_cfg items for its option ROM ---- */

#define FW_CFG_KERNEL_ADDR   0x07
#define FW_CFG_KERNEL_SIZE   0x08
#define FW_CFG_INITRD_ADDR   0x0a
#define FW_CFG_INITRD_SIZE   0x0b
#define FW_CFG_KERNEL_DATA   0x11
#define FW_CFG_INITRD_DATA   0x12
#define FW_CFG_CMDLINE_ADDR  0x13
#define FW_CFG_CMDLINE_SIZE  0x14
#define FW_CFG_CMDLINE_DATA  0x15
#define FW_CFG_SETUP_ADDR    0x16
#define FW_CFG_SETUP_SIZE    0x17
#define FW_CFG_SETUP_DATA    0x18

int pc_kernel_fw_cfg(struct pc_kernel *k, struct fw_cfg *fw)
{
    /* The setup with the loader's fields, as a boot loader writes them. */
    uint8_t *setup = malloc(k->setup_len);
    uint8_t *initrd = NULL;
    int r = -1;
    if (!setup)
        return -1;
    memcpy(setup, k->data, k->setup_len);
    setup[HDR_LOADER_TYPE] = 0xff;
    setup[HDR_LOADFLAGS] |= 0x80;                       /* CAN_USE_HEAP */
    wr16(setup + 0x224, (uint16_t)(CMDLINE_GPA - FWB_SETUP_ADDR - 0x200));   /* heap_end_ptr */
    wr32(setup + HDR_CMD_LINE_PTR, (uint32_t)CMDLINE_GPA);
    size_t cl = strlen(k->cmdline) + 1;
    if (k->rd.size) {
        initrd = malloc(k->rd.size);
        if (!initrd) {
            fprintf(stderr, "tandem-vmm: ramdisk: out of memory\n");
            goto out;
        }
        uint64_t done = 0;
        while (done < k->rd.size) {
            ssize_t n = pread(k->rd.fd, initrd + done, k->rd.size - done, (off_t)done);
            if (n <= 0) {
                fprintf(stderr, "tandem-vmm: ramdisk %s: %s\n", k->ramdisk_path,
                        n < 0 ? strerror(errno) : "shorter than it was");
                goto out;
            }
            done += (uint64_t)n;
        }
        wr32(setup + HDR_RAMDISK_IMAGE, (uint32_t)k->rd.gpa);
        wr32(setup + HDR_RAMDISK_SIZE, (uint32_t)k->rd.size);
    }
    static const char order[] = "/rom@genroms/linuxboot_dma.bin\n";
    if (fw_cfg_add_u32(fw, FW_CFG_SETUP_ADDR, (uint32_t)FWB_SETUP_ADDR) ||
        fw_cfg_add_u32(fw, FW_CFG_SETUP_SIZE, (uint32_t)k->setup_len) ||
        fw_cfg_add(fw, FW_CFG_SETUP_DATA, setup, k->setup_len) ||
        fw_cfg_add_u32(fw, FW_CFG_KERNEL_ADDR, (uint32_t)k->load) ||
        fw_cfg_add_u32(fw, FW_CFG_KERNEL_SIZE, (uint32_t)(k->len - k->setup_len)) ||
        fw_cfg_add(fw, FW_CFG_KERNEL_DATA, k->data + k->setup_len, k->len - k->setup_len) ||
        fw_cfg_add_u32(fw, FW_CFG_CMDLINE_ADDR, (uint32_t)CMDLINE_GPA) ||
        fw_cfg_add_u32(fw, FW_CFG_CMDLINE_SIZE, (uint32_t)cl) ||
        fw_cfg_add(fw, FW_CFG_CMDLINE_DATA, k->cmdline, cl) ||
        fw_cfg_add_u32(fw, FW_CFG_INITRD_ADDR, (uint32_t)k->rd.gpa) ||
        fw_cfg_add_u32(fw, FW_CFG_INITRD_SIZE, (uint32_t)k->rd.size) ||
        (initrd && fw_cfg_add(fw, FW_CFG_INITRD_DATA, initrd, k->rd.size)) ||
        fw_cfg_add_file(fw, "genroms/linuxboot_dma.bin", k->rom, k->rom_len, false) < 0 ||
        fw_cfg_add_file(fw, "bootorder", order, sizeof(order) - 1, false) < 0) {
        fprintf(stderr, "tandem-vmm: pc: the kernel's fw_cfg items: %s\n", strerror(errno));
        goto out;
    }
    r = 0;
out:
    free(setup);
    free(initrd);
    return r;
}

/* Check suite for the PC's direct boot (hypervisor/vmm/pc_boot.c): what a
 * bzImage must be to be taken (and the clear refusals), and what ends up
 * in guest memory: the zero page's header and loader fields, the e820
 * map, the command line, the initrd where the header allows, the page
 * tables and GDT, the MP table (checksums, CPUs, IOAPIC, interrupt
 * entries), and PCI left as firmware leaves it (BARs placed, decoding on,
 * PIRQ routes and interrupt lines). A synthetic bzImage; no KVM. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/pci.h"
#include "dev/pci_host.h"
#include "iobus.h"
#include "pc.h"
#include "vmm.h"

#define RAM (64ULL << 20)

static char dir[64], kpath[128], rdpath[128];
static struct vmm_config cfg;
static struct vm vm;
static char err[512];

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* A bzImage of 4 setup sectors + 64 KiB of "kernel" bytes. */
static void write_kernel(uint16_t version, uint16_t xload, uint8_t relocatable, uint32_t init_size)
{
    size_t setup = 5 * 512, pm = 65536;
    uint8_t *f = calloc(1, setup + pm);
    f[0x1f1] = 4;
    put16(f + 0x1fe, 0xaa55);
    f[0x200] = 0xeb;
    f[0x201] = 0x66;                       /* the header ends at 0x268 */
    memcpy(f + 0x202, "HdrS", 4);
    put16(f + 0x206, version);
    f[0x211] = 0x01;                       /* LOADED_HIGH */
    put32(f + 0x22c, 0x37ffffff);          /* initrd_addr_max */
    put32(f + 0x230, 0x200000);            /* kernel_alignment */
    f[0x234] = relocatable;
    put16(f + 0x236, xload);
    put32(f + 0x238, 255);                 /* cmdline_size */
    put32(f + 0x258, 0x1000000);           /* pref_address */
    put32(f + 0x260, init_size);
    for (size_t i = 0; i < pm; i++)
        f[setup + i] = (uint8_t)(i * 13 + 1);
    FILE *o = fopen(kpath, "wb");
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(fwrite(f, 1, setup + pm, o), setup + pm);
    fclose(o);
    free(f);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tandem-pcboot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(kpath, sizeof(kpath), "%s/bzImage", dir);
    snprintf(rdpath, sizeof(rdpath), "%s/initrd", dir);
    FILE *o = fopen(rdpath, "wb");
    for (int i = 0; i < 10000; i++)
        fputc(i & 0xff, o);
    fclose(o);
    memset(&cfg, 0, sizeof(cfg));
    cfg.kernel = kpath;
    cfg.memory_mib = RAM >> 20;
    cfg.cmdline = "console=ttyS0 lt.run=x";
    memset(&vm, 0, sizeof(vm));
    vm.cfg = &cfg;
    vm.ram_size = vm.ram_low = RAM;
    vm.nr_vcpus = 3;
    vm.mem = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(vm.mem, MAP_FAILED);
}

static void teardown(void)
{
    munmap(vm.mem, RAM);
    unlink(kpath);
    unlink(rdpath);
    rmdir(dir);
}

START_TEST(refusals)
{
    struct pc_kernel k;
    /* Not a bzImage at all. */
    FILE *o = fopen(kpath, "wb");
    for (int i = 0; i < 8192; i++)
        fputc(0x7f, o);
    fclose(o);
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a bzImage"));
    /* No 64-bit entry, or too old a protocol. */
    write_kernel(0x20f, 0, 1, 0x400000);
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "without a 64-bit entry"));
    write_kernel(0x20a, 1, 1, 0x400000);
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "boot protocol 2.10"));
    /* More than RAM. */
    write_kernel(0x20f, 1, 1, 0x7000000);
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than the 64 MiB of RAM"));
    /* A command line longer than the kernel takes. */
    write_kernel(0x20f, 1, 1, 0x400000);
    char longcl[400];
    memset(longcl, 'x', sizeof(longcl) - 1);
    longcl[sizeof(longcl) - 1] = 0;
    cfg.cmdline = longcl;
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "the kernel takes 255"));
    /* A missing ramdisk. */
    cfg.cmdline = "";
    cfg.ramdisk = "/nonexistent/initrd";
    ck_assert_int_eq(pc_kernel_open(&cfg, &k, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "ramdisk /nonexistent/initrd"));
}
END_TEST

START_TEST(layout)
{
    write_kernel(0x20f, 1, 1, 0x800000);
    cfg.ramdisk = rdpath;
    struct pc_kernel k;
    ck_assert_msg(pc_kernel_open(&cfg, &k, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(k.load, 0x200000);              /* 1 MiB rounded up to 2 MiB */
    struct iobus *bus = iobus_new();
    struct pci_bus *pci = pci_bus_new(bus, NULL);
    struct i440fx *host = i440fx_create(pci, NULL);
    struct piix3 *isa = piix3_create(pci, NULL);
    /* A device in slot 4 with a 64-bit memory BAR, an I/O BAR, INTA#. */
    struct pci_dev_info info = { .vendor = 0x1b36, .device = 0x10, .class_code = 0x010802,
                                 .irq_pin = 1, .name = "t" };
    struct pci_dev *d = pci_dev_new(pci, PCI_DEVFN(4, 0), &info, NULL, NULL);
    ck_assert_int_eq(pci_bar_define(d, 0, 0x4000, PCI_BAR_MEM64), 0);
    ck_assert_int_eq(pci_bar_define(d, 2, 0x100, PCI_BAR_IO), 0);
    ck_assert_int_eq(pc_kernel_layout(&vm, &k, pci), 0);
    uint8_t *m = vm.mem;
    /* The kernel's bytes at its load address. */
    ck_assert_uint_eq(m[0x200000], 1);
    ck_assert_uint_eq(m[0x200000 + 65535], (uint8_t)(65535 * 13 + 1));
    /* Zero page: the header copied, the loader's fields. */
    uint8_t *zp = m + 0x7000;
    ck_assert(memcmp(zp + 0x202, "HdrS", 4) == 0);
    ck_assert_uint_eq(get16(zp + 0x206), 0x20f);
    ck_assert_uint_eq(zp[0x210], 0xff);
    ck_assert_uint_eq(get32(zp + 0x228), 0x20000);
    ck_assert_str_eq((char *)m + 0x20000, "console=ttyS0 lt.run=x");
    uint32_t rd = get32(zp + 0x218), rds = get32(zp + 0x21c);
    ck_assert_uint_eq(rds, 10000);
    ck_assert_uint_eq(rd % 4096, 0);
    ck_assert_uint_ge(rd, 0x200000 + 0x800000);
    ck_assert_uint_le(rd + rds, RAM);
    ck_assert_uint_eq(m[rd + 300], 300 & 0xff);
    ck_assert_uint_eq(zp[0x269], 0);                  /* past the header: not copied */
    /* e820: low RAM, reserved EBDA and BIOS area, high RAM to the end. */
    unsigned n = zp[0x1e8];
    ck_assert_uint_eq(n, 6);
    uint8_t *e = zp + 0x2d0;
    ck_assert_uint_eq(get64(e + 0), 0);
    ck_assert_uint_eq(get64(e + 8), 0x9fc00);
    ck_assert_uint_eq(get32(e + 16), 1);
    ck_assert_uint_eq(get64(e + 60), 0x100000);
    ck_assert_uint_eq(get64(e + 68), RAM - 0x100000);
    ck_assert_uint_eq(get32(e + 76), 1);
    /* Page tables: the first 2 MiB page and the one at 3 GiB. */
    ck_assert_uint_eq(get64(m + 0x9000), 0xa003);
    ck_assert_uint_eq(get64(m + 0xb000), 0x83);
    ck_assert_uint_eq(get64(m + 0xb000 + 0x3000), 0xc0000083ULL);
    ck_assert_uint_eq(get64(m + 0x500 + 0x10), 0x00af9b000000ffffULL);
    /* MP table: both checksums, 3 CPUs (the first the BSP), the IOAPIC
     * with id 3, the device's INTA# (slot 4: PIRQ (4+1-2)%4 = D -> 11). */
    uint8_t *fp = m + 0xf0000;
    ck_assert(memcmp(fp, "_MP_", 4) == 0);
    uint8_t s = 0;
    for (int i = 0; i < 16; i++)
        s += fp[i];
    ck_assert_uint_eq(s, 0);
    uint8_t *t = m + get32(fp + 4);
    ck_assert(memcmp(t, "PCMP", 4) == 0);
    s = 0;
    for (unsigned i = 0; i < get16(t + 4); i++)
        s += t[i];
    ck_assert_uint_eq(s, 0);
    unsigned cpus = 0, bsp = 0, pci_int = 0, ioapic = 0, isa_int = 0;
    uint8_t *p = t + 44;
    for (unsigned i = 0; i < get16(t + 34); i++) {
        switch (p[0]) {
        case 0: cpus++; bsp += (p[3] & 2) != 0; p += 20; continue;
        case 2: ioapic++; ck_assert_uint_eq(p[1], 3); ck_assert_uint_eq(get32(p + 4), 0xfec00000u); break;
        case 3:
            if (p[4] == 0) {                              /* the PCI bus */
                pci_int++;
                ck_assert_uint_eq(p[5], 4 << 2);          /* slot 4, INTA# */
                ck_assert_uint_eq(p[7], 11);
                ck_assert_uint_eq(get16(p + 2), 0x0f);
            } else if (p[1] == 0) {
                isa_int++;
                ck_assert_uint_ne(p[5], 11);              /* the PCI IRQ is not ISA's */
                if (p[5] == 0)
                    ck_assert_uint_eq(p[7], 2);
            }
            break;
        default: break;
        }
        p += 8;
    }
    ck_assert_uint_eq(cpus, 3);
    ck_assert_uint_eq(bsp, 1);
    ck_assert_uint_eq(ioapic, 1);
    ck_assert_uint_eq(pci_int, 1);
    ck_assert_uint_eq(isa_int, 14);                       /* 0, 1, 3-10, 12-15 */
    /* PCI: BARs placed in the hole and at 0xc000, decoding on, the
     * interrupt line and the PIIX3's routes. */
    uint32_t bar0 = pci_cfg_read(pci, PCI_DEVFN(4, 0), 0x10, 4);
    ck_assert_uint_ge(bar0 & ~15u, 0xe0000000u);
    ck_assert_uint_eq(bar0 & 0x3fffu, 0x4);               /* 64-bit type kept, 16 KiB-aligned */
    ck_assert_uint_eq(pci_cfg_read(pci, PCI_DEVFN(4, 0), 0x14, 4), 0);
    ck_assert_uint_eq(pci_cfg_read(pci, PCI_DEVFN(4, 0), 0x18, 4) & ~3u, 0xc000);
    ck_assert_uint_eq(pci_cfg_read(pci, PCI_DEVFN(4, 0), PCI_COMMAND, 2) & 7, 7);
    ck_assert_uint_eq(pci_cfg_read(pci, PCI_DEVFN(4, 0), PCI_INTERRUPT_LINE, 1), 11);
    ck_assert_uint_eq(pci_cfg_read(pci, PCI_DEVFN(1, 0), 0x60, 4), 0x0b0b0a0au);
    pc_kernel_close(&k);
    pci_dev_free(d);
    piix3_destroy(isa);
    i440fx_destroy(host);
    pci_bus_free(pci);
    iobus_free(bus);
}
END_TEST

START_TEST(not_relocatable_at_pref_address)
{
    write_kernel(0x20f, 1, 0, 0x400000);
    struct pc_kernel k;
    ck_assert_msg(pc_kernel_open(&cfg, &k, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(k.load, 0x1000000);
    pc_kernel_close(&k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_pc_boot");
    TCase *tc = tcase_create("direct boot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, layout);
    tcase_add_test(tc, not_relocatable_at_pref_address);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Check suite for PCI (hypervisor/vmm/dev/pci.c, pci_host.c): configuration
 * mechanism #1, the header's masks, BAR sizing and the owner's map/unmap
 * reports, the capability list, MSI and MSI-X with their masks, the
 * i440FX's PAM and SMRAM registers as SeaBIOS writes them, and INTx
 * through the PIIX3's PIRQ routes. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "dev/pci.h"
#include "dev/pci_host.h"
#include "dev/pic.h"
#include "vmm_dev_bus.h"

static struct iobus *bus;
static struct trec msirec, isarec;
static struct pci_bus *pci;
static struct i440fx *host;
static struct piix3 *isa;

/* PAM and SMRAM reports. */
static unsigned npam, nsmram;
static enum pam_mode pam_seen[PAM_SEGMENTS];
static bool smram_open;
static unsigned resets;
static bool reset_hard;

static void on_pam(void *o, unsigned int seg, uint32_t base, uint32_t size, enum pam_mode m)
{
    (void)o;
    uint32_t b, s;
    ck_assert_int_eq(i440fx_pam_segment(seg, &b, &s), 0);
    ck_assert_uint_eq(b, base);
    ck_assert_uint_eq(s, size);
    pam_seen[seg] = m;
    npam++;
}

static void on_smram(void *o, bool open)
{
    (void)o;
    smram_open = open;
    nsmram++;
}

static void on_reset(void *o, bool hard)
{
    (void)o;
    resets++;
    reset_hard = hard;
}

static void setup(void)
{
    msirec = isarec = (struct trec){ 0 };
    npam = nsmram = resets = 0;
    for (unsigned i = 0; i < PAM_SEGMENTS; i++)
        pam_seen[i] = PAM_PCI;
    bus = iobus_new();
    struct msi_sink sink = { trec_msi, &msirec };
    pci = pci_bus_new(bus, &sink);
    ck_assert_ptr_nonnull(pci);
    struct i440fx_fn fn = { on_pam, on_smram, NULL };
    host = i440fx_create(pci, &fn);
    ck_assert_ptr_nonnull(host);
    struct irq_line isa_line = { trec_set, &isarec, 0 };
    isa = piix3_create(pci, &isa_line);
    ck_assert_ptr_nonnull(isa);
    pci_bus_set_reset(pci, on_reset, NULL);
}

static void teardown(void)
{
    piix3_destroy(isa);
    i440fx_destroy(host);
    pci_bus_free(pci);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_PIO), 0);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
    iobus_free(bus);
}

static uint32_t cfg_rd(unsigned devfn, unsigned off, unsigned len)
{
    tbus_out(bus, 0xcf8, 4, 0x80000000u | devfn << 8 | (off & 0xfc));
    return tbus_in(bus, 0xcfc + (off & 3), len);
}

static void cfg_wr(unsigned devfn, unsigned off, unsigned len, uint32_t v)
{
    tbus_out(bus, 0xcf8, 4, 0x80000000u | devfn << 8 | (off & 0xfc));
    tbus_out(bus, 0xcfc + (off & 3), len, v);
}

START_TEST(mechanism1)
{
    tbus_out(bus, 0xcf8, 4, 0xffffffff);
    ck_assert_uint_eq(tbus_in(bus, 0xcf8, 4), 0x80fffffc);   /* reserved bits read 0 */
    ck_assert_uint_eq(cfg_rd(0, 0, 4), 0x12378086);
    ck_assert_uint_eq(cfg_rd(0, 2, 2), 0x1237);
    ck_assert_uint_eq(cfg_rd(0, 1, 1), 0x80);
    ck_assert_uint_eq(cfg_rd(0, 3, 1), 0x12);
    ck_assert_uint_eq(cfg_rd(0, 8, 4), 0x06000002);          /* host bridge, rev 2 */
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(1, 0), 0, 4), 0x70008086);
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(1, 0), 8, 4) >> 8, 0x060100);
    /* Nothing there, another bus, or the enable bit off: all ones. */
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(2, 0), 0, 4), 0xffffffff);
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(0, 1), 0, 2), 0xffff);
    tbus_out(bus, 0xcf8, 4, 0x80010000u);
    ck_assert_uint_eq(tbus_in(bus, 0xcfc, 4), 0xffffffff);
    tbus_out(bus, 0xcf8, 4, 0x00000000u);
    ck_assert_uint_eq(tbus_in(bus, 0xcfc, 4), 0xffffffff);
    tbus_out(bus, 0xcfc, 4, 0);                               /* dropped */
    ck_assert_uint_eq(cfg_rd(0, 0, 4), 0x12378086);
    /* Vendor and device IDs are read-only. */
    cfg_wr(0, 0, 4, 0);
    ck_assert_uint_eq(cfg_rd(0, 0, 4), 0x12378086);
    /* Word and byte accesses to CONFIG_ADDRESS are not it. */
    tbus_out(bus, 0xcf8, 4, 0x80000000u);
    tbus_out(bus, 0xcf8, 2, 0x1234);
    tbus_out(bus, 0xcfa, 1, 0x55);
    ck_assert_uint_eq(tbus_in(bus, 0xcf8, 4), 0x80000000u);
    /* Reset control at 0xcf9: bit 2 asks, bit 1 says hard. */
    tbus_out(bus, 0xcf9, 1, 0x02);
    ck_assert_uint_eq(resets, 0);
    ck_assert_uint_eq(tbus_in(bus, 0xcf9, 1), 0x02);
    tbus_out(bus, 0xcf9, 1, 0x06);
    ck_assert_uint_eq(resets, 1);
    ck_assert(reset_hard);
    /* The direct helpers refuse out-of-range offsets. */
    ck_assert_uint_eq(pci_cfg_read(pci, 0, 255, 2), 0xffffffff);
    pci_cfg_write(pci, 0, 0x100, 1, 0);
}
END_TEST

/* A test function with BARs: records its owner reports. */
struct fake {
    struct pci_dev *dev;
    unsigned nupdate;
    unsigned last_bar;
    uint64_t last_addr, last_size;
    bool last_mapped;
    enum iobus_space last_space;
    uint64_t mapped[PCI_NUM_BARS];
};

static void fake_bar(void *opaque, unsigned int bar, enum iobus_space sp, uint64_t addr,
                     uint64_t size, bool mapped)
{
    struct fake *f = opaque;
    f->nupdate++;
    f->last_bar = bar;
    f->last_addr = addr;
    f->last_size = size;
    f->last_mapped = mapped;
    f->last_space = sp;
    if (mapped) {
        ck_assert_uint_eq(f->mapped[bar], 0);                 /* unmapped first */
        f->mapped[bar] = addr;
    } else {
        ck_assert_uint_eq(f->mapped[bar], addr);
        f->mapped[bar] = 0;
    }
}

static struct fake *fake_new(unsigned slot, uint8_t pin)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct pci_dev_info info = { .vendor = 0x1b36, .device = 0x0010, .class_code = 0x010802,
                                 .irq_pin = pin, .subsys_vendor = 0x1af4, .subsys_id = 0x1100,
                                 .name = "fake" };
    struct pci_dev_ops ops = { .bar_update = fake_bar };
    f->dev = pci_dev_new(pci, PCI_DEVFN(slot, 0), &info, &ops, f);
    ck_assert_ptr_nonnull(f->dev);
    return f;
}

static void fake_free(struct fake *f)
{
    pci_dev_free(f->dev);
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        ck_assert_uint_eq(f->mapped[i], 0);
    free(f);
}

START_TEST(header_masks)
{
    struct fake *f = fake_new(3, 1);
    unsigned d = PCI_DEVFN(3, 0);
    ck_assert_uint_eq(cfg_rd(d, 0x2c, 4), 0x11001af4);
    ck_assert_uint_eq(cfg_rd(d, 0x09, 1), 0x02);
    ck_assert_uint_eq(cfg_rd(d, 0x0e, 1), 0x00);
    ck_assert_uint_eq(cfg_rd(d, 0x3d, 1), 1);
    cfg_wr(d, 0x3c, 2, 0x040b);                               /* line writable, pin not */
    ck_assert_uint_eq(cfg_rd(d, 0x3c, 2), 0x010b);
    cfg_wr(d, 0x04, 2, 0xffff);
    ck_assert_uint_eq(cfg_rd(d, 0x04, 2), 0x0547);
    ck_assert_uint_eq(cfg_rd(d, 0x06, 2) & 0x10, 0);          /* no capabilities yet */
    cfg_wr(d, 0x0c, 2, 0x4010);                               /* cache line, latency */
    ck_assert_uint_eq(cfg_rd(d, 0x0c, 2), 0x4010);
    ck_assert_uint_eq(cfg_rd(d, 0x34, 1), 0);
    /* A second function at the same devfn is refused. */
    struct pci_dev_info info = { .vendor = 1 };
    ck_assert_ptr_null(pci_dev_new(pci, d, &info, NULL, NULL));
    ck_assert_ptr_null(pci_dev_new(pci, 256, &info, NULL, NULL));
    fake_free(f);
    ck_assert_uint_eq(cfg_rd(d, 0, 4), 0xffffffff);
}
END_TEST

START_TEST(bar_sizing)
{
    struct fake *f = fake_new(3, 1);
    unsigned d = PCI_DEVFN(3, 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 0, 0x4000, PCI_BAR_MEM64), 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 2, 0x100, PCI_BAR_IO), 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 3, 0x100000, PCI_BAR_MEM32 | PCI_BAR_PREFETCH), 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 1, 0x1000, PCI_BAR_MEM32), -1);   /* BAR 0's high half */
    ck_assert_int_eq(pci_bar_define(f->dev, 4, 0x3000, PCI_BAR_MEM32), -1);   /* not a power of 2 */
    ck_assert_int_eq(pci_bar_define(f->dev, 4, 2, PCI_BAR_IO), -1);
    ck_assert_int_eq(pci_bar_define(f->dev, 5, 0x1000, PCI_BAR_MEM64), -1);
    ck_assert_int_eq(pci_bar_define(f->dev, 4, 0x1000, PCI_BAR_IO | PCI_BAR_MEM32), -1);
    /* Type bits. */
    ck_assert_uint_eq(cfg_rd(d, 0x10, 4), 0x4);
    ck_assert_uint_eq(cfg_rd(d, 0x18, 4), 0x1);
    ck_assert_uint_eq(cfg_rd(d, 0x1c, 4), 0x8);
    /* Sizing as SeaBIOS and Linux do: all ones, read, restore. */
    cfg_wr(d, 0x10, 4, 0xffffffff);
    cfg_wr(d, 0x14, 4, 0xffffffff);
    ck_assert_uint_eq(cfg_rd(d, 0x10, 4), 0xffffc004);
    ck_assert_uint_eq(cfg_rd(d, 0x14, 4), 0xffffffff);
    cfg_wr(d, 0x18, 4, 0xffffffff);
    ck_assert_uint_eq(cfg_rd(d, 0x18, 4), 0xffffff01);
    cfg_wr(d, 0x1c, 4, 0xffffffff);
    ck_assert_uint_eq(cfg_rd(d, 0x1c, 4), 0xfff00008);
    cfg_wr(d, 0x20, 4, 0xffffffff);                           /* no BAR 4 */
    ck_assert_uint_eq(cfg_rd(d, 0x20, 4), 0);
    ck_assert_uint_eq(f->nupdate, 0);                         /* decoding is off */
    /* Decoding on with sizing patterns in place maps nothing. */
    cfg_wr(d, 0x04, 2, 0x0003);
    ck_assert_uint_eq(f->nupdate, 0);
    /* With decoding on, a 64-bit BAR decodes as soon as its halves make a
     * valid address: high half first gives 0x1_ffff_c000, then the move. */
    cfg_wr(d, 0x14, 4, 0x00000001);
    ck_assert_uint_eq(f->mapped[0], 0x1ffffc000ull);
    cfg_wr(d, 0x10, 4, 0xfebf0000);
    ck_assert_uint_eq(f->mapped[0], 0x1febf0000ull);
    ck_assert_uint_eq(f->nupdate, 3);
    ck_assert_uint_eq(f->last_size, 0x4000);
    ck_assert_int_eq(f->last_space, IOBUS_MMIO);
    ck_assert_uint_eq(pci_bar_addr(f->dev, 0), 0x1febf0000ull);
    cfg_wr(d, 0x18, 4, 0xc001);
    ck_assert_uint_eq(f->mapped[2], 0xc000);
    ck_assert_int_eq(f->last_space, IOBUS_PIO);
    ck_assert_uint_eq(cfg_rd(d, 0x18, 4), 0xc001);
    cfg_wr(d, 0x1c, 4, 0xfe000000);
    ck_assert_uint_eq(f->mapped[3], 0xfe000000);
    /* Low bits below the size do not stick. */
    cfg_wr(d, 0x18, 4, 0xc0ff);
    ck_assert_uint_eq(cfg_rd(d, 0x18, 4), 0xc001);
    /* A move: unmapped at the old place, mapped at the new. */
    unsigned n = f->nupdate;
    cfg_wr(d, 0x18, 4, 0xc101);
    ck_assert_uint_eq(f->nupdate, n + 2);
    ck_assert_uint_eq(f->mapped[2], 0xc100);
    /* A byte write to the BAR's second byte moves it too. */
    cfg_wr(d, 0x19, 1, 0xd0);
    ck_assert_uint_eq(f->mapped[2], 0xd000);
    /* I/O decode off: only the I/O BAR goes. */
    cfg_wr(d, 0x04, 2, 0x0002);
    ck_assert_uint_eq(f->mapped[2], 0);
    ck_assert_uint_ne(f->mapped[3], 0);
    cfg_wr(d, 0x04, 2, 0x0000);
    ck_assert_uint_eq(f->mapped[0], 0);
    ck_assert_uint_eq(f->mapped[3], 0);
    cfg_wr(d, 0x04, 2, 0x0003);
    ck_assert_uint_eq(f->mapped[0], 0x1febf0000ull);
    /* An I/O BAR past 64 KiB does not decode. */
    cfg_wr(d, 0x18, 4, 0x10001);
    ck_assert_uint_eq(f->mapped[2], 0);
    fake_free(f);                                             /* unmaps the rest */
}
END_TEST

START_TEST(msi)
{
    struct fake *f = fake_new(4, 1);
    unsigned d = PCI_DEVFN(4, 0);
    int cap = pci_msi_init(f->dev, 4, true, true);
    ck_assert_int_eq(cap, 0x40);
    ck_assert_int_eq(pci_msi_init(f->dev, 4, true, true), -1);    /* one MSI capability */
    ck_assert_int_eq(pci_msi_init(f->dev, 3, true, true), -1);
    ck_assert_uint_eq(cfg_rd(d, 0x06, 2) & 0x10, 0x10);
    ck_assert_uint_eq(cfg_rd(d, 0x34, 1), 0x40);
    ck_assert_uint_eq(cfg_rd(d, 0x40, 4), 0x01840005);         /* 64-bit, maskable, 4 vectors */
    ck_assert_int_eq(pci_notify(f->dev, 0), -1);              /* not enabled */
    cfg_wr(d, 0x44, 4, 0xfee01003);
    ck_assert_uint_eq(cfg_rd(d, 0x44, 4), 0xfee01000);         /* bits 1-0 reserved */
    cfg_wr(d, 0x48, 4, 0);
    cfg_wr(d, 0x4c, 2, 0x4060);
    cfg_wr(d, 0x42, 2, 0x0021);                               /* enable, 4 vectors */
    ck_assert(pci_msi_enabled(f->dev));
    ck_assert_int_eq(pci_notify(f->dev, 2), 0);
    ck_assert_uint_eq(msirec.nmsi, 1);
    ck_assert_uint_eq(msirec.msi_addr[0], 0xfee01000);
    ck_assert_uint_eq(msirec.msi_data[0], 0x4062);
    ck_assert_int_eq(pci_notify(f->dev, 4), -1);              /* past the enabled count */
    /* Masked: pending, sent on unmask. */
    cfg_wr(d, 0x50, 4, 0xff);
    ck_assert_uint_eq(cfg_rd(d, 0x50, 4), 0x0f);
    ck_assert_int_eq(pci_notify(f->dev, 1), 0);
    ck_assert_uint_eq(msirec.nmsi, 1);
    ck_assert_uint_eq(cfg_rd(d, 0x54, 4), 0x02);
    cfg_wr(d, 0x54, 4, 0);                                    /* pending is read-only */
    ck_assert_uint_eq(cfg_rd(d, 0x54, 4), 0x02);
    cfg_wr(d, 0x50, 4, 0x0d);
    ck_assert_uint_eq(msirec.nmsi, 2);
    ck_assert_uint_eq(msirec.msi_data[1], 0x4061);
    ck_assert_uint_eq(cfg_rd(d, 0x54, 4), 0);
    /* One vector enabled: the data goes as written. */
    cfg_wr(d, 0x42, 2, 0x0001);
    cfg_wr(d, 0x50, 4, 0);
    ck_assert_int_eq(pci_notify(f->dev, 0), 0);
    ck_assert_uint_eq(msirec.msi_data[2], 0x4060);
    fake_free(f);
}
END_TEST

static void msix_wr(struct pci_dev *dev, uint64_t off, uint32_t v)
{
    uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };
    ck_assert(pci_msix_mmio(dev, 0, off, b, 4, true));
}

static uint32_t msix_rd(struct pci_dev *dev, unsigned bar, uint64_t off)
{
    uint8_t b[4] = { 0 };
    ck_assert(pci_msix_mmio(dev, bar, off, b, 4, false));
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

START_TEST(msix)
{
    struct fake *f = fake_new(5, 1);
    unsigned d = PCI_DEVFN(5, 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 0, 0x4000, PCI_BAR_MEM32), 0);
    ck_assert_int_eq(pci_msix_init(f->dev, 100, 1, 0, 0, 0x3000), -1);   /* no BAR 1 */
    ck_assert_int_eq(pci_msix_init(f->dev, 1000, 0, 0x2000, 0, 0x3000), -1); /* overlaps */
    ck_assert_int_eq(pci_msi_init(f->dev, 1, false, false), 0x40);
    int cap = pci_msix_init(f->dev, 65, 0, 0x2000, 0, 0x3000);
    ck_assert_int_eq(cap, 0x4c);                              /* after the 10-byte MSI, aligned */
    ck_assert_uint_eq(cfg_rd(d, 0x41, 1), 0x4c);              /* the list: MSI -> MSI-X -> end */
    ck_assert_uint_eq(cfg_rd(d, 0x4c, 4), 0x00400011);        /* table size 65 - 1 */
    ck_assert_uint_eq(cfg_rd(d, 0x4d, 1), 0);
    ck_assert_uint_eq(cfg_rd(d, 0x50, 4), 0x2000);
    ck_assert_uint_eq(cfg_rd(d, 0x54, 4), 0x3000);
    /* The table: masked at reset; only vector control bit 0 writable. */
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x2000 + 64 * 16 + 12), 1);
    msix_wr(f->dev, 0x2000 + 64 * 16, 0xfee00000);
    msix_wr(f->dev, 0x2000 + 64 * 16 + 4, 0);
    msix_wr(f->dev, 0x2000 + 64 * 16 + 8, 0x45);
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x2000 + 64 * 16 + 8), 0x45);
    ck_assert_int_eq(pci_notify(f->dev, 64), -1);             /* not enabled */
    cfg_wr(d, 0x4e, 2, 0x8000);
    ck_assert(pci_msix_enabled(f->dev));
    ck_assert_int_eq(pci_notify(f->dev, 64), 0);              /* masked: pending */
    ck_assert_uint_eq(msirec.nmsi, 0);
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x3008), 1);         /* PBA bit 64 */
    msix_wr(f->dev, 0x3008, 0);                               /* PBA read-only */
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x3008), 1);
    msix_wr(f->dev, 0x2000 + 64 * 16 + 12, 0xfffffffe);
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x2000 + 64 * 16 + 12), 0);
    ck_assert_uint_eq(msirec.nmsi, 1);                        /* sent on unmask */
    ck_assert_uint_eq(msirec.msi_addr[0], 0xfee00000);
    ck_assert_uint_eq(msirec.msi_data[0], 0x45);
    ck_assert_uint_eq(msix_rd(f->dev, 0, 0x3008), 0);
    /* Function mask holds everything; clearing it flushes. */
    cfg_wr(d, 0x4e, 2, 0xc000);
    ck_assert_int_eq(pci_notify(f->dev, 64), 0);
    ck_assert_uint_eq(msirec.nmsi, 1);
    cfg_wr(d, 0x4e, 2, 0x8000);
    ck_assert_uint_eq(msirec.nmsi, 2);
    ck_assert_int_eq(pci_notify(f->dev, 64), 0);
    ck_assert_uint_eq(msirec.nmsi, 3);
    ck_assert_int_eq(pci_notify(f->dev, 65), -1);
    /* MSI-X wins over MSI when both are on. */
    cfg_wr(d, 0x42, 2, 0x0001);
    ck_assert_int_eq(pci_notify(f->dev, 64), 0);
    ck_assert_uint_eq(msirec.nmsi, 4);
    ck_assert_uint_eq(msirec.msi_data[3], 0x45);
    /* Off the table and PBA: not MSI-X's; odd sizes are ignored. */
    uint8_t b[8];
    ck_assert(!pci_msix_mmio(f->dev, 0, 0x1000, b, 4, false));
    ck_assert(!pci_msix_mmio(f->dev, 1, 0x2000, b, 4, false));
    ck_assert(pci_msix_mmio(f->dev, 0, 0x2001, b, 2, true));
    ck_assert(pci_msix_mmio(f->dev, 0, 0x2000, b, 8, false));   /* aligned qword */
    ck_assert_uint_eq(b[0], 0);
    fake_free(f);
}
END_TEST

/* Another device's range: accesses it takes are dropped. */
static void nothing_there(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                          bool is_write)
{
    (void)opaque, (void)v, (void)off, (void)data, (void)len, (void)is_write;
}

START_TEST(msix_own_bar)
{
    /* An MSI-X-only BAR: pci.c maps it on the I/O bus itself. */
    struct fake *f = fake_new(6, 0);
    unsigned d = PCI_DEVFN(6, 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 4, 0x1000, PCI_BAR_MEM32 | PCI_BAR_MSIX_ONLY), 0);
    ck_assert_int_eq(pci_msix_init(f->dev, 2, 4, 0, 4, 0x800), 0x40);
    cfg_wr(d, 0x20, 4, 0xfe800000);
    cfg_wr(d, 0x04, 2, 0x0002);
    ck_assert_uint_eq(f->nupdate, 0);                         /* not the owner's business */
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 1);
    tbus_write(bus, 0xfe800010, 4, 0xfee02000);
    tbus_write(bus, 0xfe800018, 4, 0x4033);
    tbus_write(bus, 0xfe80001c, 4, 0);
    ck_assert_uint_eq(tbus_read(bus, 0xfe800010, 4), 0xfee02000);
    cfg_wr(d, 0x42, 2, 0x8000);
    ck_assert_int_eq(pci_notify(f->dev, 1), 0);
    ck_assert_uint_eq(msirec.nmsi, 1);
    ck_assert_uint_eq(msirec.msi_data[0], 0x4033);
    ck_assert_int_eq(pci_notify(f->dev, 0), 0);               /* vector 0 still masked */
    ck_assert_uint_eq(tbus_read(bus, 0xfe800800, 4), 1);
    cfg_wr(d, 0x20, 4, 0xfe900000);                           /* moves with the BAR */
    ck_assert_uint_eq(tbus_read(bus, 0xfe900800, 4), 1);
    ck_assert(!tbus_claimed(bus, IOBUS_MMIO, 0xfe800800, 4));
    cfg_wr(d, 0x04, 2, 0);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
    /* Placed over someone else's range: undecoded, and moving away
     * leaves that range alone. */
    struct iobus_range other = { IOBUS_MMIO, 0xfea00000, 0x1000, nothing_there, NULL, "other" };
    ck_assert_int_eq(iobus_register(bus, &other), 0);
    cfg_wr(d, 0x20, 4, 0xfea00000);
    cfg_wr(d, 0x04, 2, 0x0002);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 1);
    cfg_wr(d, 0x20, 4, 0xfe800000);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 2);
    ck_assert(tbus_claimed(bus, IOBUS_MMIO, 0xfea00000, 4));
    ck_assert_int_eq(iobus_unregister(bus, IOBUS_MMIO, 0xfea00000), 0);
    fake_free(f);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
}
END_TEST

START_TEST(pam_as_seabios)
{
    /* make_bios_writable: PAM1-6 = 0x33, PAM0 = 0x30, by dwords at 0x58/0x5c. */
    uint32_t lo = cfg_rd(0, 0x58, 4), hi = cfg_rd(0, 0x5c, 4);
    ck_assert_uint_eq(lo, 0);
    ck_assert_uint_eq(hi, 0);
    ck_assert_uint_eq(cfg_rd(0, I440FX_PAM0, 1) & 0x10, 0);  /* "RAM not present" yet */
    cfg_wr(0, 0x58, 4, 0x33333000);
    cfg_wr(0, 0x5c, 4, 0x33333333);
    ck_assert_uint_eq(cfg_rd(0, 0x58, 4), 0x33333000);
    ck_assert_uint_eq(cfg_rd(0, 0x5c, 4), 0x33333333);        /* PAM3-6 */
    ck_assert_uint_eq(npam, PAM_SEGMENTS);
    for (unsigned s = 0; s < PAM_SEGMENTS; s++) {
        ck_assert_int_eq(pam_seen[s], PAM_READ_WRITE);
        ck_assert_int_eq(i440fx_pam_mode(host, s), PAM_READ_WRITE);
    }
    /* make_bios_readonly: 0x11 below, 0x31 at a half-used segment, 0x10 for 0xf0000. */
    cfg_wr(0, 0x58, 4, 0x11111000);
    cfg_wr(0, 0x5c, 4, 0x00313111);
    ck_assert_int_eq(pam_seen[0], PAM_READ_ONLY);
    ck_assert_int_eq(pam_seen[1], PAM_READ_ONLY);              /* 0xc0000 */
    ck_assert_int_eq(pam_seen[10], PAM_READ_WRITE);            /* PAM5 high nibble 3: 0xe4000 */
    ck_assert_int_eq(pam_seen[9], PAM_READ_ONLY);              /* 0xe0000 */
    ck_assert_int_eq(pam_seen[11], PAM_PCI);                   /* PAM6 = 0 */
    uint32_t b, s;
    ck_assert_int_eq(i440fx_pam_segment(10, &b, &s), 0);
    ck_assert_uint_eq(b, 0xe4000);
    ck_assert_int_eq(i440fx_pam_segment(13, &b, &s), -1);
    /* ... and back: every byte of each segment is in it, nothing outside */
    for (unsigned seg = 0; seg < PAM_SEGMENTS; seg++) {
        ck_assert_int_eq(i440fx_pam_segment(seg, &b, &s), 0);
        ck_assert_int_eq(i440fx_pam_segment_at(b), (int)seg);
        ck_assert_int_eq(i440fx_pam_segment_at(b + s - 1), (int)seg);
    }
    ck_assert_int_eq(i440fx_pam_segment_at(0xbffff), -1);
    ck_assert_int_eq(i440fx_pam_segment_at(0x100000), -1);
    /* Reserved bits stay 0; PAM0's low nibble is reserved. */
    cfg_wr(0, I440FX_PAM0, 1, 0xff);
    ck_assert_uint_eq(cfg_rd(0, I440FX_PAM0, 1), 0x30);
    unsigned n = npam;
    cfg_wr(0, I440FX_PAM0, 1, 0x30);                          /* no change, no report */
    ck_assert_uint_eq(npam, n);
}
END_TEST

START_TEST(smram)
{
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1), 0x02);
    cfg_wr(0, I440FX_SMRAM, 1, 0x02 | 0x48);                  /* SeaBIOS: open, enable */
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1), 0x4a);
    ck_assert(smram_open);
    cfg_wr(0, I440FX_SMRAM, 1, 0x02 | 0x08);                  /* close */
    ck_assert(!smram_open);
    ck_assert_uint_eq(nsmram, 2);
    cfg_wr(0, I440FX_SMRAM, 1, 0x05);                         /* C_BASE_SEG is fixed */
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1) & 7, 2);
    /* D_LCK: D_OPEN can no longer be set, G_SMRAME and D_LCK hold. */
    cfg_wr(0, I440FX_SMRAM, 1, 0x1a);
    cfg_wr(0, I440FX_SMRAM, 1, 0x42);
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1), 0x1a);
    ck_assert(!smram_open);
    cfg_wr(0, I440FX_SMRAM, 1, 0x20);                         /* D_CLS still writable */
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1), 0x3a);
    /* A dword write covering 0x70-0x73 reaches it too. */
    cfg_wr(0, 0x70, 4, 0x00000000);
    ck_assert_uint_eq(cfg_rd(0, I440FX_SMRAM, 1), 0x1a);
}
END_TEST

START_TEST(intx_routing)
{
    unsigned pd = PCI_DEVFN(1, 0);
    ck_assert_uint_eq(cfg_rd(pd, 0x60, 4), 0x80808080);        /* routes disabled at reset */
    /* SeaBIOS: PIRQA-D -> IRQ 10, 10, 11, 11. */
    cfg_wr(pd, 0x60, 1, 10);
    cfg_wr(pd, 0x61, 1, 10);
    cfg_wr(pd, 0x62, 1, 11);
    cfg_wr(pd, 0x63, 1, 11);
    ck_assert_uint_eq(cfg_rd(pd, 0x60, 4), 0x0b0b0a0a);
    ck_assert_int_eq(piix3_pirq_irq(isa, 2), 11);
    ck_assert_int_eq(piix3_pirq_irq(isa, 4), -1);
    /* The swizzle: slot 1 INTA is PIRQA; slot 3 INTA PIRQC; slot 3 INTB PIRQD. */
    ck_assert_uint_eq(pci_slot_pirq(1, 1), 0);
    ck_assert_uint_eq(pci_slot_pirq(3, 1), 2);
    ck_assert_uint_eq(pci_slot_pirq(3, 2), 3);
    ck_assert_uint_eq(pci_slot_pirq(4, 4), 2);
    struct fake *a = fake_new(3, 1), *b = fake_new(7, 1);     /* both PIRQC (7 + 1 - 2 = 6) */
    pci_set_intx(a->dev, true);
    ck_assert(isarec.level[11]);
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(3, 0), 0x06, 2) & 0x08, 0x08);   /* interrupt status */
    pci_set_intx(b->dev, true);
    pci_set_intx(a->dev, false);
    ck_assert(isarec.level[11]);                              /* b still holds the shared line */
    ck_assert_uint_eq(isarec.rises[11], 1);
    pci_set_intx(b->dev, false);
    ck_assert(!isarec.level[11]);
    /* INTx disable in the command register holds the line down. */
    pci_set_intx(a->dev, true);
    cfg_wr(PCI_DEVFN(3, 0), 0x04, 2, 0x0400);
    ck_assert(!isarec.level[11]);
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(3, 0), 0x06, 2) & 0x08, 0x08);
    cfg_wr(PCI_DEVFN(3, 0), 0x04, 2, 0x0000);
    ck_assert(isarec.level[11]);
    /* Re-routing moves an asserted line; disabling or a reserved IRQ drops it. */
    cfg_wr(pd, 0x62, 1, 5);
    ck_assert(!isarec.level[11]);
    ck_assert(isarec.level[5]);
    cfg_wr(pd, 0x62, 1, 0x85);
    ck_assert(!isarec.level[5]);
    cfg_wr(pd, 0x62, 1, 13);
    ck_assert_int_eq(piix3_pirq_irq(isa, 2), -1);
    for (unsigned i = 0; i < 16; i++)
        ck_assert(!isarec.level[i]);
    cfg_wr(pd, 0x62, 1, 0x7f);                                /* bits 6-4 reserved */
    ck_assert_uint_eq(cfg_rd(pd, 0x62, 1), 0x0f);
    ck_assert(isarec.level[15]);
    /* Freeing an asserting function releases its line. */
    fake_free(a);
    ck_assert(!isarec.level[15]);
    fake_free(b);
}
END_TEST

START_TEST(intx_to_pic)
{
    /* The PIIX3 wired to a real PIC, programmed as SeaBIOS does: PIRQs to
     * IRQ 10/11 and those IRQs level-triggered in the ELCR. A shared level
     * line interrupts again after EOI while any function still asserts. */
    piix3_destroy(isa);
    struct trec intr = { 0 };
    struct irq_line intr_line = { trec_set, &intr, 0 };
    struct pic *pic = pic_create(bus, &intr_line);
    ck_assert_ptr_nonnull(pic);
    struct irq_line to_pic = { pic_set_irq, pic, 0 };
    isa = piix3_create(pci, &to_pic);
    ck_assert_ptr_nonnull(isa);
    unsigned pd = PCI_DEVFN(1, 0);
    cfg_wr(pd, 0x60, 4, 0x0b0b0a0a);
    tbus_out(bus, 0x4d0, 1, 0x00);
    tbus_out(bus, 0x4d1, 1, 0x0c);
    const uint8_t icw[] = { 0x11, 0x08, 0x04, 0x01, 0x11, 0x70, 0x02, 0x01 };
    for (unsigned i = 0; i < 8; i++)
        tbus_out(bus, i < 4 ? (i ? 0x21 : 0x20) : (i > 4 ? 0xa1 : 0xa0), 1, icw[i]);
    tbus_out(bus, 0x21, 1, 0x00);
    tbus_out(bus, 0xa1, 1, 0x00);
    struct fake *a = fake_new(3, 1), *b = fake_new(7, 1);     /* PIRQC: IRQ 11 */
    pci_set_intx(a->dev, true);
    ck_assert(intr.level[0]);
    ck_assert_int_eq(pic_ack(pic), 0x73);
    pci_set_intx(b->dev, true);
    pci_set_intx(a->dev, false);
    tbus_out(bus, 0xa0, 1, 0x20);
    tbus_out(bus, 0x20, 1, 0x20);
    ck_assert(intr.level[0]);                                 /* b still asserts */
    ck_assert_int_eq(pic_ack(pic), 0x73);
    pci_set_intx(b->dev, false);
    tbus_out(bus, 0xa0, 1, 0x20);
    tbus_out(bus, 0x20, 1, 0x20);
    ck_assert(!intr.level[0]);
    fake_free(a);
    fake_free(b);
    piix3_destroy(isa);
    isa = NULL;
    pic_destroy(pic);
}
END_TEST

/* Configuration writes that move an MSI-X BAR and toggle masks, against a
 * device thread sending vectors and reading its table: no deadlock, and
 * every message either sent or left pending. */
static struct fake *race_dev;
static atomic_bool race_stop;

static void *race_notify(void *arg)
{
    unsigned *sent = arg;
    uint8_t b[4];
    while (!race_stop) {
        ck_assert_int_eq(pci_notify(race_dev->dev, 0), 0);
        (*sent)++;
        pci_msix_mmio(race_dev->dev, 0, 0x100, b, 4, false);
    }
    return NULL;
}

START_TEST(concurrent_msix)
{
    race_dev = fake_new(8, 0);
    unsigned d = PCI_DEVFN(8, 0);
    ck_assert_int_eq(pci_bar_define(race_dev->dev, 0, 0x1000, PCI_BAR_MEM32), 0);
    ck_assert_int_eq(pci_msix_init(race_dev->dev, 1, 0, 0, 0, 0x800), 0x40);
    uint8_t unmask[4] = { 0 };
    ck_assert(pci_msix_mmio(race_dev->dev, 0, 12, unmask, 4, true));
    cfg_wr(d, 0x42, 2, 0x8000);
    race_stop = false;
    unsigned sent = 0;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, race_notify, &sent), 0);
    for (unsigned i = 0; i < 20000; i++) {
        cfg_wr(d, 0x10, 4, 0xfe000000 + (i & 15) * 0x1000);
        cfg_wr(d, 0x04, 2, i & 1 ? 0x0002 : 0);
        cfg_wr(d, 0x42, 2, i & 2 ? 0xc000 : 0x8000);          /* function mask on and off */
    }
    race_stop = true;
    pthread_join(t, NULL);
    cfg_wr(d, 0x42, 2, 0x8000);                               /* flush what is pending */
    ck_assert_uint_gt(sent, 0);
    ck_assert_uint_le(msirec.nmsi, sent);
    ck_assert_uint_ge(msirec.nmsi, 1);
    fake_free(race_dev);
}
END_TEST

START_TEST(hostile_guest)
{
    struct fake *f = fake_new(3, 1);
    ck_assert_int_eq(pci_bar_define(f->dev, 0, 0x1000, PCI_BAR_MEM32 | PCI_BAR_MSIX_ONLY), 0);
    ck_assert_int_eq(pci_msix_init(f->dev, 8, 0, 0, 0, 0x800), 0x40);
    ck_assert_int_eq(pci_bar_define(f->dev, 1, 0x100, PCI_BAR_IO), 0);
    ck_assert_int_eq(pci_bar_define(f->dev, 2, 0x100000, PCI_BAR_MEM64), 0);
    ck_assert_int_eq(pci_msi_init(f->dev, 8, true, true), 0x4c);
    unsigned seed = 11;
    for (unsigned round = 0; round < 3000; round++) {
        /* CONFIG_ADDRESS aimed at our functions most of the time. */
        uint32_t dev = (const uint32_t[]){ 0, 1, 3, rand_r(&seed) % 32 }[rand_r(&seed) % 4];
        tbus_out(bus, 0xcf8, 4, (rand_r(&seed) & 1 ? 0x80000000u : 0) | dev << 11 |
                                    (rand_r(&seed) & 0xfc));
        tbus_hammer(bus, IOBUS_PIO, 0xcfc, 4, 4, round);
        tbus_hammer(bus, IOBUS_PIO, 0xcf8, 8, 1, round + 77);
        pci_notify(f->dev, rand_r(&seed) % 10);
        pci_set_intx(f->dev, rand_r(&seed) & 1);
        uint64_t a = pci_bar_addr(f->dev, 0);
        if (a)
            tbus_hammer(bus, IOBUS_MMIO, a, 0x1000, 4, round + 99);
    }
    pci_set_intx(f->dev, false);
    fake_free(f);
    ck_assert_uint_eq(cfg_rd(0, 0, 4), 0x12378086);
    ck_assert_uint_eq(cfg_rd(PCI_DEVFN(1, 0), 0, 4), 0x70008086);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_pci");
    TCase *tc = tcase_create("pci");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mechanism1);
    tcase_add_test(tc, header_masks);
    tcase_add_test(tc, bar_sizing);
    tcase_add_test(tc, msi);
    tcase_add_test(tc, msix);
    tcase_add_test(tc, msix_own_bar);
    tcase_add_test(tc, pam_as_seabios);
    tcase_add_test(tc, smram);
    tcase_add_test(tc, intx_routing);
    tcase_add_test(tc, intx_to_pic);
    tcase_add_test(tc, concurrent_msix);
    tcase_add_test(tc, hostile_guest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

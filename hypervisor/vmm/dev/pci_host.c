/*
 * i440FX and PIIX3 (docs/hvm.md "PCI"). Register facts from Intel's
 * 82441FX PMC and 82371SB PIIX3 datasheets, and what SeaBIOS writes
 * (src/fw/shadow.c: dwords at 0x58/0x5c carrying PAM0-6, 0x33 to unlock,
 * 0x11 to lock; src/fw/pciinit.c: PIRQA-D to IRQ 10, 10, 11, 11).
 *
 * PAM0 bits 5-4 cover 0xf0000-0xfffff; PAM1-6 cover 0xc0000-0xeffff in
 * 16 KiB halves (bits 1-0 the lower, 5-4 the upper); in each pair bit 0
 * enables reads of RAM, bit 1 writes.
 *
 * SMRAM (0x72): bits 2-0 the fixed C_BASE_SEG 010 (0xa0000), bit 3
 * G_SMRAME, bit 4 D_LCK, bit 5 D_CLS, bit 6 D_OPEN. Once D_LCK is set,
 * D_OPEN reads and stays 0 and D_LCK and G_SMRAME hold until reset.
 *
 * PIRQRC[A-D] (0x60-0x63): bit 7 disables the route, bits 3-0 the ISA IRQ;
 * IRQ 0-2, 8 and 13 are reserved (not routed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/pci_host.h"

#define SMRAM_C_BASE_SEG 0x02
#define SMRAM_G_SMRAME   0x08
#define SMRAM_D_LCK      0x10
#define SMRAM_D_CLS      0x20
#define SMRAM_D_OPEN     0x40

#define PIRQ_DISABLED    0x80
/* ISA IRQs a PIRQ may route to. */
#define PIRQ_VALID_IRQS  0xdef8

struct i440fx {
    struct pci_dev *dev;
    struct i440fx_fn fn;
    pthread_mutex_t lock;
    enum pam_mode pam[PAM_SEGMENTS];
    uint8_t smram;
    bool smram_open;
};

struct piix3 {
    struct pci_dev *dev;
    struct pci_bus *bus;
    struct irq_line isa_irq;
    pthread_mutex_t lock;
    uint8_t route[4];
    bool pirq_level[4];
    uint16_t irq_out;          /* ISA IRQs driven high */
};

/* ---- i440FX ---- */

int i440fx_pam_segment(unsigned int seg, uint32_t *base, uint32_t *size)
{
    if (seg >= PAM_SEGMENTS)
        return -1;
    *base = seg == 0 ? 0xf0000 : 0xc0000 + (seg - 1) * 0x4000;
    *size = seg == 0 ? 0x10000 : 0x4000;
    return 0;
}

int i440fx_pam_segment_at(uint64_t gpa)
{
    if (gpa < 0xc0000 || gpa > 0xfffff)
        return -1;
    return gpa >= 0xf0000 ? 0 : 1 + (int)((gpa - 0xc0000) / 0x4000);
}

static enum pam_mode pam_of_cfg(struct pci_dev *dev, unsigned seg)
{
    if (seg == 0)
        return (pci_cfg_get(dev, I440FX_PAM0, 1) >> 4) & 3;
    uint8_t r = pci_cfg_get(dev, I440FX_PAM0 + 1 + (seg - 1) / 2, 1);
    return (seg & 1 ? r : r >> 4) & 3;
}

static void smram_write(struct i440fx *h, uint8_t written)
{
    uint8_t v;
    if (h->smram & SMRAM_D_LCK)
        v = (h->smram & ~SMRAM_D_OPEN & ~SMRAM_D_CLS) | (written & SMRAM_D_CLS);
    else
        v = (written & (SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS | SMRAM_D_OPEN)) |
            SMRAM_C_BASE_SEG;
    if (v & SMRAM_D_LCK)
        v &= ~SMRAM_D_OPEN;
    h->smram = v;
    pci_cfg_init(h->dev, I440FX_SMRAM, 1, v, 0xff);
    bool open = (v & SMRAM_G_SMRAME) && (v & SMRAM_D_OPEN);
    if (open != h->smram_open) {
        h->smram_open = open;
        if (h->fn.smram_changed)
            h->fn.smram_changed(h->fn.opaque, open);
    }
}

static void i440fx_cfg_write(void *opaque, unsigned int off, unsigned int len, uint32_t val)
{
    struct i440fx *h = opaque;
    pthread_mutex_lock(&h->lock);
    if (off <= I440FX_SMRAM && off + len > I440FX_SMRAM)
        smram_write(h, val >> (8 * (I440FX_SMRAM - off)));
    if (off < I440FX_PAM0 + 7 && off + len > I440FX_PAM0) {
        for (unsigned seg = 0; seg < PAM_SEGMENTS; seg++) {
            enum pam_mode m = pam_of_cfg(h->dev, seg);
            if (m == h->pam[seg])
                continue;
            h->pam[seg] = m;
            uint32_t base, size;
            i440fx_pam_segment(seg, &base, &size);
            if (h->fn.pam_changed)
                h->fn.pam_changed(h->fn.opaque, seg, base, size, m);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

struct i440fx *i440fx_create(struct pci_bus *bus, const struct i440fx_fn *fn)
{
    struct i440fx *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    if (fn)
        h->fn = *fn;
    static const struct pci_dev_info info = {
        .vendor = 0x8086, .device = 0x1237, .revision = 0x02, .class_code = 0x060000,
        .name = "i440fx",
    };
    struct pci_dev_ops ops = { .cfg_write = i440fx_cfg_write };
    h->dev = pci_dev_new(bus, PCI_DEVFN(0, 0), &info, &ops, h);
    if (!h->dev) {
        int e = errno;
        pthread_mutex_destroy(&h->lock);
        free(h);
        errno = e;
        return NULL;
    }
    /* A host bridge decodes memory and masters; status: fast back-to-back,
     * medium DEVSEL (0x0280), as the 82441FX resets. */
    pci_cfg_init(h->dev, PCI_COMMAND, 2, 0x0006, 0);
    pci_cfg_init(h->dev, PCI_STATUS, 2, 0x0280, 0);
    pci_cfg_init(h->dev, I440FX_PAM0, 1, 0, 0x30);
    for (unsigned i = 1; i < 7; i++)
        pci_cfg_init(h->dev, I440FX_PAM0 + i, 1, 0, 0x33);
    h->smram = SMRAM_C_BASE_SEG;
    pci_cfg_init(h->dev, I440FX_SMRAM, 1, h->smram, 0xff);   /* checked in smram_write */
    return h;
}

void i440fx_destroy(struct i440fx *h)
{
    if (!h)
        return;
    pci_dev_free(h->dev);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

enum pam_mode i440fx_pam_mode(struct i440fx *h, unsigned int seg)
{
    if (seg >= PAM_SEGMENTS)
        return PAM_PCI;
    pthread_mutex_lock(&h->lock);
    enum pam_mode m = h->pam[seg];
    pthread_mutex_unlock(&h->lock);
    return m;
}

/* ---- PIIX3 ---- */

static int route_irq(uint8_t r)
{
    unsigned irq = r & 0x0f;
    return !(r & PIRQ_DISABLED) && (PIRQ_VALID_IRQS >> irq & 1) ? (int)irq : -1;
}

/* With isa->lock held: drives each ISA IRQ as the OR of the PIRQs routed
 * to it, telling the controllers only of changes. */
static void piix3_update(struct piix3 *isa)
{
    uint16_t out = 0;
    for (unsigned p = 0; p < 4; p++) {
        int irq = route_irq(isa->route[p]);
        if (irq >= 0 && isa->pirq_level[p])
            out |= 1u << irq;
    }
    uint16_t changed = out ^ isa->irq_out;
    isa->irq_out = out;
    for (unsigned irq = 0; irq < 16; irq++)
        if (changed >> irq & 1 && isa->isa_irq.set)
            isa->isa_irq.set(isa->isa_irq.opaque, irq, out >> irq & 1);
}

static void piix3_pirq(void *opaque, unsigned int pirq, bool level)
{
    struct piix3 *isa = opaque;
    pthread_mutex_lock(&isa->lock);
    isa->pirq_level[pirq & 3] = level;
    piix3_update(isa);
    pthread_mutex_unlock(&isa->lock);
}

static void piix3_cfg_write(void *opaque, unsigned int off, unsigned int len, uint32_t val)
{
    struct piix3 *isa = opaque;
    (void)val;
    if (off >= PIIX3_PIRQRC + 4 || off + len <= PIIX3_PIRQRC)
        return;
    uint32_t routes = pci_cfg_get(isa->dev, PIIX3_PIRQRC, 4);   /* before isa->lock */
    pthread_mutex_lock(&isa->lock);
    for (unsigned p = 0; p < 4; p++)
        isa->route[p] = routes >> (8 * p);
    piix3_update(isa);
    pthread_mutex_unlock(&isa->lock);
}

int piix3_pirq_irq(struct piix3 *isa, unsigned int pirq)
{
    if (pirq >= 4)
        return -1;
    pthread_mutex_lock(&isa->lock);
    int irq = route_irq(isa->route[pirq]);
    pthread_mutex_unlock(&isa->lock);
    return irq;
}

struct piix3 *piix3_create(struct pci_bus *bus, const struct irq_line *isa_irq)
{
    struct piix3 *isa = calloc(1, sizeof(*isa));
    if (!isa)
        return NULL;
    pthread_mutex_init(&isa->lock, NULL);
    if (isa_irq)
        isa->isa_irq = *isa_irq;
    isa->bus = bus;
    static const struct pci_dev_info info = {
        .vendor = 0x8086, .device = 0x7000, .class_code = 0x060100, .name = "piix3",
    };
    struct pci_dev_ops ops = { .cfg_write = piix3_cfg_write };
    isa->dev = pci_dev_new(bus, PCI_DEVFN(1, 0), &info, &ops, isa);
    if (!isa->dev) {
        int e = errno;
        pthread_mutex_destroy(&isa->lock);
        free(isa);
        errno = e;
        return NULL;
    }
    pci_cfg_init(isa->dev, PCI_COMMAND, 2, 0x0007, 0);
    pci_cfg_init(isa->dev, PCI_STATUS, 2, 0x0200, 0);
    for (unsigned p = 0; p < 4; p++) {
        isa->route[p] = PIRQ_DISABLED;
        pci_cfg_init(isa->dev, PIIX3_PIRQRC + p, 1, PIRQ_DISABLED, 0x8f);
    }
    /* Plain read/write registers at their reset values (ISA recovery
     * timer, X-bus chip select, top of memory, motherboard IRQ and DMA
     * routes, APIC base); Tandem gives them no meaning. */
    pci_cfg_init(isa->dev, 0x4c, 1, 0x4d, 0xff);
    pci_cfg_init(isa->dev, 0x4e, 2, 0x0003, 0xffff);
    pci_cfg_init(isa->dev, 0x69, 1, 0x02, 0xff);
    pci_cfg_init(isa->dev, 0x70, 2, 0x8080, 0xffff);
    pci_cfg_init(isa->dev, 0x76, 2, 0x0c0c, 0xffff);
    pci_cfg_init(isa->dev, 0x80, 1, 0x00, 0xff);
    struct pci_intx_router r = { piix3_pirq, isa };
    pci_bus_set_router(bus, &r);
    return isa;
}

void piix3_destroy(struct piix3 *isa)
{
    if (!isa)
        return;
    pci_bus_set_router(isa->bus, NULL);
    pci_dev_free(isa->dev);
    pthread_mutex_destroy(&isa->lock);
    free(isa);
}

/*
 * PCI bus 0: configuration mechanism #1, type 0 headers, BARs, the
 * capability list with MSI and MSI-X, INTx (docs/hvm.md "PCI"). Layouts
 * from the PCI Local Bus Specification 3.0 (configuration header, BAR
 * encoding and sizing, the MSI and MSI-X capability structures) and the
 * PIIX3 datasheet (0xcf8/0xcfc, the reset control register at 0xcf9).
 *
 * Each function keeps its 256 configuration bytes with a per-byte mask of
 * the bits the guest may write and of the bits a 1 clears; sizing a BAR is
 * just its mask (the bits below its size are not writable).
 *
 * Locks, outermost first: bus->cfg_lock (every configuration access, the
 * device table, and the callbacks a configuration write makes), dev->lock
 * (a function's bytes, MSI and MSI-X state: taken by MMIO on the MSI-X
 * table too, so never held across a callback that may unregister a
 * range), bus->intx_lock (the PIRQ counts and the router's calls).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/pci.h"
#include "dev/ranges.h"

#define CF8_ENABLE   0x80000000u
#define CF8_MASK     0x80fffffcu
#define RCR_HARD     0x02
#define RCR_RESET    0x04

#define MSI_CTL_ENABLE   0x0001
#define MSI_CTL_64BIT    0x0080
#define MSI_CTL_MASKABLE 0x0100
#define MSIX_CTL_MASKALL 0x4000
#define MSIX_CTL_ENABLE  0x8000
#define MSIX_ENTRY_SIZE  16
#define MSIX_MAX_VECTORS 2048

struct pci_bar {
    uint64_t size;
    unsigned flags;            /* 0: no BAR in this slot */
    bool mapped;
    uint64_t addr;             /* while mapped */
    bool on_bus;               /* PCI_BAR_MSIX_ONLY: registered by pci.c */
    struct pci_dev *dev;
    unsigned idx;
};

struct pci_dev {
    struct pci_bus *bus;
    unsigned devfn;
    const char *name;
    pthread_mutex_t lock;
    uint8_t cfg[PCI_CFG_SIZE], wmask[PCI_CFG_SIZE], w1c[PCI_CFG_SIZE];
    struct pci_bar bar[PCI_NUM_BARS];
    unsigned next_cap;         /* where the next capability goes */
    unsigned last_cap;         /* its predecessor's offset, 0: the header */
    struct {
        int cap;
        unsigned nvec;
        uint32_t pending;
    } msi;
    struct {
        int cap;
        unsigned nvec, table_bar, pba_bar;
        uint32_t table_off, pba_off;
        uint8_t *table;
        uint64_t *pba;
    } msix;
    bool intx_level, intx_out;
    struct pci_dev_ops ops;
    void *opaque;
};

struct pci_bus {
    pthread_mutex_t cfg_lock, intx_lock;
    uint32_t cf8;
    uint8_t rcr;
    struct pci_dev *dev[256];
    struct iobus *iobus;
    struct msi_sink msi;
    struct pci_intx_router router;
    unsigned pirq_count[4];
    void (*reset)(void *opaque, bool hard);
    void *reset_opaque;
    struct iobus_range range;
};

/* ---- bytes ---- */

static uint32_t get_le(const uint8_t *p, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, unsigned len, uint32_t v)
{
    for (unsigned i = 0; i < len; i++)
        p[i] = v >> (8 * i);
}

static bool cfg_range_ok(unsigned off, unsigned len)
{
    return len >= 1 && len <= 4 && off < PCI_CFG_SIZE && off + len <= PCI_CFG_SIZE;
}

void pci_cfg_init(struct pci_dev *dev, unsigned int off, unsigned int len, uint32_t val,
                  uint32_t wmask)
{
    if (!cfg_range_ok(off, len))
        return;
    pthread_mutex_lock(&dev->lock);
    put_le(dev->cfg + off, len, val);
    put_le(dev->wmask + off, len, wmask);
    pthread_mutex_unlock(&dev->lock);
}

uint32_t pci_cfg_get(struct pci_dev *dev, unsigned int off, unsigned int len)
{
    if (!cfg_range_ok(off, len))
        return 0;
    pthread_mutex_lock(&dev->lock);
    uint32_t v = get_le(dev->cfg + off, len);
    pthread_mutex_unlock(&dev->lock);
    return v;
}

static uint16_t cmd_of(const struct pci_dev *dev)
{
    return get_le(dev->cfg + PCI_COMMAND, 2);
}

/* ---- INTx ---- */

unsigned pci_slot_pirq(unsigned int slot, unsigned int pin)
{
    return (slot + pin - 2) & 3;
}

/* With dev->lock held: what the router sees follows the device's level
 * and the command register's INTx disable. */
static void intx_update(struct pci_dev *dev)
{
    uint8_t pin = dev->cfg[PCI_INTERRUPT_PIN];
    bool out = dev->intx_level && !(cmd_of(dev) & PCI_COMMAND_INTX_DISABLE) && pin >= 1 &&
               pin <= 4;
    if (dev->intx_level)
        dev->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        dev->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
    if (out == dev->intx_out)
        return;
    dev->intx_out = out;
    struct pci_bus *bus = dev->bus;
    unsigned pirq = pci_slot_pirq(dev->devfn >> 3, pin);
    pthread_mutex_lock(&bus->intx_lock);
    unsigned before = bus->pirq_count[pirq];
    bus->pirq_count[pirq] += out ? 1 : -1;
    if (!before != !bus->pirq_count[pirq] && bus->router.set)
        bus->router.set(bus->router.opaque, pirq, bus->pirq_count[pirq] != 0);
    pthread_mutex_unlock(&bus->intx_lock);
}

void pci_set_intx(struct pci_dev *dev, bool level)
{
    pthread_mutex_lock(&dev->lock);
    dev->intx_level = level;
    intx_update(dev);
    pthread_mutex_unlock(&dev->lock);
}

/* ---- BARs ---- */

static uint64_t bar_raw_addr(const struct pci_dev *dev, unsigned i)
{
    const struct pci_bar *b = &dev->bar[i];
    uint32_t lo = get_le(dev->cfg + PCI_BAR0 + 4 * i, 4);
    if (b->flags & PCI_BAR_IO)
        return lo & ~3u;
    uint64_t a = lo & ~15u;
    if (b->flags & PCI_BAR_MEM64)
        a |= (uint64_t)get_le(dev->cfg + PCI_BAR0 + 4 * (i + 1), 4) << 32;
    return a;
}

/* Where BAR i decodes, or 0: decoding on in the command register, and an
 * address that is not 0 and fits its space (the all-ones of sizing does
 * not: it runs into the end of the space). */
static uint64_t bar_decode(const struct pci_dev *dev, unsigned i)
{
    const struct pci_bar *b = &dev->bar[i];
    if (!b->flags)
        return 0;
    uint16_t cmd = cmd_of(dev);
    bool io = b->flags & PCI_BAR_IO;
    if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
        return 0;
    uint64_t a = bar_raw_addr(dev, i), last = a + b->size - 1;
    if (a == 0 || last < a)
        return 0;
    if (io ? last > 0xffff : (b->flags & PCI_BAR_MEM64) ? last == ~0ull : last >= 0xffffffffu)
        return 0;
    return a;
}

struct iobus *pci_bus_iobus(struct pci_bus *bus)
{
    return bus->iobus;
}

uint64_t pci_bar_addr(struct pci_dev *dev, unsigned int bar)
{
    if (bar >= PCI_NUM_BARS)
        return 0;
    pthread_mutex_lock(&dev->lock);
    uint64_t a = dev->bar[bar].mapped ? dev->bar[bar].addr : 0;
    pthread_mutex_unlock(&dev->lock);
    return a;
}

static void msix_bar_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                        bool is_write);

static enum iobus_space bar_space(const struct pci_bar *b)
{
    return b->flags & PCI_BAR_IO ? IOBUS_PIO : IOBUS_MMIO;
}

/* Tells the owner (or maps the MSI-X BAR) that bar left old / came to new.
 * Called with cfg_lock held and dev->lock not held. */
static void bar_moved(struct pci_dev *dev, unsigned i, uint64_t old, uint64_t new)
{
    struct pci_bar *b = &dev->bar[i];
    struct iobus *iobus = dev->bus->iobus;
    enum iobus_space sp = bar_space(b);
    if (b->flags & PCI_BAR_MSIX_ONLY) {
        /* A guest may place it over another range: then it stays
         * undecoded, and its unmap must not remove the other range. */
        if (old && iobus && b->on_bus)
            iobus_unregister(iobus, sp, old);
        b->on_bus = false;
        if (new && iobus) {
            struct iobus_range r = { sp, new, b->size, msix_bar_io, b, dev->name };
            b->on_bus = iobus_register(iobus, &r) == 0;
        }
        return;
    }
    if (!dev->ops.bar_update)
        return;
    if (old)
        dev->ops.bar_update(dev->opaque, i, sp, old, b->size, false);
    if (new)
        dev->ops.bar_update(dev->opaque, i, sp, new, b->size, true);
}

struct bar_change {
    uint64_t old, new;
};

/* With dev->lock held: the BARs whose decoding changed, recorded in ch. */
static bool bars_recompute(struct pci_dev *dev, struct bar_change ch[PCI_NUM_BARS])
{
    bool any = false;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *b = &dev->bar[i];
        uint64_t now = bar_decode(dev, i), was = b->mapped ? b->addr : 0;
        ch[i] = (struct bar_change){ was, now };
        if (now == was)
            continue;
        any = true;
        b->mapped = now != 0;
        b->addr = now;
    }
    return any;
}

static void bars_report(struct pci_dev *dev, const struct bar_change ch[PCI_NUM_BARS])
{
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        if (ch[i].old != ch[i].new)
            bar_moved(dev, i, ch[i].old, ch[i].new);
}

static bool pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

int pci_bar_define(struct pci_dev *dev, unsigned int bar, uint64_t size, unsigned int flags)
{
    bool io = flags & PCI_BAR_IO, m64 = flags & PCI_BAR_MEM64;
    bool m32 = flags & PCI_BAR_MEM32;
    if (bar >= PCI_NUM_BARS || io + m64 + m32 != 1 || !pow2(size) || (m64 && bar == 5) ||
        (io && (size < 4 || size > 0x10000)) || (!io && size < 16) ||
        (m32 && size > 0x80000000ull) || (io && (flags & PCI_BAR_PREFETCH))) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&dev->lock);
    if (dev->bar[bar].flags || (m64 && dev->bar[bar + 1].flags) ||
        (bar > 0 && (dev->bar[bar - 1].flags & PCI_BAR_MEM64))) {
        pthread_mutex_unlock(&dev->lock);
        errno = EEXIST;
        return -1;
    }
    struct pci_bar *b = &dev->bar[bar];
    b->size = size;
    b->flags = flags;
    unsigned off = PCI_BAR0 + 4 * bar;
    uint32_t kind = io ? 0x1 : (m64 ? 0x4 : 0x0) | (flags & PCI_BAR_PREFETCH ? 0x8 : 0);
    put_le(dev->cfg + off, 4, kind);
    put_le(dev->wmask + off, 4, (uint32_t)~(size - 1) & (io ? ~3u : ~15u));
    if (m64) {
        put_le(dev->cfg + off + 4, 4, 0);
        put_le(dev->wmask + off + 4, 4, (uint32_t)(~(size - 1) >> 32));
    }
    pthread_mutex_unlock(&dev->lock);
    return 0;
}

/* ---- capabilities ---- */

static int cap_add(struct pci_dev *dev, uint8_t id, unsigned size)
{
    unsigned off = dev->next_cap;
    if (off + size > PCI_CFG_SIZE)
        return -1;
    dev->cfg[off] = id;
    dev->cfg[off + 1] = 0;
    dev->cfg[dev->last_cap ? dev->last_cap + 1 : PCI_CAP_PTR] = off;
    dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    dev->last_cap = off;
    dev->next_cap = (off + size + 3) & ~3u;
    return off;
}

static unsigned log2u(unsigned x)
{
    unsigned l = 0;
    while ((1u << l) < x)
        l++;
    return l;
}

int pci_msi_init(struct pci_dev *dev, unsigned int nvec, bool addr64, bool maskable)
{
    if (!pow2(nvec) || nvec > 32)
        return -1;
    pthread_mutex_lock(&dev->lock);
    /* Header, address (and its high half), data; the mask and pending
     * registers follow the data's dword. */
    unsigned size = maskable ? (addr64 ? 24 : 20) : (addr64 ? 14 : 10);
    int off = dev->msi.cap ? -1 : cap_add(dev, PCI_CAP_ID_MSI, size);
    if (off >= 0) {
        uint16_t ctl = log2u(nvec) << 1 | (addr64 ? MSI_CTL_64BIT : 0) |
                       (maskable ? MSI_CTL_MASKABLE : 0);
        put_le(dev->cfg + off + 2, 2, ctl);
        put_le(dev->wmask + off + 2, 2, MSI_CTL_ENABLE | 0x70);
        put_le(dev->wmask + off + 4, 4, 0xfffffffc);
        unsigned data = off + (addr64 ? 12 : 8);
        if (addr64)
            put_le(dev->wmask + off + 8, 4, 0xffffffff);
        put_le(dev->wmask + data, 2, 0xffff);
        if (maskable)
            put_le(dev->wmask + data + 4, 4, nvec == 32 ? 0xffffffffu : (1u << nvec) - 1);
        dev->msi.cap = off;
        dev->msi.nvec = nvec;
    }
    pthread_mutex_unlock(&dev->lock);
    return off;
}

int pci_msix_init(struct pci_dev *dev, unsigned int nvec, unsigned int table_bar,
                  uint32_t table_off, unsigned int pba_bar, uint32_t pba_off)
{
    if (!nvec || nvec > MSIX_MAX_VECTORS || table_bar >= PCI_NUM_BARS ||
        pba_bar >= PCI_NUM_BARS || (table_off & 7) || (pba_off & 7))
        return -1;
    pthread_mutex_lock(&dev->lock);
    int off = -1;
    uint64_t tsize = nvec * MSIX_ENTRY_SIZE, psize = (nvec + 63) / 64 * 8;
    const struct pci_bar *tb = &dev->bar[table_bar], *pb = &dev->bar[pba_bar];
    bool fits = tb->flags && !(tb->flags & PCI_BAR_IO) && table_off + tsize <= tb->size &&
                pb->flags && !(pb->flags & PCI_BAR_IO) && pba_off + psize <= pb->size &&
                (table_bar != pba_bar || pba_off >= table_off + tsize ||
                 table_off >= pba_off + psize);
    if (fits && !dev->msix.cap) {
        uint8_t *table = calloc(nvec, MSIX_ENTRY_SIZE);
        uint64_t *pba = calloc((nvec + 63) / 64, 8);
        off = table && pba ? cap_add(dev, PCI_CAP_ID_MSIX, 12) : -1;
        if (off < 0) {
            free(table);
            free(pba);
        } else {
            for (unsigned i = 0; i < nvec; i++)
                table[i * MSIX_ENTRY_SIZE + 12] = 1;   /* every vector masked at reset */
            put_le(dev->cfg + off + 2, 2, nvec - 1);
            put_le(dev->wmask + off + 2, 2, MSIX_CTL_ENABLE | MSIX_CTL_MASKALL);
            put_le(dev->cfg + off + 4, 4, table_off | table_bar);
            put_le(dev->cfg + off + 8, 4, pba_off | pba_bar);
            dev->msix = (typeof(dev->msix)){ off, nvec, table_bar, pba_bar, table_off,
                                             pba_off, table, pba };
        }
    }
    pthread_mutex_unlock(&dev->lock);
    return off;
}

/* ---- MSI and MSI-X delivery (dev->lock held) ---- */

static bool msi_on(const struct pci_dev *dev)
{
    return dev->msi.cap && (get_le(dev->cfg + dev->msi.cap + 2, 2) & MSI_CTL_ENABLE);
}

static uint16_t msix_ctl(const struct pci_dev *dev)
{
    return dev->msix.cap ? get_le(dev->cfg + dev->msix.cap + 2, 2) : 0;
}

static bool msix_on(const struct pci_dev *dev)
{
    return msix_ctl(dev) & MSIX_CTL_ENABLE;
}

static unsigned msi_data_off(const struct pci_dev *dev)
{
    uint16_t ctl = get_le(dev->cfg + dev->msi.cap + 2, 2);
    return dev->msi.cap + (ctl & MSI_CTL_64BIT ? 12 : 8);
}

static bool msi_masked(const struct pci_dev *dev, unsigned v)
{
    uint16_t ctl = get_le(dev->cfg + dev->msi.cap + 2, 2);
    return (ctl & MSI_CTL_MASKABLE) && (get_le(dev->cfg + msi_data_off(dev) + 4, 4) >> v & 1);
}

static void msi_set_pending(struct pci_dev *dev)
{
    uint16_t ctl = get_le(dev->cfg + dev->msi.cap + 2, 2);
    if (ctl & MSI_CTL_MASKABLE)
        put_le(dev->cfg + msi_data_off(dev) + 8, 4, dev->msi.pending);
}

static int msi_fire(struct pci_dev *dev, unsigned v)
{
    uint16_t ctl = get_le(dev->cfg + dev->msi.cap + 2, 2);
    unsigned enabled = 1u << ((ctl >> 4) & 7);
    if (enabled > dev->msi.nvec)
        enabled = dev->msi.nvec;
    if (v >= enabled)
        return -1;
    if (msi_masked(dev, v)) {
        dev->msi.pending |= 1u << v;
        msi_set_pending(dev);
        return 0;
    }
    uint64_t addr = get_le(dev->cfg + dev->msi.cap + 4, 4);
    if (ctl & MSI_CTL_64BIT)
        addr |= (uint64_t)get_le(dev->cfg + dev->msi.cap + 8, 4) << 32;
    uint32_t data = get_le(dev->cfg + msi_data_off(dev), 2);
    data = (data & ~(enabled - 1)) | v;
    return msi_send(&dev->bus->msi, addr, data);
}

static bool msix_vec_masked(const struct pci_dev *dev, unsigned v)
{
    return (msix_ctl(dev) & MSIX_CTL_MASKALL) || (dev->msix.table[v * MSIX_ENTRY_SIZE + 12] & 1);
}

static int msix_fire(struct pci_dev *dev, unsigned v)
{
    if (v >= dev->msix.nvec)
        return -1;
    if (msix_vec_masked(dev, v)) {
        dev->msix.pba[v / 64] |= 1ull << (v % 64);
        return 0;
    }
    const uint8_t *e = dev->msix.table + v * MSIX_ENTRY_SIZE;
    uint64_t addr = get_le(e, 4) | (uint64_t)get_le(e + 4, 4) << 32;
    return msi_send(&dev->bus->msi, addr, get_le(e + 8, 4));
}

/* After a mask bit or an enable changed: send what is pending and no
 * longer masked. */
static void flush_pending(struct pci_dev *dev)
{
    if (msix_on(dev)) {
        for (unsigned v = 0; v < dev->msix.nvec; v++) {
            uint64_t bit = 1ull << (v % 64);
            if ((dev->msix.pba[v / 64] & bit) && !msix_vec_masked(dev, v)) {
                dev->msix.pba[v / 64] &= ~bit;
                msix_fire(dev, v);
            }
        }
    }
    if (msi_on(dev) && !msix_on(dev)) {
        for (unsigned v = 0; v < dev->msi.nvec; v++) {
            if ((dev->msi.pending >> v & 1) && !msi_masked(dev, v)) {
                dev->msi.pending &= ~(1u << v);
                msi_set_pending(dev);
                msi_fire(dev, v);
            }
        }
    }
}

int pci_notify(struct pci_dev *dev, unsigned int vector)
{
    pthread_mutex_lock(&dev->lock);
    int r = msix_on(dev) ? msix_fire(dev, vector) : msi_on(dev) ? msi_fire(dev, vector) : -1;
    pthread_mutex_unlock(&dev->lock);
    return r;
}

bool pci_msi_enabled(struct pci_dev *dev)
{
    pthread_mutex_lock(&dev->lock);
    bool on = msi_on(dev);
    pthread_mutex_unlock(&dev->lock);
    return on;
}

bool pci_msix_enabled(struct pci_dev *dev)
{
    pthread_mutex_lock(&dev->lock);
    bool on = msix_on(dev);
    pthread_mutex_unlock(&dev->lock);
    return on;
}

/* The table takes dword (or aligned qword) accesses; only bit 0 of an
 * entry's vector control is writable. The PBA is read-only. */
static bool msix_access(struct pci_dev *dev, unsigned bar, uint64_t off, uint8_t *data,
                        uint32_t len, bool is_write)
{
    uint64_t tsize = dev->msix.nvec * MSIX_ENTRY_SIZE, psize = (dev->msix.nvec + 63) / 64 * 8;
    bool in_table = bar == dev->msix.table_bar && off >= dev->msix.table_off &&
                    off < dev->msix.table_off + tsize;
    bool in_pba = bar == dev->msix.pba_bar && off >= dev->msix.pba_off &&
                  off < dev->msix.pba_off + psize;
    if (!in_table && !in_pba)
        return false;
    uint64_t rel = off - (in_table ? dev->msix.table_off : dev->msix.pba_off);
    if ((len != 4 && len != 8) || (rel & (len - 1)) || rel + len > (in_table ? tsize : psize))
        return true;           /* served: ignored, reads 0 */
    if (in_pba) {
        if (!is_write)
            for (uint32_t i = 0; i < len; i++)
                data[i] = dev->msix.pba[(rel + i) / 8] >> (8 * ((rel + i) % 8));
        return true;
    }
    uint8_t *p = dev->msix.table + rel;
    if (!is_write) {
        memcpy(data, p, len);
        return true;
    }
    for (uint32_t i = 0; i < len; i++) {
        unsigned byte = (rel + i) % MSIX_ENTRY_SIZE;
        if (byte == 12)
            p[i] = data[i] & 1;
        else if (byte < 12)
            p[i] = data[i];
    }
    flush_pending(dev);
    return true;
}

bool pci_msix_mmio(struct pci_dev *dev, unsigned int bar, uint64_t off, uint8_t *data,
                   uint32_t len, bool is_write)
{
    pthread_mutex_lock(&dev->lock);
    bool hit = dev->msix.cap && msix_access(dev, bar, off, data, len, is_write);
    pthread_mutex_unlock(&dev->lock);
    return hit;
}

static void msix_bar_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                        bool is_write)
{
    struct pci_bar *b = opaque;
    (void)v;
    pci_msix_mmio(b->dev, b->idx, off, data, len, is_write);
}

/* ---- configuration space ---- */

static uint32_t dev_cfg_read(struct pci_dev *dev, unsigned off, unsigned len)
{
    pthread_mutex_lock(&dev->lock);
    uint32_t v = get_le(dev->cfg + off, len);
    pthread_mutex_unlock(&dev->lock);
    return v;
}

static void dev_cfg_write(struct pci_dev *dev, unsigned off, unsigned len, uint32_t val)
{
    struct bar_change ch[PCI_NUM_BARS];
    pthread_mutex_lock(&dev->lock);
    for (unsigned i = 0; i < len; i++) {
        unsigned o = off + i;
        uint8_t b = val >> (8 * i);
        dev->cfg[o] = (dev->cfg[o] & ~dev->wmask[o]) | (b & dev->wmask[o]);
        dev->cfg[o] &= ~(b & dev->w1c[o]);
    }
    intx_update(dev);
    flush_pending(dev);
    bool moved = bars_recompute(dev, ch);
    pthread_mutex_unlock(&dev->lock);
    if (moved)
        bars_report(dev, ch);
    if (dev->ops.cfg_write)
        dev->ops.cfg_write(dev->opaque, off, len, val);
}

static struct pci_dev *lookup(struct pci_bus *bus, unsigned devfn)
{
    return devfn < 256 ? bus->dev[devfn] : NULL;
}

uint32_t pci_cfg_read(struct pci_bus *bus, unsigned int devfn, unsigned int off, unsigned int len)
{
    if (!cfg_range_ok(off, len))
        return 0xffffffffu;
    pthread_mutex_lock(&bus->cfg_lock);
    struct pci_dev *dev = lookup(bus, devfn);
    uint32_t v = dev ? dev_cfg_read(dev, off, len) : 0xffffffffu >> (32 - 8 * len);
    pthread_mutex_unlock(&bus->cfg_lock);
    return v;
}

void pci_cfg_write(struct pci_bus *bus, unsigned int devfn, unsigned int off, unsigned int len,
                   uint32_t val)
{
    if (!cfg_range_ok(off, len))
        return;
    pthread_mutex_lock(&bus->cfg_lock);
    struct pci_dev *dev = lookup(bus, devfn);
    if (dev)
        dev_cfg_write(dev, off, len, val);
    pthread_mutex_unlock(&bus->cfg_lock);
}

/* 0xcf8-0xcff. A dword at 0xcf8 is CONFIG_ADDRESS, a byte at 0xcf9 the
 * reset control register; 0xcfc-0xcff is CONFIG_DATA, reaching the
 * register CONFIG_ADDRESS selects plus the port's offset. Disabled, or a
 * bus or function with nothing there: reads all ones. */
static void cf8_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct pci_bus *bus = opaque;
    void (*reset)(void *, bool) = NULL;
    bool hard = false;
    (void)v;
    pthread_mutex_lock(&bus->cfg_lock);
    if (off == 0 && len == 4) {
        if (is_write)
            bus->cf8 = get_le(data, 4) & CF8_MASK;
        else
            put_le(data, 4, bus->cf8);
    } else if (off == 1 && len == 1) {
        if (!is_write) {
            data[0] = bus->rcr;
        } else {
            bus->rcr = data[0] & RCR_HARD;
            if (data[0] & RCR_RESET) {
                reset = bus->reset;
                hard = data[0] & RCR_HARD;
            }
        }
    } else if (off >= 4) {
        struct pci_dev *dev = NULL;
        if ((bus->cf8 & CF8_ENABLE) && ((bus->cf8 >> 16) & 0xff) == 0)
            dev = lookup(bus, (bus->cf8 >> 8) & 0xff);
        unsigned reg = (bus->cf8 & 0xfc) + (off - 4);
        if (!dev || !cfg_range_ok(reg, len)) {
            if (!is_write)
                memset(data, 0xff, len);
        } else if (is_write) {
            dev_cfg_write(dev, reg, len, get_le(data, len));
        } else {
            put_le(data, len, dev_cfg_read(dev, reg, len));
        }
    }
    pthread_mutex_unlock(&bus->cfg_lock);
    if (reset)
        reset(bus->reset_opaque, hard);
}

/* ---- functions and the bus ---- */

struct pci_dev *pci_dev_new(struct pci_bus *bus, unsigned int devfn,
                            const struct pci_dev_info *info, const struct pci_dev_ops *ops,
                            void *opaque)
{
    if (devfn > 255 || info->irq_pin > 4) {
        errno = EINVAL;
        return NULL;
    }
    struct pci_dev *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    pthread_mutex_init(&dev->lock, NULL);
    dev->bus = bus;
    dev->devfn = devfn;
    dev->name = info->name ? info->name : "pci";
    if (ops)
        dev->ops = *ops;
    dev->opaque = opaque;
    dev->next_cap = 0x40;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        dev->bar[i] = (struct pci_bar){ .dev = dev, .idx = i };
    uint8_t *c = dev->cfg;
    put_le(c + PCI_VENDOR_ID, 2, info->vendor);
    put_le(c + PCI_DEVICE_ID, 2, info->device);
    c[PCI_REVISION_ID] = info->revision;
    put_le(c + PCI_CLASS_PROG, 3, info->class_code);
    c[PCI_HEADER_TYPE] = info->multifunction ? 0x80 : 0x00;
    put_le(c + PCI_SUBSYS_VENDOR, 2, info->subsys_vendor);
    put_le(c + PCI_SUBSYS_ID, 2, info->subsys_id);
    c[PCI_INTERRUPT_PIN] = info->irq_pin;
    /* The command bits a simple function implements; status errors are
     * write-1-to-clear; cache line, latency timer, interrupt line are plain. */
    put_le(dev->wmask + PCI_COMMAND, 2,
           PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | 0x0040 | 0x0100 |
               PCI_COMMAND_INTX_DISABLE);
    put_le(dev->w1c + PCI_STATUS, 2, 0xf900);
    dev->wmask[0x0c] = 0xff;
    dev->wmask[0x0d] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
    pthread_mutex_lock(&bus->cfg_lock);
    if (bus->dev[devfn]) {
        pthread_mutex_unlock(&bus->cfg_lock);
        pthread_mutex_destroy(&dev->lock);
        free(dev);
        errno = EEXIST;
        return NULL;
    }
    bus->dev[devfn] = dev;
    pthread_mutex_unlock(&bus->cfg_lock);
    return dev;
}

void pci_dev_free(struct pci_dev *dev)
{
    if (!dev)
        return;
    struct pci_bus *bus = dev->bus;
    struct bar_change ch[PCI_NUM_BARS];
    pthread_mutex_lock(&bus->cfg_lock);
    bus->dev[dev->devfn] = NULL;
    pthread_mutex_lock(&dev->lock);
    dev->intx_level = false;
    intx_update(dev);
    put_le(dev->cfg + PCI_COMMAND, 2, 0);   /* stop decoding: the last report is unmapped */
    bool moved = bars_recompute(dev, ch);
    pthread_mutex_unlock(&dev->lock);
    if (moved)
        bars_report(dev, ch);
    pthread_mutex_unlock(&bus->cfg_lock);
    free(dev->msix.table);
    free(dev->msix.pba);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

struct pci_bus *pci_bus_new(struct iobus *iobus, const struct msi_sink *msi)
{
    struct pci_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    pthread_mutex_init(&bus->cfg_lock, NULL);
    pthread_mutex_init(&bus->intx_lock, NULL);
    bus->iobus = iobus;
    if (msi)
        bus->msi = *msi;
    bus->range = (struct iobus_range){ IOBUS_PIO, 0xcf8, 8, cf8_io, bus, "pci-cf8" };
    if (dev_register_ranges(iobus, &bus->range, 1) < 0) {
        int e = errno;
        pthread_mutex_destroy(&bus->cfg_lock);
        pthread_mutex_destroy(&bus->intx_lock);
        free(bus);
        errno = e;
        return NULL;
    }
    return bus;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (!bus)
        return;
    dev_unregister_ranges(bus->iobus, &bus->range, 1);
    for (unsigned i = 0; i < 256; i++)
        pci_dev_free(bus->dev[i]);
    pthread_mutex_destroy(&bus->cfg_lock);
    pthread_mutex_destroy(&bus->intx_lock);
    free(bus);
}

void pci_bus_set_router(struct pci_bus *bus, const struct pci_intx_router *r)
{
    pthread_mutex_lock(&bus->intx_lock);
    bus->router = r ? *r : (struct pci_intx_router){ 0 };
    pthread_mutex_unlock(&bus->intx_lock);
}

void pci_bus_set_reset(struct pci_bus *bus, void (*reset)(void *opaque, bool hard), void *opaque)
{
    pthread_mutex_lock(&bus->cfg_lock);
    bus->reset = reset;
    bus->reset_opaque = opaque;
    pthread_mutex_unlock(&bus->cfg_lock);
}

/*
 * I/O APIC (docs/hvm.md "Interrupt controllers"). Register layout from
 * Intel's 82093AA datasheet: IOREGSEL selects a register, IOWIN reads or
 * writes it; 0x00 ID (bits 27-24), 0x01 version, 0x02 arbitration ID,
 * 0x10 + 2n / 0x11 + 2n the low and high halves of redirection entry n.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/ioapic.h"
#include "dev/ranges.h"

#define REG_ID      0x00
#define REG_VERSION 0x01
#define REG_ARB     0x02
#define REG_REDIR   0x10

#define RTE_VECTOR       0xffull
#define RTE_DELIVERY     (7ull << 8)
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_DELIV_STATUS (1ull << 12)
#define RTE_POLARITY_LOW (1ull << 13)
#define RTE_REMOTE_IRR   (1ull << 14)
#define RTE_LEVEL        (1ull << 15)
#define RTE_MASKED       (1ull << 16)
#define RTE_DEST_SHIFT   56
/* What the guest may write: everything but delivery status and remote
 * IRR, and the reserved bits 17-55. */
#define RTE_WRITABLE     (RTE_VECTOR | RTE_DELIVERY | RTE_DEST_LOGICAL | RTE_POLARITY_LOW | \
                          RTE_LEVEL | RTE_MASKED | (0xffull << RTE_DEST_SHIFT))

struct ioapic {
    pthread_mutex_t lock;
    uint32_t ioregsel;
    uint32_t id;               /* bits 27-24 */
    uint64_t rte[IOAPIC_PINS];
    uint32_t asserted;         /* input levels */
    struct msi_sink msi;
    struct ioapic_route_fn route;
    struct iobus *bus;
    struct iobus_range range;
};

static void pin_msi(const struct ioapic *io, unsigned pin, uint64_t *addr, uint32_t *data)
{
    uint64_t e = io->rte[pin];
    *addr = 0xfee00000ull | ((e >> RTE_DEST_SHIFT) << 12) | (e & RTE_DEST_LOGICAL ? 1u << 2 : 0);
    *data = (e & RTE_VECTOR) | (e & RTE_DELIVERY) | (e & RTE_LEVEL ? 1u << 15 : 0);
}

int ioapic_pin_msi(struct ioapic *io, unsigned int pin, uint64_t *addr, uint32_t *data)
{
    if (pin >= IOAPIC_PINS)
        return -1;
    pthread_mutex_lock(&io->lock);
    pin_msi(io, pin, addr, data);
    pthread_mutex_unlock(&io->lock);
    return 0;
}

static void deliver(struct ioapic *io, unsigned pin)
{
    uint64_t addr;
    uint32_t data;
    pin_msi(io, pin, &addr, &data);
    if (io->rte[pin] & RTE_LEVEL)
        io->rte[pin] |= RTE_REMOTE_IRR;
    msi_send(&io->msi, addr, data);
}

/* A level-triggered pin delivers while asserted, unmasked and not already
 * waiting for its EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->asserted & (1u << pin)))
        deliver(io, pin);
}

void ioapic_set_irq(void *opaque, unsigned int gsi, bool level)
{
    struct ioapic *io = opaque;
    if (gsi >= IOAPIC_PINS)
        return;
    pthread_mutex_lock(&io->lock);
    uint32_t bit = 1u << gsi;
    bool was = io->asserted & bit;
    io->asserted = level ? io->asserted | bit : io->asserted & ~bit;
    uint64_t e = io->rte[gsi];
    if (e & RTE_LEVEL)
        service_level(io, gsi);
    else if (level && !was && !(e & RTE_MASKED))
        deliver(io, gsi);      /* an edge while masked is lost, as on the chip */
    pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    pthread_mutex_lock(&io->lock);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if ((e & RTE_VECTOR) != vector || !(e & RTE_REMOTE_IRR) || !(e & RTE_LEVEL))
            continue;
        io->rte[pin] &= ~RTE_REMOTE_IRR;
        service_level(io, pin);
    }
    pthread_mutex_unlock(&io->lock);
}

static void notify_route(struct ioapic *io, unsigned pin)
{
    if (!io->route.changed)
        return;
    uint64_t addr;
    uint32_t data;
    pin_msi(io, pin, &addr, &data);
    io->route.changed(io->route.opaque, pin, addr, data, io->rte[pin] & RTE_MASKED);
}

static uint32_t reg_read(struct ioapic *io, uint32_t reg)
{
    switch (reg) {
    case REG_ID:
    case REG_ARB:
        return io->id;
    case REG_VERSION:
        return IOAPIC_VERSION;
    }
    if (reg >= REG_REDIR && reg < REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->rte[(reg - REG_REDIR) / 2];
        return reg & 1 ? e >> 32 : (uint32_t)e;
    }
    return 0;                  /* reserved registers read 0 */
}

static void rte_write(struct ioapic *io, unsigned pin, bool high, uint32_t val)
{
    uint64_t old = io->rte[pin];
    uint64_t v = high ? ((uint64_t)val << 32) | (uint32_t)old : (old & ~0xffffffffull) | val;
    uint64_t e = (old & ~RTE_WRITABLE) | (v & RTE_WRITABLE);
    /* Remote IRR means nothing to an edge pin; switching a pin to edge and
     * back is how Linux clears a stuck one on IOAPICs without an EOI
     * register (version 0x11). */
    if (!(e & RTE_LEVEL))
        e &= ~RTE_REMOTE_IRR;
    io->rte[pin] = e;
    if (e != old)
        notify_route(io, pin);
    service_level(io, pin);    /* an unmask of an asserted level pin */
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
    if (reg == REG_ID)
        io->id = val & 0x0f000000u;
    else if (reg >= REG_REDIR && reg < REG_REDIR + 2 * IOAPIC_PINS)
        rte_write(io, (reg - REG_REDIR) / 2, reg & 1, val);
    /* version and arbitration are read-only */
}

/* IOREGSEL at 0x00 and IOWIN at 0x10, each a dword. A narrower access
 * reads or replaces its bytes of the dword; anything else is ignored. */
static void ioapic_mmio(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                        bool is_write)
{
    struct ioapic *io = opaque;
    (void)v;
    uint64_t reg_off = off & ~3ull, shift = 8 * (off & 3);
    if ((reg_off != 0x00 && reg_off != 0x10) || (off & 3) + len > 4)
        return;
    pthread_mutex_lock(&io->lock);
    uint32_t cur = reg_off == 0 ? io->ioregsel : reg_read(io, io->ioregsel);
    uint32_t mask = (len == 4 ? 0xffffffffu : ((1u << (8 * len)) - 1)) << shift;
    if (is_write) {
        uint32_t val = 0;
        for (uint32_t i = 0; i < len; i++)
            val |= (uint32_t)data[i] << (8 * i);
        uint32_t nv = (cur & ~mask) | ((val << shift) & mask);
        if (reg_off == 0)
            io->ioregsel = nv & 0xff;
        else
            reg_write(io, io->ioregsel, nv);
    } else {
        for (uint32_t i = 0; i < len; i++)
            data[i] = cur >> (shift + 8 * i);
    }
    pthread_mutex_unlock(&io->lock);
}

struct ioapic *ioapic_create(struct iobus *bus, const struct msi_sink *msi,
                             const struct ioapic_route_fn *route)
{
    struct ioapic *io = calloc(1, sizeof(*io));
    if (!io)
        return NULL;
    pthread_mutex_init(&io->lock, NULL);
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = RTE_MASKED;
    if (msi)
        io->msi = *msi;
    if (route)
        io->route = *route;
    io->bus = bus;
    io->range = (struct iobus_range){ IOBUS_MMIO, IOAPIC_BASE, IOAPIC_SIZE, ioapic_mmio, io,
                                      "ioapic" };
    if (dev_register_ranges(bus, &io->range, 1) < 0) {
        int e = errno;
        pthread_mutex_destroy(&io->lock);
        free(io);
        errno = e;
        return NULL;
    }
    return io;
}

void ioapic_destroy(struct ioapic *io)
{
    if (!io)
        return;
    dev_unregister_ranges(io->bus, &io->range, 1);
    pthread_mutex_destroy(&io->lock);
    free(io);
}

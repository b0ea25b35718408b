/* The device-model suites' bus helpers and interrupt recorders (vmm_dev_bus.h),
 * over tandem-vmm's own I/O bus (hypervisor/vmm/iobus.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_dev_bus.h"

struct claim {
    uint64_t addr;
    uint32_t len;
    bool found;
};

static void find_claim(const struct iobus_range *r, void *ctx)
{
    struct claim *c = ctx;
    c->found |= c->addr >= r->base && c->addr + c->len <= r->base + r->len;
}

bool tbus_claimed(struct iobus *bus, enum iobus_space space, uint64_t addr, uint32_t len)
{
    struct claim c = { addr, len, false };
    iobus_foreach(bus, space, find_claim, &c);
    return c.found;
}

static void count_range(const struct iobus_range *r, void *ctx)
{
    (void)r;
    ++*(unsigned *)ctx;
}

unsigned tbus_count(struct iobus *bus, enum iobus_space space)
{
    unsigned n = 0;
    iobus_foreach(bus, space, count_range, &n);
    return n;
}

static uint64_t bus_read(struct iobus *bus, enum iobus_space sp, uint64_t addr, uint32_t len)
{
    uint8_t b[8];
    if (!iobus_access(bus, sp, addr, b, len, false, NULL))
        return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
    uint64_t v = 0;
    for (uint32_t i = 0; i < len; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void bus_write(struct iobus *bus, enum iobus_space sp, uint64_t addr, uint32_t len,
                      uint64_t v)
{
    uint8_t b[8];
    for (uint32_t i = 0; i < len; i++)
        b[i] = v >> (8 * i);
    iobus_access(bus, sp, addr, b, len, true, NULL);
}

uint32_t tbus_in(struct iobus *bus, uint16_t port, uint32_t len)
{
    return bus_read(bus, IOBUS_PIO, port, len);
}

void tbus_out(struct iobus *bus, uint16_t port, uint32_t len, uint32_t val)
{
    bus_write(bus, IOBUS_PIO, port, len, val);
}

uint64_t tbus_read(struct iobus *bus, uint64_t addr, uint32_t len)
{
    return bus_read(bus, IOBUS_MMIO, addr, len);
}

void tbus_write(struct iobus *bus, uint64_t addr, uint32_t len, uint64_t val)
{
    bus_write(bus, IOBUS_MMIO, addr, len, val);
}

void tbus_hammer(struct iobus *bus, enum iobus_space space, uint64_t base, uint64_t len,
                 unsigned n, unsigned seed)
{
    static const uint32_t sizes[] = { 1, 2, 4, 8 };
    for (unsigned i = 0; i < n; i++) {
        uint32_t sz = sizes[rand_r(&seed) % (space == IOBUS_PIO ? 3 : 4)];
        uint64_t off = (uint64_t)rand_r(&seed) % len;
        uint64_t v = (uint64_t)rand_r(&seed) << 33 ^ (uint64_t)rand_r(&seed) << 2 ^ rand_r(&seed);
        if (rand_r(&seed) & 1)
            bus_write(bus, space, base + off, sz, v);
        else
            bus_read(bus, space, base + off, sz);
    }
}

void trec_set(void *opaque, unsigned int line, bool level)
{
    struct trec *t = opaque;
    if (line >= 32)
        return;
    if (level && !t->level[line])
        t->rises[line]++;
    if (!level && t->level[line])
        t->falls[line]++;
    t->level[line] = level;
}

int trec_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct trec *t = opaque;
    if (t->nmsi < TREC_MSI_MAX) {
        t->msi_addr[t->nmsi] = addr;
        t->msi_data[t->nmsi] = data;
    }
    t->nmsi++;
    return 0;
}

static void fake_irq_set(void *opaque, unsigned line, bool level)
{
    struct fake_irq *fi = opaque;
    if (line != fi->line)
        abort();
    fi->level = level;
    fi->changes++;
}

struct irq_line fake_irq_line(struct fake_irq *fi, unsigned line)
{
    *fi = (struct fake_irq){ .line = line };
    return (struct irq_line){ .set = fake_irq_set, .opaque = fi, .line = line };
}

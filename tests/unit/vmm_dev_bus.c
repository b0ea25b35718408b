/* The device-model suites' test bus and interrupt recorder (vmm_dev_bus.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_dev_bus.h"

#define TBUS_MAX 64

struct iobus {
    struct iobus_range r[TBUS_MAX];
    unsigned n;
};

struct iobus *iobus_new(void)
{
    return calloc(1, sizeof(struct iobus));
}

void iobus_free(struct iobus *bus)
{
    free(bus);
}

int iobus_register(struct iobus *bus, const struct iobus_range *r)
{
    if (!r->len || r->base + r->len < r->base ||
        (r->space == IOBUS_PIO && r->base + r->len > 0x10000) || bus->n == TBUS_MAX) {
        errno = EINVAL;
        return -1;
    }
    for (unsigned i = 0; i < bus->n; i++) {
        const struct iobus_range *o = &bus->r[i];
        if (o->space == r->space && r->base < o->base + o->len && o->base < r->base + r->len) {
            errno = EEXIST;
            return -1;
        }
    }
    bus->r[bus->n++] = *r;
    return 0;
}

int iobus_unregister(struct iobus *bus, enum iobus_space space, uint64_t base)
{
    for (unsigned i = 0; i < bus->n; i++) {
        if (bus->r[i].space == space && bus->r[i].base == base) {
            bus->r[i] = bus->r[--bus->n];
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}

bool iobus_access(struct iobus *bus, enum iobus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write, struct vcpu *v)
{
    for (unsigned i = 0; i < bus->n; i++) {
        const struct iobus_range *r = &bus->r[i];
        if (r->space == space && addr >= r->base && addr + len <= r->base + r->len) {
            if (!is_write)
                memset(data, 0, len);
            r->fn(r->opaque, v, addr - r->base, data, len, is_write);
            return true;
        }
    }
    return false;
}

bool tbus_claimed(struct iobus *bus, enum iobus_space space, uint64_t addr, uint32_t len)
{
    for (unsigned i = 0; i < bus->n; i++) {
        const struct iobus_range *r = &bus->r[i];
        if (r->space == space && addr >= r->base && addr + len <= r->base + r->len)
            return true;
    }
    return false;
}

unsigned tbus_count(struct iobus *bus, enum iobus_space space)
{
    unsigned n = 0;
    for (unsigned i = 0; i < bus->n; i++)
        n += bus->r[i].space == space;
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

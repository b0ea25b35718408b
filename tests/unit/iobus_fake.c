/* The device tests' I/O bus (iobus_fake.h): a table of at most 32 ranges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iobus_fake.h"

#define FAKE_MAX_RANGES 32

struct iobus {
    struct iobus_range r[FAKE_MAX_RANGES];
    bool used[FAKE_MAX_RANGES];
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
    if (r->len == 0 || r->base + r->len < r->base ||
        (r->space == IOBUS_PIO && r->base + r->len > 0x10000)) {
        errno = EINVAL;
        return -1;
    }
    int free_slot = -1;
    for (int i = 0; i < FAKE_MAX_RANGES; i++) {
        if (!bus->used[i]) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        const struct iobus_range *o = &bus->r[i];
        if (o->space == r->space && r->base < o->base + o->len && o->base < r->base + r->len) {
            errno = EEXIST;
            return -1;
        }
    }
    if (free_slot < 0) {
        errno = ENOSPC;
        return -1;
    }
    bus->r[free_slot] = *r;
    bus->used[free_slot] = true;
    return 0;
}

int iobus_unregister(struct iobus *bus, enum iobus_space space, uint64_t base)
{
    for (int i = 0; i < FAKE_MAX_RANGES; i++)
        if (bus->used[i] && bus->r[i].space == space && bus->r[i].base == base) {
            bus->used[i] = false;
            return 0;
        }
    errno = ENOENT;
    return -1;
}

bool iobus_access(struct iobus *bus, enum iobus_space space, uint64_t addr, uint8_t *data,
                  uint32_t len, bool is_write, struct vcpu *v)
{
    for (int i = 0; i < FAKE_MAX_RANGES; i++) {
        const struct iobus_range *r = &bus->r[i];
        if (!bus->used[i] || r->space != space || addr < r->base || addr - r->base >= r->len)
            continue;
        if (len > r->len - (addr - r->base))
            return false;
        if (!is_write)
            memset(data, 0, len);
        r->fn(r->opaque, v, addr - r->base, data, len, is_write);
        return true;
    }
    return false;
}

unsigned iobus_fake_count(const struct iobus *bus, enum iobus_space space)
{
    unsigned n = 0;
    for (int i = 0; i < FAKE_MAX_RANGES; i++)
        n += bus->used[i] && bus->r[i].space == space;
    return n;
}

uint32_t fake_in(struct iobus *bus, uint16_t port, uint32_t len)
{
    uint8_t d[4];
    if (!iobus_access(bus, IOBUS_PIO, port, d, len, false, NULL))
        return len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
    uint32_t v = 0;
    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)d[i] << (8 * i);
    return v;
}

void fake_out(struct iobus *bus, uint16_t port, uint32_t len, uint32_t val)
{
    uint8_t d[4];
    for (uint32_t i = 0; i < len; i++)
        d[i] = (uint8_t)(val >> (8 * i));
    iobus_access(bus, IOBUS_PIO, port, d, len, true, NULL);
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

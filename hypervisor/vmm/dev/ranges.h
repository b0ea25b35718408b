/*
 * Registering a device's fixed set of ranges on the I/O bus at once: all
 * of them or none (a failure unregisters those already in).
 */
#ifndef TANDEM_VMM_DEV_RANGES_H
#define TANDEM_VMM_DEV_RANGES_H

#include <errno.h>
#include <stddef.h>

#include "iobus.h"

static inline void dev_unregister_ranges(struct iobus *bus, const struct iobus_range *r,
                                         size_t n)
{
    for (size_t i = 0; bus && i < n; i++)
        iobus_unregister(bus, r[i].space, r[i].base);
}

/* 0, or -1 with errno from iobus_register (nothing left registered). A
 * NULL bus registers nothing (unit tests drive the handlers directly). */
static inline int dev_register_ranges(struct iobus *bus, const struct iobus_range *r, size_t n)
{
    for (size_t i = 0; bus && i < n; i++) {
        if (iobus_register(bus, &r[i]) < 0) {
            int e = errno;
            dev_unregister_ranges(bus, r, i);
            errno = e;
            return -1;
        }
    }
    return 0;
}

#endif

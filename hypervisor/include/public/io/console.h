/*
 * PV console ring page (struct xencons_interface), layout of Xen 4.17's
 * public io/console.h. in[] carries backend->guest input, out[] guest output.
 */
#ifndef TANDEM_PUBLIC_IO_CONSOLE_H
#define TANDEM_PUBLIC_IO_CONSOLE_H

#include <stdint.h>
#include <stddef.h>

typedef uint32_t XENCONS_RING_IDX;

#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
    char in[1024];
    char out[2048];
    XENCONS_RING_IDX in_cons, in_prod;
    XENCONS_RING_IDX out_cons, out_prod;
};

_Static_assert(offsetof(struct xencons_interface, out) == 1024, "xencons out");
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "xencons idx");
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons_interface");

#endif

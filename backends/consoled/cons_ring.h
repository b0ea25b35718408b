/* The console ring as dom0 sees it (Xen's io/console.h): the guest produces
 * out[] and consumes in[]; we do the opposite. The guest may write any
 * indices at any time, so each is read once and checked here, in one place:
 * a producer more than a ring ahead of the consumer is a broken guest and
 * is treated as a full ring (its oldest bytes are skipped), never as a
 * length to copy. */
#ifndef TANDEM_CONSOLED_CONS_RING_H
#define TANDEM_CONSOLED_CONS_RING_H

#include <stddef.h>
#include <stdint.h>

#include "public/io/console.h"

/* Copies guest output (at most len bytes) into buf and consumes it
 * (out_cons advances). Returns the count, 0 when the ring is empty. */
size_t cons_ring_read_out(struct xencons_interface *r, char *buf, size_t len);

/* Room for input in in[] now (0..sizeof(in)). */
size_t cons_ring_in_room(const struct xencons_interface *r);

/* Copies up to len bytes of input into in[]; returns how many fitted. */
size_t cons_ring_write_in(struct xencons_interface *r, const char *buf, size_t len);

#endif

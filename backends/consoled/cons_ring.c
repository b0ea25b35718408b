/* Console ring copies with checked indices (cons_ring.h). */
#include "cons_ring.h"

size_t cons_ring_read_out(struct xencons_interface *r, char *buf, size_t len)
{
    XENCONS_RING_IDX cons = __atomic_load_n(&r->out_cons, __ATOMIC_RELAXED);
    XENCONS_RING_IDX prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
    if ((XENCONS_RING_IDX)(prod - cons) > sizeof(r->out))
        cons = prod - (XENCONS_RING_IDX)sizeof(r->out);
    size_t n = 0;
    while (cons != prod && n < len)
        buf[n++] = r->out[MASK_XENCONS_IDX(cons++, r->out)];
    __atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
    return n;
}

size_t cons_ring_in_room(const struct xencons_interface *r)
{
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = __atomic_load_n(&r->in_prod, __ATOMIC_RELAXED);
    XENCONS_RING_IDX used = prod - cons;
    return used >= sizeof(r->in) ? 0 : sizeof(r->in) - used;
}

size_t cons_ring_write_in(struct xencons_interface *r, const char *buf, size_t len)
{
    size_t room = cons_ring_in_room(r);
    XENCONS_RING_IDX prod = __atomic_load_n(&r->in_prod, __ATOMIC_RELAXED);
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        r->in[MASK_XENCONS_IDX(prod++, r->in)] = buf[i];
    __atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
    return n;
}

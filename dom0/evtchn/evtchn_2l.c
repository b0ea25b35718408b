/* 2-level event channels: the bit protocol, with the guest as a concurrent
 * writer of the same words. Every read-modify-write is one atomic
 * instruction; the order pending -> selector -> upcall flag is what lets the
 * guest's handler (clear upcall flag, swap selector to 0, scan words) never
 * miss a port: whoever sets a later bit has already set the earlier one. */
#include "evtchn_2l.h"

#define WORD(port) ((port) / EVTCHN_2L_BITS_PER_WORD)
#define BIT(port)  ((xen_ulong_t)1 << ((port) % EVTCHN_2L_BITS_PER_WORD))

bool evtchn_2l_port_valid(evtchn_port_t port)
{
    return port != 0 && port < EVTCHN_2L_NR_CHANNELS;
}

struct vcpu_info *evtchn_2l_vcpu(struct shared_info *s, unsigned vcpu)
{
    if (vcpu >= XEN_LEGACY_MAX_VCPUS)
        return 0;
    return &s->vcpu_info[vcpu];
}

/* Returns the previous state of the bit. */
static bool test_and_set(xen_ulong_t *w, xen_ulong_t bit)
{
    return (__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

static bool test_and_clear(xen_ulong_t *w, xen_ulong_t bit)
{
    return (__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

static bool test_bit(const xen_ulong_t *w, xen_ulong_t bit)
{
    return (__atomic_load_n(w, __ATOMIC_SEQ_CST) & bit) != 0;
}

/* Selector bit, then the upcall flag; true if the flag was newly raised. */
static bool mark_vcpu(struct vcpu_info *v, evtchn_port_t port)
{
    if (test_and_set(&v->evtchn_pending_sel, (xen_ulong_t)1 << WORD(port)))
        return false;
    return __atomic_exchange_n(&v->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) == 0;
}

bool evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *v,
                           evtchn_port_t port)
{
    if (!evtchn_2l_port_valid(port) || !v)
        return false;
    if (test_and_set(&s->evtchn_pending[WORD(port)], BIT(port)))
        return false;               /* already pending: guest will see it */
    if (test_bit(&s->evtchn_mask[WORD(port)], BIT(port)))
        return false;               /* masked: unmask delivers it */
    return mark_vcpu(v, port);
}

bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *v,
                      evtchn_port_t port)
{
    if (!evtchn_2l_port_valid(port) || !v)
        return false;
    if (!test_and_clear(&s->evtchn_mask[WORD(port)], BIT(port)))
        return false;               /* was not masked: nothing was held back */
    if (!test_bit(&s->evtchn_pending[WORD(port)], BIT(port)))
        return false;
    return mark_vcpu(v, port);
}

void evtchn_2l_mask(struct shared_info *s, evtchn_port_t port)
{
    if (evtchn_2l_port_valid(port))
        test_and_set(&s->evtchn_mask[WORD(port)], BIT(port));
}

void evtchn_2l_clear_pending(struct shared_info *s, evtchn_port_t port)
{
    if (evtchn_2l_port_valid(port))
        test_and_clear(&s->evtchn_pending[WORD(port)], BIT(port));
}

bool evtchn_2l_is_pending(const struct shared_info *s, evtchn_port_t port)
{
    return evtchn_2l_port_valid(port) &&
           test_bit(&s->evtchn_pending[WORD(port)], BIT(port));
}

bool evtchn_2l_is_masked(const struct shared_info *s, evtchn_port_t port)
{
    return evtchn_2l_port_valid(port) &&
           test_bit(&s->evtchn_mask[WORD(port)], BIT(port));
}

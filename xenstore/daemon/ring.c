/*
 * The domain transport: struct xenstore_domain_interface in a page shared
 * with the guest.  Indexes are read once and checked (prod - cons must not
 * exceed the ring size); a bad index sets XENSTORE_ERROR_RINGIDX and the
 * connection is ignored until the guest asks for a reconnect.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "xenstored.h"

static struct xenstore_domain_interface *intf_of(struct conn *c)
{
    return c->domain->ra.page;
}

static void notify(struct conn *c)
{
    uint64_t one = 1;

    if (write(c->domain->ra.notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        xsd_log(XSD_LOG_ERR, "domain %u: notify failed: %m", c->id);
}

static void ring_broken(struct conn *c, uint32_t err, const char *why)
{
    intf_of(c)->error = err;
    c->ignored = true;
    xsd_log(XSD_LOG_ERR, "domain %u: %s; connection ignored until reconnect", c->id, why);
    notify(c);
}

static bool ring_usable(struct conn *c)
{
    return !c->ignored && !c->dead && c->domain && c->domain->ra.page;
}

static ssize_t ring_read(struct conn *c, void *buf, size_t len)
{
    struct xenstore_domain_interface *intf;
    XENSTORE_RING_IDX cons, prod, avail;
    size_t n, first;

    if (!ring_usable(c))
        return 0;
    intf = intf_of(c);
    cons = intf->req_cons;
    prod = __atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE);
    avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE) {
        ring_broken(c, XENSTORE_ERROR_RINGIDX, "bad request ring indexes");
        return 0;
    }
    n = avail < len ? avail : len;
    if (!n)
        return 0;
    first = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
    if (first > n)
        first = n;
    memcpy(buf, intf->req + MASK_XENSTORE_IDX(cons), first);
    memcpy((char *)buf + first, intf->req, n - first);
    __atomic_store_n(&intf->req_cons, cons + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
    notify(c);
    return (ssize_t)n;
}

static ssize_t ring_write(struct conn *c, const void *buf, size_t len)
{
    struct xenstore_domain_interface *intf;
    XENSTORE_RING_IDX cons, prod, used;
    size_t n, first;

    if (!ring_usable(c))
        return 0;
    intf = intf_of(c);
    cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_ACQUIRE);
    prod = intf->rsp_prod;
    used = prod - cons;
    if (used > XENSTORE_RING_SIZE) {
        ring_broken(c, XENSTORE_ERROR_RINGIDX, "bad response ring indexes");
        return 0;
    }
    n = XENSTORE_RING_SIZE - used;
    if (n > len)
        n = len;
    if (!n)
        return 0;
    first = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
    if (first > n)
        first = n;
    memcpy(intf->rsp + MASK_XENSTORE_IDX(prod), buf, first);
    memcpy(intf->rsp, (const char *)buf + first, n - first);
    __atomic_store_n(&intf->rsp_prod, prod + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
    notify(c);
    return (ssize_t)n;
}

static void ring_close(struct conn *c)
{
    (void)c; /* the domain keeps the page until RELEASE */
}

const struct conn_ops ring_conn_ops = {
    .read = ring_read, .write = ring_write, .close = ring_close, .kind = "ring",
};

void ring_reset(struct conn *c)
{
    struct xenstore_domain_interface *intf = intf_of(c);

    conn_reset(c);
    c->ignored = false;
    intf->req_cons = intf->req_prod = 0;
    intf->rsp_cons = intf->rsp_prod = 0;
    intf->error = XENSTORE_ERROR_NONE;
    __atomic_store_n(&intf->connection, XENSTORE_CONNECTED, __ATOMIC_RELEASE);
    notify(c);
}

void ring_event(struct conn *c)
{
    struct xenstore_domain_interface *intf;

    if (c->dead || !c->domain || !c->domain->ra.page)
        return;
    c->ring_event_ms = xsd_now_ms();
    intf = intf_of(c);
    if (__atomic_load_n(&intf->connection, __ATOMIC_ACQUIRE) == XENSTORE_RECONNECT) {
        xsd_log(XSD_LOG_INFO, "domain %u: reconnect", c->id);
        ring_reset(c);
        return;
    }
    if (c->ignored)
        return;
    conn_flush(c);
    conn_input(c);
}

/*
 * A guest's notification (its kick) is an edge: one lost between the
 * guest and us (an event channel dropped on the way) would leave its
 * requests, or our queued replies, waiting for ever while the guest
 * waits for them; Linux's xenbus has no timeout. So a ring that has work
 * and saw no event for XSD_RING_CHECK_MS is served as if kicked, and the
 * first time that happens for a domain it is logged, since it means an
 * event went missing.
 */
void ring_check_unkicked(uint64_t now_ms)
{
    for (struct conn *c = xsd_conns; c; c = c->next) {
        if (!c->domain || !ring_usable(c) || now_ms < c->ring_event_ms + XSD_RING_CHECK_MS)
            continue;
        struct xenstore_domain_interface *intf = intf_of(c);
        XENSTORE_RING_IDX req = __atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE) - intf->req_cons;
        XENSTORE_RING_IDX rsp = intf->rsp_prod - __atomic_load_n(&intf->rsp_cons, __ATOMIC_ACQUIRE);
        bool work = (req && conn_wants_read(c) &&
                     c->out_replies < (unsigned int)xsd_quota[Q_OUTSTANDING]) || (c->out_head && rsp < XENSTORE_RING_SIZE);
        if (!work) {
            c->ring_event_ms = now_ms;   /* idle: the next look is a period away */
            continue;
        }
        if (!c->unkicked_said) {
            c->unkicked_said = true;
            xsd_log(XSD_LOG_ERR, "domain %u: its ring had %s with no event for %d ms: served "
                    "anyway (an event channel notification was lost; said once)", c->id,
                    req ? "requests" : "room for replies", XSD_RING_CHECK_MS);
        }
        ring_event(c);
    }
}

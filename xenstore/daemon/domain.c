/*
 * Domains: INTRODUCE attaches a domain's ring through the domain transport
 * (tandem-vmm's control socket, or a test's fake) and fires
 * @introduceDomain; RELEASE drops its connection, removes the nodes it owns
 * (or gives them to dom0 with --keep-orphans, as Xen's -K) and fires
 * @releaseDomain.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xenstored.h"

bool xsd_keep_orphans;
static const struct domain_transport *transport = &vmm_transport;
static struct xsd_domain **domains; /* indexed by domid < DOMID_FIRST_RESERVED */
static unsigned int ndomains;

void domain_set_transport(const struct domain_transport *t)
{
    transport = t ? t : &vmm_transport;
}

struct xsd_domain *domain_find(unsigned int domid)
{
    return domains && domid < XSD_DOMID_FIRST_RESERVED ? domains[domid] : NULL;
}

unsigned int domain_count(void)
{
    return ndomains;
}

static void kick_cb(struct evsrc *s, uint32_t events)
{
    struct xsd_domain *d = s->arg;
    uint64_t v;

    (void)events;
    if (read(s->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        xsd_log(XSD_LOG_ERR, "domain %u: kick read failed: %m", d->domid);
    if (d->conn)
        ring_event(d->conn);
}

static void domain_gone(struct xsd_domain *d);

/* The VMM's control connection: anything but a hang-up is ignored. */
static void ctl_cb(struct evsrc *s, uint32_t events)
{
    struct xsd_domain *d = s->arg;
    char buf[256];
    ssize_t n = 0;

    if (!(events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) &&
        ((n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 || (n < 0 && errno == EAGAIN)))
        return;
    xsd_log(XSD_LOG_INFO, "domain %u: its VMM went away", d->domid);
    domain_gone(d);
}

static void domain_free(struct xsd_domain *d)
{
    if (d->evsrc)
        ev_release(d->evsrc);
    if (d->ctl_evsrc)
        ev_release(d->ctl_evsrc);
    if (d->conn) {
        conn_close(d->conn, "domain released");
        d->conn->domain = NULL;
        d->conn = NULL;
    }
    transport->detach(transport, &d->ra);
    socket_resume_accept(); /* its descriptors are free again */
    domains[d->domid] = NULL;
    ndomains--;
    free(d);
}

int domain_introduce(unsigned int domid, uint64_t gfn, unsigned int port)
{
    struct xsd_domain *d;
    struct xenstore_domain_interface *intf;
    struct evsrc *src;
    int err;

    if (domid == 0 || domid >= XSD_DOMID_FIRST_RESERVED)
        return EINVAL;
    if (!domains && !(domains = calloc(XSD_DOMID_FIRST_RESERVED, sizeof(*domains))))
        return ENOMEM;
    d = domains[domid];
    if (d) {
        /* Already there: as Xen, take the port and reset the connection
         * (watches, transactions, queues, ring indexes); a connection we
         * had dropped is started afresh. */
        d->port = port;
        if (!d->conn) {
            d->conn = conn_new(&ring_conn_ops, d, d->ra.kick_fd, domid);
            if (!d->conn)
                return ENOMEM;
            d->conn->domain = d;
        }
        ring_reset(d->conn);
        return 0;
    }
    d = calloc(1, sizeof(*d));
    src = calloc(1, sizeof(*src));
    if (!d || !src) {
        free(d);
        free(src);
        return ENOMEM;
    }
    d->ra.kick_fd = d->ra.notify_fd = d->ra.ctl_fd = d->ra.guard_slot = -1;
    err = transport->attach(transport, domid, gfn, port, &d->ra);
    if (err) {
        free(d);
        free(src);
        return err;
    }
    d->domid = domid;
    d->gfn = gfn;
    d->port = port;
    d->introduced = true;
    d->conn = conn_new(&ring_conn_ops, d, d->ra.kick_fd, domid);
    if (!d->conn) {
        transport->detach(transport, &d->ra);
        free(d);
        free(src);
        return ENOMEM;
    }
    d->conn->domain = d;
    src->fd = d->ra.kick_fd;
    src->cb = kick_cb;
    src->arg = d;
    d->evsrc = src;
    if (ev_add(src, EPOLLIN) != 0)
        xsd_log(XSD_LOG_ERR, "domain %u: cannot watch kick fd", domid);
    if (d->ra.ctl_fd >= 0 && (d->ctl_evsrc = calloc(1, sizeof(struct evsrc))) != NULL) {
        struct evsrc *cs = d->ctl_evsrc;
        cs->fd = d->ra.ctl_fd;
        cs->cb = ctl_cb;
        cs->arg = d;
        if (ev_add(cs, EPOLLRDHUP) != 0)
            xsd_log(XSD_LOG_ERR, "domain %u: cannot watch the VMM connection", domid);
    }
    domains[domid] = d;
    ndomains++;

    /* Xen resets the ring here; Tandem introduces a domain while it boots,
     * so what the guest already queued is kept and served right away (a
     * pending reconnect request is honoured by ring_event). */
    intf = d->ra.page;
    intf->server_features |= XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;
    intf->error = XENSTORE_ERROR_NONE;
    xsd_log(XSD_LOG_INFO, "domain %u introduced (gfn %#llx port %u)", domid,
            (unsigned long long)gfn, port);
    watch_fire_special("@introduceDomain");
    ring_event(d->conn);
    {
        uint64_t one = 1;
        if (write(d->ra.notify_fd, &one, sizeof(one)) < 0)
            xsd_log(XSD_LOG_ERR, "domain %u: notify failed: %m", domid);
    }
    return 0;
}

/* Collects the top-most nodes owned by domid (their subtrees go with them). */
struct owned_list {
    char **paths;
    size_t n, cap;
};

static void collect_owned(const char *path, unsigned int domid, struct owned_list *ol)
{
    struct node *n = tree_lookup(path);
    size_t plen;

    if (!n)
        return;
    if (node_owner(n) == domid && strcmp(path, "/") != 0) {
        if (ol->n == ol->cap) {
            size_t cap = ol->cap ? ol->cap * 2 : 16;
            char **p = realloc(ol->paths, cap * sizeof(*p));
            if (!p)
                return;
            ol->paths = p;
            ol->cap = cap;
        }
        if ((ol->paths[ol->n] = strdup(path)) != NULL)
            ol->n++;
        if (!xsd_keep_orphans)
            return;
    }
    plen = strlen(path);
    for (uint32_t off = 0; off < n->childlen;) {
        const char *leaf = n->children + off;
        size_t l = strlen(leaf);
        char *cp = malloc(plen + l + 2);
        off += (uint32_t)l + 1;
        if (!cp)
            continue;
        memcpy(cp, path, plen);
        cp[plen] = '/';
        memcpy(cp + (plen == 1 ? 1 : plen + 1), leaf, l + 1);
        collect_owned(cp, domid, ol);
        free(cp);
    }
}

static void remove_owned(unsigned int domid)
{
    struct owned_list ol = { 0 };

    if (!tree_owned(domid))
        return;
    collect_owned("/", domid, &ol);
    for (size_t i = 0; i < ol.n; i++) {
        struct node *n = tree_lookup(ol.paths[i]);
        if (n && xsd_keep_orphans)
            tree_chown(n, 0);
        else if (n)
            store_rm(NULL, NULL, ol.paths[i]);
        free(ol.paths[i]);
    }
    free(ol.paths);
}

/* RELEASE, or the domain died: drop its connection and nodes, forget it as
 * anyone's SET_TARGET (a later domain of the same id is not theirs), tell
 * the @releaseDomain watchers. */
static void domain_gone(struct xsd_domain *d)
{
    unsigned int domid = d->domid;

    for (struct conn *c = xsd_conns; c; c = c->next)
        if (c->has_target && c->target == domid) {
            c->has_target = false;
            xsd_log(XSD_LOG_INFO, "domain %u: target %u released", c->id, domid);
        }

    if (d->conn) {
        conn_close(d->conn, "domain released"); /* no events for it any more */
        d->conn->domain = NULL;
        d->conn = NULL;
    }
    remove_owned(domid);
    domain_free(d);
    xsd_log(XSD_LOG_INFO, "domain %u released", domid);
    watch_fire_special("@releaseDomain");
}

int domain_release(unsigned int domid)
{
    struct xsd_domain *d;

    if (domid == 0)
        return EINVAL;
    d = domain_find(domid);
    if (!d || !d->introduced)
        return ENOENT;
    domain_gone(d);
    return 0;
}

/* Domains whose ring memory went away under us (the SIGBUS guard): the
 * ring is now private memory, the guest's memory gone; release them. */
void domain_check_faults(void)
{
    if (!xsd_ring_faults || !domains)
        return;
    xsd_ring_faults = 0;
    for (unsigned int i = 0; i < XSD_DOMID_FIRST_RESERVED; i++) {
        struct xsd_domain *d = domains[i];
        if (d && d->ra.faulted) {
            xsd_log(XSD_LOG_ERR, "domain %u: its ring memory went away (the VMM's guest "
                    "memory shrank); releasing it", d->domid);
            domain_gone(d);
        }
    }
}

void domain_fini(void)
{
    if (!domains)
        return;
    for (unsigned int i = 0; i < XSD_DOMID_FIRST_RESERVED; i++)
        if (domains[i])
            domain_free(domains[i]);
    free(domains);
    domains = NULL;
    ndomains = 0;
}

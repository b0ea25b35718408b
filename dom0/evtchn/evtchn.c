/* tdm_evtchn: dom0 event channels over the VMM control socket. */
#include "tdm_evtchn.h"
#include "ctl_client.h"
#include "evtchn_2l.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

struct binding {
    bool used;
    unsigned domid;
    evtchn_port_t remote_port;
    int kick_fd;                  /* guest -> dom0 (KVM ioeventfd) */
    int irq_fd;                   /* dom0 -> guest (KVM irqfd) */
    void *shared_page;            /* the page holding shared_info */
    struct shared_info *shared;
    void *vcpu_page;              /* only if vcpu_info lives outside shared_info */
    struct vcpu_info *vcpu;
};

struct conn {
    unsigned domid;
    struct tdm_ctl *ctl;
};

struct tdm_evtchn {
    char *run_dir;
    int epfd;
    pthread_rwlock_t lock;        /* ports[]; writers: bind/unbind/close */
    struct binding *ports;        /* index = local port; 0 unused */
    unsigned cap;
    pthread_mutex_t conn_lock;    /* conns[] */
    struct conn *conns;
    unsigned nconns;
};

/* What an evtchn-bind reply promised, checked before anything is mapped. */
struct bind_reply {
    evtchn_port_t port;
    unsigned vcpu;
    uint64_t shared_off;
    bool has_vcpu_off;
    uint64_t vcpu_off;
    int memfd, kick_fd, irq_fd;
};

struct tdm_evtchn *tdm_evtchn_open(const char *run_dir)
{
    struct tdm_evtchn *h = calloc(1, sizeof(*h));

    if (!h) {
        tdm_set_error(ENOMEM, "evtchn: out of memory");
        return NULL;
    }
    h->run_dir = strdup(tdm_run_dir(run_dir));
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!h->run_dir || h->epfd < 0) {
        tdm_set_error(errno, "evtchn: open: %s", strerror(errno));
        if (h->epfd >= 0)
            close(h->epfd);
        free(h->run_dir);
        free(h);
        return NULL;
    }
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->conn_lock, NULL);
    return h;
}

int tdm_evtchn_fd(struct tdm_evtchn *h)
{
    return h->epfd;
}

/* The control connection to `domid`, opened on first use and kept. */
static struct tdm_ctl *get_conn(struct tdm_evtchn *h, unsigned domid)
{
    struct tdm_ctl *ctl = NULL;
    struct conn *grown;

    pthread_mutex_lock(&h->conn_lock);
    for (unsigned i = 0; i < h->nconns; i++)
        if (h->conns[i].domid == domid)
            ctl = h->conns[i].ctl;
    if (!ctl) {
        ctl = tdm_ctl_connect(h->run_dir, domid);
        grown = ctl ? realloc(h->conns, (h->nconns + 1) * sizeof(*grown)) : NULL;
        if (ctl && !grown) {
            tdm_ctl_close(ctl);
            ctl = NULL;
            tdm_set_error(ENOMEM, "evtchn: dom%u: out of memory", domid);
        } else if (ctl) {
            h->conns = grown;
            h->conns[h->nconns++] = (struct conn){ domid, ctl };
        }
    }
    pthread_mutex_unlock(&h->conn_lock);
    return ctl;
}

/* All checks on an evtchn-bind reply live here. */
static int parse_bind_reply(struct tdm_ctl_reply *r, unsigned domid,
                            evtchn_port_t port, struct bind_reply *b)
{
    uint64_t rport, vcpu;

    if (tdm_ctl_get_u64(r, "port", EVTCHN_2L_NR_CHANNELS - 1, &rport) < 0 ||
        tdm_ctl_get_u64(r, "vcpu", UINT32_MAX, &vcpu) < 0 ||
        tdm_ctl_get_u64(r, "shared_info_offset", UINT64_MAX, &b->shared_off) < 0)
        return tdm_add_context("evtchn: dom%u port %u: bad evtchn-bind reply: ", domid, port);
    if (port ? rport != port : !evtchn_2l_port_valid((evtchn_port_t)rport))
        return tdm_set_error(EPROTO, "evtchn: dom%u: asked to bind port %u, VMM bound %llu",
                             domid, port, (unsigned long long)rport);
    if (b->shared_off % PAGE)
        return tdm_set_error(EPROTO, "evtchn: dom%u: shared_info_offset 0x%llx not page aligned",
                             domid, (unsigned long long)b->shared_off);
    b->port = (evtchn_port_t)rport;
    b->vcpu = (unsigned)vcpu;
    b->has_vcpu_off = tdm_ctl_get(r, "vcpu_info_offset") != NULL;
    if (b->has_vcpu_off) {
        if (tdm_ctl_get_u64(r, "vcpu_info_offset", UINT64_MAX, &b->vcpu_off) < 0)
            return tdm_add_context("evtchn: dom%u: ", domid);
        if (b->vcpu_off % sizeof(struct vcpu_info))
            return tdm_set_error(EPROTO, "evtchn: dom%u: vcpu_info_offset 0x%llx not 64-byte aligned",
                                 domid, (unsigned long long)b->vcpu_off);
    } else if (b->vcpu >= XEN_LEGACY_MAX_VCPUS) {
        return tdm_set_error(EPROTO, "evtchn: dom%u: vcpu %u has no vcpu_info in shared_info",
                             domid, b->vcpu);
    }
    b->memfd = r->fds[0];
    b->kick_fd = r->fds[1];
    b->irq_fd = r->fds[2];
    return 0;
}

/* Maps the page at `off` of the guest memfd, refusing pages past its end
 * (touching those would SIGBUS). */
static void *map_page(int memfd, uint64_t off, unsigned domid, const char *what)
{
    struct stat st;
    void *p;

    if (fstat(memfd, &st) < 0) {
        tdm_set_error(errno, "evtchn: dom%u: fstat memfd: %s", domid, strerror(errno));
        return NULL;
    }
    if (off > (uint64_t)st.st_size || (uint64_t)st.st_size - off < PAGE) {
        tdm_set_error(EPROTO, "evtchn: dom%u: %s at 0x%llx is outside the guest memory (%lld bytes)",
                      domid, what, (unsigned long long)off, (long long)st.st_size);
        return NULL;
    }
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, (off_t)off);
    if (p == MAP_FAILED) {
        tdm_set_error(errno, "evtchn: dom%u: mmap %s: %s", domid, what, strerror(errno));
        return NULL;
    }
    return p;
}

static void release_binding(struct binding *b)
{
    if (b->shared_page)
        munmap(b->shared_page, PAGE);
    if (b->vcpu_page)
        munmap(b->vcpu_page, PAGE);
    if (b->kick_fd >= 0)
        close(b->kick_fd);
    if (b->irq_fd >= 0)
        close(b->irq_fd);
    memset(b, 0, sizeof(*b));
}

static int map_binding(const struct bind_reply *r, unsigned domid, struct binding *b)
{
    b->shared_page = map_page(r->memfd, r->shared_off, domid, "shared_info");
    if (!b->shared_page)
        return -1;
    b->shared = b->shared_page;
    if (!r->has_vcpu_off) {
        b->vcpu = &b->shared->vcpu_info[r->vcpu];
        return 0;
    }
    b->vcpu_page = map_page(r->memfd, r->vcpu_off & ~(uint64_t)(PAGE - 1), domid, "vcpu_info");
    if (!b->vcpu_page)
        return -1;
    b->vcpu = (struct vcpu_info *)((char *)b->vcpu_page + (r->vcpu_off & (PAGE - 1)));
    return 0;
}

/* Undoes a VMM-side bind after a local failure, keeping that failure's
 * errno and message for the caller. */
static int undo_bind(struct tdm_ctl *ctl, evtchn_port_t port)
{
    struct tdm_ctl_reply r;
    char req[64], why[256];
    int err = errno;

    snprintf(why, sizeof(why), "%s", tdm_last_error());
    snprintf(req, sizeof(req), "evtchn-unbind port=%u", port);
    tdm_ctl_request(ctl, req, 0, &r);
    return tdm_set_error(err, "%s", why);
}

/* Finds a free local port, growing the table; caller holds the write lock. */
static int alloc_local_port(struct tdm_evtchn *h)
{
    unsigned ncap;
    struct binding *grown;

    for (unsigned i = 1; i < h->cap; i++)
        if (!h->ports[i].used)
            return (int)i;
    if (h->cap >= TDM_EVTCHN_MAX_PORTS)
        return tdm_set_error(ENOSPC, "evtchn: all %d local ports in use", TDM_EVTCHN_MAX_PORTS - 1);
    ncap = h->cap ? h->cap * 2 : 16;
    if (ncap > TDM_EVTCHN_MAX_PORTS)
        ncap = TDM_EVTCHN_MAX_PORTS;
    grown = realloc(h->ports, ncap * sizeof(*grown));
    if (!grown)
        return tdm_set_error(ENOMEM, "evtchn: out of memory");
    memset(grown + h->cap, 0, (ncap - h->cap) * sizeof(*grown));
    h->ports = grown;
    h->cap = ncap;
    return alloc_local_port(h);
}

static int install_binding(struct tdm_evtchn *h, struct binding *b)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
    int lp;

    pthread_rwlock_wrlock(&h->lock);
    lp = alloc_local_port(h);
    if (lp > 0) {
        ev.data.u32 = (uint32_t)lp;
        if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, b->kick_fd, &ev) < 0) {
            tdm_set_error(errno, "evtchn: dom%u port %u: epoll: %s",
                          b->domid, b->remote_port, strerror(errno));
            lp = -1;
        } else {
            h->ports[lp] = *b;
        }
    }
    pthread_rwlock_unlock(&h->lock);
    return lp;
}

/* Sends an evtchn-bind request (`req`) and installs what it returns;
 * `port` is the guest port expected back, 0 when the VMM names it. */
static int bind_request(struct tdm_evtchn *h, unsigned domid, struct tdm_ctl *ctl,
                        const char *req, uint32_t port)
{
    struct binding b = { .used = true, .domid = domid, .kick_fd = -1, .irq_fd = -1 };
    struct tdm_ctl_reply r;
    struct bind_reply br;
    int lp;

    if (tdm_ctl_request(ctl, req, 3, &r) < 0) {
        tdm_add_context("evtchn: ");
        if (r.was_ok && port)   /* bound there, unusable here */
            goto undo;
        return -1;
    }
    if (parse_bind_reply(&r, domid, port, &br) < 0) {
        tdm_ctl_reply_close_fds(&r);
        goto undo;
    }
    port = br.port;
    b.remote_port = port;
    b.kick_fd = br.kick_fd;
    b.irq_fd = br.irq_fd;
    lp = map_binding(&br, domid, &b);
    close(br.memfd);          /* only the mapped pages are kept */
    if (lp == 0 && (lp = install_binding(h, &b)) > 0)
        return lp;
    release_binding(&b);
undo:
    return port ? undo_bind(ctl, port) : -1;
}

int tdm_evtchn_bind_interdomain(struct tdm_evtchn *h, unsigned domid,
                                uint32_t remote_port)
{
    struct tdm_ctl *ctl;
    char req[64];

    if (domid >= DOMID_FIRST_RESERVED)
        return tdm_set_error(EINVAL, "evtchn: domid %u is not a guest domain", domid);
    if (!evtchn_2l_port_valid(remote_port))
        return tdm_set_error(EINVAL, "evtchn: dom%u: port %u outside 1..%zu",
                             domid, remote_port, EVTCHN_2L_NR_CHANNELS - 1);
    ctl = get_conn(h, domid);
    if (!ctl)
        return -1;
    snprintf(req, sizeof(req), "evtchn-bind port=%u", remote_port);
    return bind_request(h, domid, ctl, req, remote_port);
}

int64_t tdm_evtchn_alloc_unbound(struct tdm_evtchn *h, unsigned domid)
{
    struct tdm_ctl_reply r;
    struct tdm_ctl *ctl;
    uint64_t port;

    if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
        return tdm_set_error(EINVAL, "evtchn: domid %u is not a guest domain", domid);
    ctl = get_conn(h, domid);
    if (!ctl)
        return -1;
    if (tdm_ctl_request(ctl, "evtchn-alloc", 0, &r) < 0)
        return tdm_add_context("evtchn: dom%u: evtchn-alloc: ", domid);
    if (tdm_ctl_get_u64(&r, "port", EVTCHN_2L_NR_CHANNELS - 1, &port) < 0 || port == 0)
        return tdm_add_context("evtchn: dom%u: bad evtchn-alloc reply: ", domid);
    return (int64_t)port;
}

int tdm_evtchn_bind_allocated(struct tdm_evtchn *h, unsigned domid, uint32_t dom0_port)
{
    struct tdm_ctl *ctl;
    char req[64];

    if (domid == 0 || domid >= DOMID_FIRST_RESERVED || !evtchn_2l_port_valid(dom0_port))
        return tdm_set_error(EINVAL, "evtchn: dom%u dom0 port %u: bad argument", domid, dom0_port);
    ctl = get_conn(h, domid);
    if (!ctl)
        return -1;
    snprintf(req, sizeof(req), "evtchn-bind dom0_port=%u", dom0_port);
    return bind_request(h, domid, ctl, req, 0);
}

/* Looks up a bound local port; caller holds the lock. */
static struct binding *lookup(struct tdm_evtchn *h, int lp)
{
    if (lp <= 0 || (unsigned)lp >= h->cap || !h->ports[lp].used) {
        tdm_set_error(EINVAL, "evtchn: local port %d is not bound", lp);
        return NULL;
    }
    return &h->ports[lp];
}

int tdm_evtchn_notify(struct tdm_evtchn *h, int local_port)
{
    static const uint64_t one = 1;
    struct binding *b;
    int rc = 0;

    pthread_rwlock_rdlock(&h->lock);
    b = lookup(h, local_port);
    if (!b)
        rc = -1;
    else if (evtchn_2l_set_pending(b->shared, b->vcpu, b->remote_port) &&
             write(b->irq_fd, &one, sizeof(one)) != sizeof(one))
        rc = tdm_set_error(errno, "evtchn: dom%u port %u: irqfd write: %s",
                           b->domid, b->remote_port, strerror(errno));
    pthread_rwlock_unlock(&h->lock);
    return rc;
}

/* Drains an eventfd without ever blocking (someone may have read it). */
static void drain(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint64_t v;

    if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
        (void)!read(fd, &v, sizeof(v));
}

int tdm_evtchn_pending(struct tdm_evtchn *h)
{
    struct epoll_event ev;
    int n, lp = -1;

    pthread_rwlock_rdlock(&h->lock);
    do
        n = epoll_wait(h->epfd, &ev, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        tdm_set_error(errno, "evtchn: epoll_wait: %s", strerror(errno));
    else if (n == 0)
        tdm_set_error(EAGAIN, "evtchn: no port pending");
    else if (lookup(h, (int)ev.data.u32)) {
        lp = (int)ev.data.u32;
        drain(h->ports[lp].kick_fd);
    }
    pthread_rwlock_unlock(&h->lock);
    return lp;
}

int tdm_evtchn_unmask(struct tdm_evtchn *h, int local_port)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
    struct binding *b;
    int rc = 0;

    pthread_rwlock_rdlock(&h->lock);
    b = lookup(h, local_port);
    ev.data.u32 = (uint32_t)local_port;
    if (!b)
        rc = -1;
    else if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, b->kick_fd, &ev) < 0)
        rc = tdm_set_error(errno, "evtchn: local port %d: epoll: %s", local_port, strerror(errno));
    pthread_rwlock_unlock(&h->lock);
    return rc;
}

static struct tdm_ctl *find_conn(struct tdm_evtchn *h, unsigned domid)
{
    struct tdm_ctl *ctl = NULL;

    pthread_mutex_lock(&h->conn_lock);
    for (unsigned i = 0; i < h->nconns; i++)
        if (h->conns[i].domid == domid)
            ctl = h->conns[i].ctl;
    pthread_mutex_unlock(&h->conn_lock);
    return ctl;
}

int tdm_evtchn_unbind(struct tdm_evtchn *h, int local_port)
{
    struct tdm_ctl_reply r;
    struct binding b;
    struct tdm_ctl *ctl;
    char req[64];

    pthread_rwlock_wrlock(&h->lock);
    if (!lookup(h, local_port)) {
        pthread_rwlock_unlock(&h->lock);
        return -1;
    }
    b = h->ports[local_port];
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, b.kick_fd, NULL);
    memset(&h->ports[local_port], 0, sizeof(b));
    pthread_rwlock_unlock(&h->lock);

    ctl = find_conn(h, b.domid);
    snprintf(req, sizeof(req), "evtchn-unbind port=%u", b.remote_port);
    release_binding(&b);
    if (ctl && tdm_ctl_request(ctl, req, 0, &r) < 0)
        return tdm_add_context("evtchn: ");
    return 0;
}

int tdm_evtchn_port_fd(struct tdm_evtchn *h, int local_port)
{
    struct binding *b;
    int fd;

    pthread_rwlock_rdlock(&h->lock);
    b = lookup(h, local_port);
    fd = b ? b->kick_fd : -1;
    pthread_rwlock_unlock(&h->lock);
    return fd;
}

int tdm_evtchn_remote_domid(struct tdm_evtchn *h, int local_port)
{
    struct binding *b;
    int d;

    pthread_rwlock_rdlock(&h->lock);
    b = lookup(h, local_port);
    d = b ? (int)b->domid : -1;
    pthread_rwlock_unlock(&h->lock);
    return d;
}

int64_t tdm_evtchn_remote_port(struct tdm_evtchn *h, int local_port)
{
    struct binding *b;
    int64_t p;

    pthread_rwlock_rdlock(&h->lock);
    b = lookup(h, local_port);
    p = b ? (int64_t)b->remote_port : -1;
    pthread_rwlock_unlock(&h->lock);
    return p;
}

void tdm_evtchn_close(struct tdm_evtchn *h)
{
    if (!h)
        return;
    for (unsigned i = 1; i < h->cap; i++)
        if (h->ports[i].used)
            tdm_evtchn_unbind(h, (int)i);
    for (unsigned i = 0; i < h->nconns; i++)
        tdm_ctl_close(h->conns[i].ctl);
    close(h->epfd);
    pthread_rwlock_destroy(&h->lock);
    pthread_mutex_destroy(&h->conn_lock);
    free(h->conns);
    free(h->ports);
    free(h->run_dir);
    free(h);
}

/*
 * libFuzzer target for xenstored's message framing and every handler.
 * Input: byte 0 picks the connection's domain (dom0 or an unprivileged
 * domU), the chunk size the stream is fed in, and (bit 6) whether it goes
 * through a guest's shared ring page instead of a socket-like connection;
 * the rest is a raw byte stream of xenstore messages.  On the ring, a chunk
 * starting with 0xff is taken as guest mischief instead: it overwrites the
 * ring indexes or the connection field.  A dom0 watcher on "/" and on the @specials
 * runs alongside so that watch firing is exercised; a fake domain transport
 * lets INTRODUCE/RELEASE succeed for even domids.  The store is rebuilt for
 * every input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xenstored.h"

static int fake_attach(const struct domain_transport *t, unsigned int domid, uint64_t gfn,
                       unsigned int port, struct ring_attach *out)
{
    (void)t; (void)gfn; (void)port;
    if (domid & 1)
        return EINVAL;
    out->page = calloc(1, 4096);
    out->map_base = NULL;
    out->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    out->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return 0;
}

static void fake_detach(const struct domain_transport *t, struct ring_attach *ra)
{
    (void)t;
    free(ra->page);
    close(ra->kick_fd);
    close(ra->notify_fd);
}

static const struct domain_transport fake = {
    .name = "fuzz", .attach = fake_attach, .detach = fake_detach,
};

static void feed_watch(struct conn *c, const char *path, const char *token)
{
    char buf[64];
    size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
    struct xsd_sockmsg h = { XS_WATCH, 1, 0, (uint32_t)(pl + tl) };

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), path, pl);
    memcpy(buf + sizeof(h) + pl, token, tl);
    conn_mem_feed(c, buf, sizeof(h) + pl + tl);
}

/* Plays a guest: puts the stream on domain 2's request ring. */
static void feed_ring(const uint8_t *data, size_t size, size_t chunk)
{
    struct xsd_domain *d;
    struct xenstore_domain_interface *intf;
    char cmd[] = "2\0" "1\0" "1";
    char buf[64];
    struct xsd_sockmsg h = { XS_INTRODUCE, 1, 0, sizeof(cmd) };
    struct conn *c0 = conn_new_mem(0);

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), cmd, sizeof(cmd));
    conn_mem_feed(c0, buf, sizeof(h) + sizeof(cmd));
    d = domain_find(2);
    if (!d || !d->conn)
        abort();
    intf = d->ra.page;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (data[off] == 0xff && n >= 5) {
            uint32_t v;
            memcpy(&v, data + off + 1, 4);
            switch (n % 5) {
            case 0: intf->req_prod = v; break;
            case 1: intf->req_cons = v; break;
            case 2: intf->rsp_prod = v; break;
            case 3: intf->rsp_cons = v; break;
            default: intf->connection = v & 1; break;
            }
        } else {
            for (size_t i = 0; i < n && intf->req_prod - intf->req_cons < XENSTORE_RING_SIZE; i++)
                intf->req[MASK_XENSTORE_IDX(intf->req_prod++)] = (char)data[off + i];
        }
        if (!d->conn)
            break;
        ring_event(d->conn);
        intf->rsp_cons = intf->rsp_prod; /* the guest reads everything */
        if (d->conn)
            ring_event(d->conn);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct conn *c, *watcher;
    size_t chunk;

    if (!ready) {
        xsd_log_open("/dev/null");
        domain_set_transport(&fake);
        ready = true;
    }
    if (size < 1)
        return 0;
    quota_reset();
    xsd_keep_orphans = data[0] & 0x80;
    if (xsd_core_init())
        abort();
    watcher = conn_new_mem(0);
    feed_watch(watcher, "/", "all");
    feed_watch(watcher, "@introduceDomain", "intro");
    feed_watch(watcher, "@releaseDomain", "rel");
    chunk = ((data[0] >> 1) & 0x1f) + 1;
    if (data[0] & 0x40) {
        feed_ring(data + 1, size - 1, chunk);
    } else {
        c = conn_new_mem((data[0] & 1) ? 5 : 0);
        for (size_t off = 1; off < size && !c->dead; off += chunk) {
            size_t n = size - off < chunk ? size - off : chunk;
            conn_mem_feed(c, data + off, n);
        }
    }
    {
        char msg[256];
        if (tree_check(msg, sizeof(msg)) != 0)
            abort(); /* the store must stay consistent whatever came in */
    }
    xsd_core_fini();
    return 0;
}

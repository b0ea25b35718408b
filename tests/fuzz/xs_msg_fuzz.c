/*
 * libFuzzer target for xenstored's message framing and every handler.
 * Input: byte 0 picks the connection's domain (dom0 or an unprivileged
 * domU) and the chunk size the stream is fed in; the rest is a raw byte
 * stream of xenstore messages.  A dom0 watcher on "/" and on the @specials
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
    c = conn_new_mem((data[0] & 1) ? 5 : 0);
    chunk = ((data[0] >> 1) & 0x3f) + 1;
    for (size_t off = 1; off < size && !c->dead; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        conn_mem_feed(c, data + off, n);
    }
    {
        char msg[256];
        if (tree_check(msg, sizeof(msg)) != 0)
            abort(); /* the store must stay consistent whatever came in */
    }
    xsd_core_fini();
    return 0;
}

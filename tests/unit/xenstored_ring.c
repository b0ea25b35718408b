/*
 * xenstored: the domain ring transport, in-process.  A fake domain
 * transport hands out a memfd page and two eventfds; the test plays the
 * guest on the other side of struct xenstore_domain_interface and drives
 * the daemon's epoll loop with ev_run_once(0).  The real tandem-vmm
 * transport is tested against a fake VMM thread on a unix socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstored_test.h"

struct guest {
    struct xenstore_domain_interface *intf;
    int kick, notify; /* our ends: we write kick, read notify */
    char buf[2 * XSD_MSG_MAX];
    size_t len;
};
static struct guest guests[8];
static struct conn *c0;
/* Runs inside attach, as a guest that used its ring before INTRODUCE. */
static void (*early_guest)(struct guest *g);

static struct guest *guest_of(unsigned int domid) { return &guests[domid % 8]; }

static int fake_attach(const struct domain_transport *t, unsigned int domid, uint64_t gfn,
                       unsigned int port, struct ring_attach *out)
{
    struct guest *g = guest_of(domid);
    int mfd;

    (void)t; (void)gfn; (void)port;
    if (domid == 99)
        return EINVAL;
    mfd = memfd_create("guest", MFD_CLOEXEC);
    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, 4096), 0);
    /* Two mappings of one page: the guest's and the daemon's. */
    g->intf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    out->map_base = out->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    out->map_len = 4096;
    close(mfd);
    g->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    out->kick_fd = dup(g->kick);
    out->notify_fd = dup(g->notify);
    g->len = 0;
    if (early_guest)
        early_guest(g);
    return 0;
}

static void fake_detach(const struct domain_transport *t, struct ring_attach *ra)
{
    (void)t;
    munmap(ra->map_base, ra->map_len);
    close(ra->kick_fd);
    close(ra->notify_fd);
}

static const struct domain_transport fake = {
    .name = "fake", .attach = fake_attach, .detach = fake_detach,
};

static void setup(void)
{
    xt_setup();
    domain_set_transport(&fake);
    c0 = conn_new_mem(0);
}

static void teardown(void)
{
    xt_teardown();
    domain_set_transport(NULL);
    early_guest = NULL;
}

static void kick(struct guest *g)
{
    uint64_t one = 1;
    ck_assert_int_eq(write(g->kick, &one, 8), 8);
    ev_run_once(0);
}

/* Puts bytes on the request ring (the caller keeps under 1024 in flight). */
static void put(struct guest *g, const void *data, size_t len)
{
    struct xenstore_domain_interface *i = g->intf;

    for (size_t k = 0; k < len; k++) {
        ck_assert_uint_lt(i->req_prod - i->req_cons, XENSTORE_RING_SIZE);
        i->req[MASK_XENSTORE_IDX(i->req_prod)] = ((const char *)data)[k];
        __atomic_store_n(&i->req_prod, i->req_prod + 1, __ATOMIC_RELEASE);
    }
}

static void send_req(struct guest *g, uint32_t type, uint32_t req_id, uint32_t tx,
                     const void *p, size_t len)
{
    struct xsd_sockmsg h = { type, req_id, tx, (uint32_t)len };

    put(g, &h, sizeof(h));
    put(g, p, len);
    kick(g);
}

/* Takes the next message off the response ring, kicking for more. */
static bool recv_msg(struct guest *g, struct xt_msg *m)
{
    struct xenstore_domain_interface *i = g->intf;

    for (int round = 0; round < 50; round++) {
        bool got = false;
        while (i->rsp_cons != __atomic_load_n(&i->rsp_prod, __ATOMIC_ACQUIRE) &&
               g->len < sizeof(g->buf)) {
            g->buf[g->len++] = i->rsp[MASK_XENSTORE_IDX(i->rsp_cons)];
            i->rsp_cons++;
            got = true;
        }
        if (got)
            kick(g); /* space freed: let the daemon write more */
        if (g->len >= sizeof(m->hdr)) {
            memcpy(&m->hdr, g->buf, sizeof(m->hdr));
            if (g->len >= sizeof(m->hdr) + m->hdr.len) {
                size_t l = sizeof(m->hdr) + m->hdr.len;
                memcpy(m->body, g->buf + sizeof(m->hdr), m->hdr.len);
                m->body[m->hdr.len] = '\0';
                memmove(g->buf, g->buf + l, g->len - l);
                g->len -= l;
                return true;
            }
        }
        if (!got)
            ev_run_once(0);
    }
    return false;
}

static struct xt_msg *guest_call(struct guest *g, uint32_t type, const char *p, size_t len)
{
    static struct xt_msg m;
    static uint32_t id = 1;

    send_req(g, type, ++id, 0, p, len);
    while (recv_msg(g, &m))
        if (m.hdr.type != XS_WATCH_EVENT) {
            ck_assert_uint_eq(m.hdr.req_id, id);
            return &m;
        }
    ck_abort_msg("no reply on the ring");
    return NULL;
}

static void introduce(unsigned int domid)
{
    char d[16], home[32];

    snprintf(d, sizeof(d), "%u", domid);
    snprintf(home, sizeof(home), "/local/domain/%u", domid);
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, home));
    snprintf(d, sizeof(d), "n%u", domid);
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, home, d));
    snprintf(d, sizeof(d), "%u", domid);
    xt_ok(xt_calls(c0, XS_INTRODUCE, 0, 3, d, "4660", "7"));
}

START_TEST(introduce_and_serve)
{
    struct guest *g = guest_of(3);
    char path[256], token[64];

    xt_ok(xt_calls(c0, XS_WATCH, 0, 2, "@introduceDomain", "intro"));
    ck_assert(xt_event(c0, path, token));
    introduce(3);
    ck_assert(xt_event(c0, path, token));
    ck_assert_str_eq(path, "@introduceDomain");
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "3")->body, "T");
    ck_assert_uint_eq(g->intf->connection, XENSTORE_CONNECTED);
    ck_assert_uint_eq(g->intf->server_features & 3, 3);
    xt_ok(guest_call(g, XS_WRITE, "data/x\0hello", 12));
    xt_read_eq(c0, 0, "/local/domain/3/data/x", "hello");
    ck_assert_str_eq(guest_call(g, XS_READ, "data/x", 7)->body, "hello");
    xt_err(guest_call(g, XS_READ, "/tool", 6), "EACCES");
    xt_err(guest_call(g, XS_CONTROL, "check", 6), "EACCES");
    xt_err(guest_call(g, 77, "", 0), "ENOSYS");
    /* Introducing again resets the connection, as Xen: watches go. */
    xt_ok(guest_call(g, XS_WATCH, "data\0tok", 9));
    ck_assert_uint_eq(domain_find(3)->conn->nwatches, 1);
    xt_ok(xt_calls(c0, XS_INTRODUCE, 0, 3, "3", "4660", "8"));
    ck_assert_uint_eq(domain_find(3)->conn->nwatches, 0);
    ck_assert_uint_eq(domain_find(3)->port, 8);
    g->len = 0;
    xt_ok(guest_call(g, XS_WRITE, "data/y\0again", 13));
}
END_TEST

/* A request whose kick never came is served by the periodic check, once a
 * check period passed with no event; an idle ring is left alone. */
START_TEST(lost_kick_served_by_ring_check)
{
    struct guest *g = guest_of(3);
    struct conn *c;
    struct xsd_sockmsg h = { XS_WRITE, 41, 0, 13 };
    struct xt_msg m;
    uint64_t now;

    introduce(3);
    c = domain_find(3)->conn;
    now = xsd_now_ms();
    ring_check_unkicked(now + XSD_RING_CHECK_MS);  /* idle: nothing to say */
    ck_assert(!c->unkicked_said);
    put(g, &h, sizeof(h));
    put(g, "data/k\0nokick", 13);                  /* and no kick */
    ev_run_once(0);
    ck_assert_uint_eq(g->intf->req_cons, 0);        /* nobody told the daemon */
    ring_check_unkicked(now);                       /* too early to call it lost */
    ck_assert_uint_eq(g->intf->req_cons, 0);
    ring_check_unkicked(now + 2 * XSD_RING_CHECK_MS + 1);
    ck_assert(c->unkicked_said);
    ck_assert_uint_eq(g->intf->req_cons, 16 + 13);
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(m.hdr.req_id, 41);
    xt_ok(&m);
    xt_read_eq(c0, 0, "/local/domain/3/data/k", "nokick");
}
END_TEST

static void put(struct guest *g, const void *data, size_t len);

static void write_before_introduce(struct guest *g)
{
    struct xsd_sockmsg h = { XS_WRITE, 77, 0, 12 };

    g->intf->req_cons = g->intf->req_prod = 500; /* the guest's own indexes */
    g->intf->rsp_cons = g->intf->rsp_prod = 900;
    put(g, &h, sizeof(h));
    put(g, "data/e\0early", 12);
}

START_TEST(request_queued_before_introduce)
{
    struct guest *g = guest_of(3);
    struct xt_msg m;

    early_guest = write_before_introduce;
    introduce(3);
    /* Served at once, no kick needed; the guest's indexes were kept. */
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(m.hdr.req_id, 77);
    xt_ok(&m);
    ck_assert_uint_eq(g->intf->req_cons, 500 + 16 + 12);
    xt_read_eq(c0, 0, "/local/domain/3/data/e", "early");
}
END_TEST

START_TEST(reconnect_requested_before_introduce)
{
    struct guest *g = guest_of(3);

    early_guest = write_before_introduce;
    guests[3].intf = NULL;
    introduce(3);
    ck_assert(recv_msg(g, &(struct xt_msg){ 0 }));
    g->intf->connection = XENSTORE_RECONNECT;
    xt_ok(xt_calls(c0, XS_INTRODUCE, 0, 3, "3", "4660", "7")); /* as Xen: reset */
    ck_assert_uint_eq(g->intf->connection, XENSTORE_CONNECTED);
    ck_assert_uint_eq(g->intf->req_prod, 0);
}
END_TEST

START_TEST(requests_across_wrap)
{
    struct guest *g = guest_of(3);
    char req[64], val[16];

    introduce(3);
    /* 300 writes of ~40 bytes: the indexes wrap the 1 KiB ring 11 times and
     * many messages straddle the end. */
    for (int i = 0; i < 300; i++) {
        int n = snprintf(req, sizeof(req), "data/k%d", i % 7) + 1;
        n += snprintf(req + n, sizeof(req) - (size_t)n, "value-%05d", i);
        xt_ok(guest_call(g, XS_WRITE, req, (size_t)n));
    }
    snprintf(val, sizeof(val), "value-%05d", 299);
    xt_read_eq(c0, 0, "/local/domain/3/data/k5", val);
    ck_assert_uint_gt(g->intf->req_prod, 10 * XENSTORE_RING_SIZE);
}
END_TEST

START_TEST(partial_header)
{
    struct guest *g = guest_of(3);
    struct xsd_sockmsg h = { XS_READ, 9, 0, 7 };
    struct xt_msg m;

    introduce(3);
    xt_ok(xt_write(c0, 0, "/local/domain/3/p", "pv"));
    put(g, &h, 8);
    kick(g);
    ck_assert(!recv_msg(g, &m));
    put(g, (char *)&h + 8, 8);
    put(g, "p\0", 2);
    kick(g);
    ck_assert(!recv_msg(g, &m));
    put(g, "\0\0\0\0\0", 0);
    put(g, "", 0);
    /* "p" is 2 bytes; the header said 7: finish with a relative path. */
    put(g, "abcd", 4);
    put(g, "", 1);
    kick(g);
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(m.hdr.req_id, 9);
    xt_err(&m, "EINVAL"); /* "p\0abcd\0" has two NULs: not one argument */
}
END_TEST

START_TEST(response_larger_than_ring)
{
    struct guest *g = guest_of(3);
    char big[3001];
    struct xt_msg *m;

    introduce(3);
    memset(big, 'q', 3000);
    big[3000] = '\0';
    xt_ok(xt_write(c0, 0, "/local/domain/3/big", big));
    m = guest_call(g, XS_READ, "big", 4);
    ck_assert_uint_eq(m->hdr.len, 3000);
    ck_assert_int_eq(memcmp(m->body, big, 3000), 0);
}
END_TEST

START_TEST(watch_events_on_ring)
{
    struct guest *g = guest_of(3);
    struct xt_msg m;

    introduce(3);
    xt_ok(guest_call(g, XS_WATCH, "data\0tok", 9));
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
    ck_assert_str_eq(m.body, "data");
    ck_assert_str_eq(m.body + 5, "tok");
    xt_ok(xt_write(c0, 0, "/local/domain/3/data/y", "1"));
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
    ck_assert_str_eq(m.body, "data/y");
    /* Many events in a row arrive in order through the small ring. */
    for (int i = 0; i < 100; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/local/domain/3/data/e%03d", i);
        xt_ok(xt_write(c0, 0, p, "v"));
    }
    for (int i = 0; i < 100; i++) {
        char p[64];
        snprintf(p, sizeof(p), "data/e%03d", i);
        ck_assert(recv_msg(g, &m));
        ck_assert_str_eq(m.body, p);
    }
}
END_TEST

START_TEST(reconnect)
{
    struct guest *g = guest_of(3);
    struct xt_msg m;

    introduce(3);
    xt_ok(guest_call(g, XS_WATCH, "data\0tok", 9));
    ck_assert(recv_msg(g, &m));
    ck_assert_uint_eq(watch_count(), 1);
    g->intf->connection = XENSTORE_RECONNECT;
    kick(g);
    ck_assert_uint_eq(g->intf->connection, XENSTORE_CONNECTED);
    ck_assert_uint_eq(g->intf->req_prod, 0);
    ck_assert_uint_eq(g->intf->rsp_prod, 0);
    ck_assert_uint_eq(watch_count(), 0);
    g->len = 0;
    xt_ok(guest_call(g, XS_WRITE, "data/after\0x", 12));
}
END_TEST

START_TEST(garbage_indexes)
{
    struct guest *g = guest_of(3);
    struct conn *dc;

    introduce(3);
    dc = domain_find(3)->conn;
    g->intf->req_prod = g->intf->req_cons + 5000;
    kick(g);
    ck_assert_uint_eq(g->intf->error, XENSTORE_ERROR_RINGIDX);
    ck_assert(dc->ignored);
    /* The daemon and everyone else carry on. */
    xt_ok(xt_write(c0, 0, "/fine", "yes"));
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "3")->body, "T");
    kick(g);
    /* Garbage in the response indexes is caught as well after a reconnect. */
    g->intf->connection = XENSTORE_RECONNECT;
    kick(g);
    ck_assert_uint_eq(g->intf->error, XENSTORE_ERROR_NONE);
    ck_assert(!dc->ignored);
    g->len = 0;
    xt_ok(guest_call(g, XS_WRITE, "data/ok\0x", 9));
    g->intf->rsp_cons = g->intf->rsp_prod + 3000;
    send_req(g, XS_READ, 5, 0, "data/ok", 8);
    ck_assert_uint_eq(g->intf->error, XENSTORE_ERROR_RINGIDX);
}
END_TEST

START_TEST(oversized_payload)
{
    struct guest *g = guest_of(3);
    struct xsd_sockmsg h = { XS_READ, 1, 0, 5000 };

    introduce(3);
    put(g, &h, sizeof(h));
    kick(g);
    ck_assert_uint_eq(g->intf->error, XENSTORE_ERROR_PROTO);
    xt_ok(xt_write(c0, 0, "/fine", "yes"));
}
END_TEST

START_TEST(release)
{
    struct guest *g = guest_of(3);
    char path[256], token[64];

    introduce(3);
    xt_ok(guest_call(g, XS_WRITE, "data/a\0x", 8));
    xt_ok(xt_write(c0, 0, "/owned-elsewhere", ""));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/owned-elsewhere", "n3"));
    ck_assert_uint_eq(tree_owned(3), 4);
    xt_ok(xt_calls(c0, XS_WATCH, 0, 2, "@releaseDomain", "rel"));
    ck_assert(xt_event(c0, path, token));
    xt_ok(xt_calls(c0, XS_RELEASE, 0, 1, "3"));
    ck_assert(xt_event(c0, path, token));
    ck_assert_str_eq(path, "@releaseDomain");
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "3")->body, "F");
    /* Nodes it owned go, as in Xen. */
    xt_err(xt_read(c0, 0, "/local/domain/3"), "ENOENT");
    xt_err(xt_read(c0, 0, "/owned-elsewhere"), "ENOENT");
    ck_assert_uint_eq(tree_owned(3), 0);
    xt_err(xt_calls(c0, XS_RELEASE, 0, 1, "3"), "ENOENT");
    ev_run_once(0);
    xt_store_ok();
    /* And it can come back. */
    introduce(3);
    xt_ok(guest_call(g, XS_WRITE, "data/b\0y", 8));
}
END_TEST

START_TEST(release_keep_orphans)
{
    introduce(3);
    xt_ok(guest_call(guest_of(3), XS_WRITE, "data/a\0x", 8));
    xsd_keep_orphans = true;
    xt_ok(xt_calls(c0, XS_RELEASE, 0, 1, "3"));
    xsd_keep_orphans = false;
    xt_read_eq(c0, 0, "/local/domain/3/data/a", "x");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/local/domain/3/data/a")), "n0");
    xt_store_ok();
}
END_TEST

START_TEST(set_target)
{
    introduce(3);
    introduce(4);
    xt_ok(xt_write(c0, 0, "/local/domain/3/secret", "s3"));
    xt_err(guest_call(guest_of(4), XS_READ, "/local/domain/3/secret", 23), "EACCES");
    xt_ok(xt_calls(c0, XS_SET_TARGET, 0, 2, "4", "3"));
    ck_assert_str_eq(guest_call(guest_of(4), XS_READ, "/local/domain/3/secret", 23)->body, "s3");
    xt_err(xt_calls(c0, XS_SET_TARGET, 0, 2, "4", "5"), "ENOENT");
}
END_TEST

/* The target goes with its domain: a new domain of the same id is not the
 * device model's to read (Xen 4.17 keeps it; see docs/xenstore.md). */
START_TEST(set_target_dropped_on_release)
{
    introduce(3);
    introduce(4);
    xt_ok(xt_calls(c0, XS_SET_TARGET, 0, 2, "4", "3"));
    xt_ok(xt_calls(c0, XS_RELEASE, 0, 1, "3"));
    introduce(3);
    xt_ok(xt_write(c0, 0, "/local/domain/3/secret", "s3"));
    xt_err(guest_call(guest_of(4), XS_READ, "/local/domain/3/secret", 23), "EACCES");
    xt_err(guest_call(guest_of(4), XS_WRITE, "/local/domain/3/secret\0x", 24), "EACCES");
    xt_read_eq(c0, 0, "/local/domain/3/secret", "s3");
    /* SET_TARGET again works as before. */
    xt_ok(xt_calls(c0, XS_SET_TARGET, 0, 2, "4", "3"));
    ck_assert_str_eq(guest_call(guest_of(4), XS_READ, "/local/domain/3/secret", 23)->body, "s3");
}
END_TEST

/* Takes every complete reply off g's response ring; returns how many. */
static unsigned int take_replies(struct guest *g)
{
    struct xenstore_domain_interface *i = g->intf;
    unsigned int n = 0;
    struct xsd_sockmsg h;

    while (i->rsp_cons != i->rsp_prod) {
        g->buf[g->len++] = i->rsp[MASK_XENSTORE_IDX(i->rsp_cons)];
        i->rsp_cons++;
    }
    while (g->len >= sizeof(h)) {
        memcpy(&h, g->buf, sizeof(h));
        if (g->len < sizeof(h) + h.len)
            break;
        ck_assert(h.type == XS_READ || h.type == XS_ERROR);
        memmove(g->buf, g->buf + sizeof(h) + h.len, g->len - sizeof(h) - h.len);
        g->len -= sizeof(h) + h.len;
        n++;
    }
    return n;
}

/* A guest filling its ring with requests gets one batch a kick; the rest
 * is served in the following rounds without another kick. */
START_TEST(spinning_guest_gets_batches)
{
    struct guest *g = guest_of(3);
    struct xenstore_domain_interface *i;
    unsigned int n = 0, replies, rounds = 0;

    introduce(3);
    i = g->intf;
    while (i->req_prod - i->req_cons + 18 <= XENSTORE_RING_SIZE) {
        struct xsd_sockmsg h = { XS_READ, ++n, 0, 2 };
        put(g, &h, sizeof(h));
        put(g, "/", 2);
    }
    ck_assert_uint_gt(n, 2 * XSD_BATCH);
    kick(g); /* one round */
    replies = take_replies(g);
    ck_assert_uint_le(replies, XSD_BATCH);
    ck_assert(conn_backlogged());
    while (replies < n && rounds++ < 200) {
        ev_run_once(0); /* no kick */
        replies += take_replies(g);
    }
    ck_assert_uint_eq(replies, n);
    ev_run_once(0); /* finds nothing left */
    ck_assert(!conn_backlogged());
}
END_TEST

/* A guest that does not read its ring is the slowest reader: at the
 * daemon's output bound it loses its unsent watch events, not its
 * connection, and gets events again once it reads. */
START_TEST(stalled_guest_loses_events_at_global_bound)
{
    struct guest *g = guest_of(3);
    char ev[600];
    struct xt_msg m;
    struct conn *dc;

    introduce(3);
    dc = domain_find(3)->conn;
    memset(ev, 'e', sizeof(ev) - 1);
    ev[sizeof(ev) - 1] = '\0';
    memcpy(ev, "/g/", 3);
    xt_ok(xt_write(c0, 0, "/g", ""));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/g", "r3"));
    xt_ok(guest_call(g, XS_WATCH, "/g\0t", 5));
    xsd_outq_total_max = 64u << 10;
    for (int i = 0; i < 500; i++) {
        watch_fire(NULL, NULL, ev, false, NULL, 0);
        ck_assert_uint_le(conn_out_total(), xsd_outq_total_max);
    }
    ck_assert(!dc->dead && !dc->ignored);
    ck_assert_uint_lt(dc->out_bytes, 500 * 600);
    xsd_outq_total_max = XSD_OUTQ_TOTAL_MAX;
    /* It reads: what is left comes, and so do new events. */
    while (recv_msg(g, &m))
        ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
    ck_assert_ptr_null(dc->out_head);
    xt_ok(xt_write(c0, 0, "/g/new", "1"));
    ck_assert(recv_msg(g, &m));
    ck_assert_str_eq(m.body, "/g/new");
}
END_TEST

START_TEST(stalled_guest_keeps_connection)
{
    struct guest *g = guest_of(3);
    char big[501];
    struct conn *dc;
    struct xt_msg m;
    int replies = 0, events = 0;

    introduce(3);
    dc = domain_find(3)->conn;
    xt_ok(guest_call(g, XS_WATCH, "data\0tok", 9));
    ck_assert(recv_msg(g, &m)); /* the initial event */
    /* The guest stops consuming (say it is paused): replies of 516 bytes
     * and watch events pile up behind a full ring. */
    memset(big, 'x', 500);
    big[500] = '\0';
    xt_ok(xt_write(c0, 0, "/local/domain/3/big", big));
    for (int i = 0; i < 5; i++)
        send_req(g, XS_READ, 100 + (uint32_t)i, 0, "big", 4);
    for (int i = 0; i < 20; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/local/domain/3/data/e%d", i);
        xt_ok(xt_write(c0, 0, p, "v"));
    }
    ck_assert_ptr_nonnull(dc->out_head);
    conn_check_stalls(xsd_now_ms() + XSD_STALL_MS + 1000);
    ck_assert(!dc->dead);
    /* Stale events went, replies stayed: all five READs are answered. */
    while (recv_msg(g, &m)) {
        if (m.hdr.type == XS_READ)
            replies++;
        else
            events++;
    }
    ck_assert_int_eq(replies, 5);
    ck_assert_int_lt(events, 20);
    xt_ok(guest_call(g, XS_WRITE, "data/back\0y", 11));
    /* INTRODUCE again is harmless. */
    xt_ok(xt_calls(c0, XS_INTRODUCE, 0, 3, "3", "4660", "7"));
    ck_assert_ptr_eq(domain_find(3)->conn, dc);
}
END_TEST

START_TEST(dropped_ring_connection_reintroduced)
{
    struct guest *g = guest_of(3);

    introduce(3);
    conn_close(domain_find(3)->conn, "test");
    ev_run_once(0);
    ck_assert_ptr_null(domain_find(3)->conn);
    kick(g); /* a kick to a dropped connection is harmless */
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "3")->body, "T");
    xt_ok(xt_calls(c0, XS_INTRODUCE, 0, 3, "3", "4660", "7"));
    ck_assert_ptr_nonnull(domain_find(3)->conn);
    g->len = 0;
    xt_ok(guest_call(g, XS_WRITE, "data/back\0y", 11));
}
END_TEST

START_TEST(resume)
{
    introduce(3);
    domain_find(3)->shutdown = true;
    xt_ok(xt_calls(c0, XS_RESUME, 0, 1, "3"));
    ck_assert(!domain_find(3)->shutdown);
}
END_TEST

START_TEST(transport_failure)
{
    xt_err(xt_calls(c0, XS_INTRODUCE, 0, 3, "99", "1", "1"), "EINVAL");
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "99")->body, "F");
    domain_set_transport(NULL); /* the real one, to a VMM that is not there */
    xsd_vmm_dir = "/nonexistent-dir";
    xt_err(xt_calls(c0, XS_INTRODUCE, 0, 3, "5", "1", "1"), "EINVAL");
    xt_err(xt_calls(c0, XS_INTRODUCE, 0, 3, "70000", "1", "1"), "EINVAL");
    xt_ok(xt_write(c0, 0, "/still", "fine"));
}
END_TEST

/* A fake tandem-vmm serving one xenstore-ring request. */
struct fake_vmm {
    int listen_fd;
    int memfd, kick, notify;
    const char *reply;
    int conn_fd; /* kept open, as tandem-vmm does; closing it = VMM died */
};

static void *vmm_thread(void *arg)
{
    struct fake_vmm *v = arg;
    int s = accept(v->listen_fd, NULL, NULL);
    char line[64] = "";
    ssize_t n;
    int fds[3] = { v->memfd, v->kick, v->notify };
    char cbuf[CMSG_SPACE(sizeof(fds))];
    struct iovec iov = { (void *)v->reply, strlen(v->reply) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

    v->conn_fd = s;
    if (s < 0)
        return NULL;
    n = read(s, line, sizeof(line) - 1);
    if (n > 0 && strcmp(line, "xenstore-ring\n") == 0) {
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(fds));
        memcpy(CMSG_DATA(cm), fds, sizeof(fds));
        if (sendmsg(s, &mh, 0) < 0)
            perror("sendmsg");
    }
    return NULL;
}

/* INTRODUCE of domain 6 through a fake VMM handing out memfd with reply
 * (by default the ring at offset 8192); returns the errno of INTRODUCE.
 * v->kick, v->notify and v->conn_fd stay open for the caller. */
static int introduce_with_memfd(struct fake_vmm *v, int memfd, const char *reply)
{
    char dir[] = "/tmp/xsd-vmm-XXXXXX", sock[128];
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    pthread_t th;
    struct xt_msg *m;
    int err;

    memset(v, 0, sizeof(*v));
    v->reply = reply ? reply : "OK gpa=0x103000 offset=8192 port=9\n";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/dom6.ctl", dir);
    strcpy(sa.sun_path, sock);
    v->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(v->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(v->listen_fd, 1), 0);
    v->memfd = memfd;
    v->kick = eventfd(0, EFD_NONBLOCK);
    v->notify = eventfd(0, EFD_NONBLOCK);
    pthread_create(&th, NULL, vmm_thread, v);
    domain_set_transport(NULL);
    xsd_vmm_dir = dir;
    m = xt_calls(c0, XS_INTRODUCE, 0, 3, "6", "259", "9");
    err = m->hdr.type == XS_ERROR ? xsc_error_from_name(m->body) : 0;
    pthread_join(th, NULL);
    close(v->listen_fd);
    unlink(sock);
    rmdir(dir);
    return err;
}

static void vmm_done(struct fake_vmm *v)
{
    close(v->kick);
    close(v->notify);
    if (v->conn_fd >= 0)
        close(v->conn_fd);
}

static int run_vmm(const char *reply, int *err_out, struct xenstore_domain_interface **page)
{
    struct fake_vmm v;
    struct xt_msg *m;
    int memfd = memfd_create("guestram", 0);

    ck_assert_int_eq(ftruncate(memfd, 3 * 4096), 0);
    *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 2 * 4096);
    *err_out = introduce_with_memfd(&v, memfd, reply);
    close(memfd);
    if (!*err_out) {
        uint64_t val = 0;
        /* The daemon said "connected" through the page and notified. */
        ck_assert_uint_eq((*page)->connection, XENSTORE_CONNECTED);
        ck_assert_int_eq(read(v.notify, &val, 8), 8);
        ck_assert_uint_ge(val, 1);
        /* Guest request through the real page and kick eventfd. */
        struct guest g = { .intf = *page, .kick = v.kick, .notify = v.notify };
        xt_ok(xt_write(c0, 0, "/local/domain/6/v", "via-vmm"));
        xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/6/v", "n6"));
        m = guest_call(&g, XS_READ, "/local/domain/6/v", 18);
        ck_assert_str_eq(m->body, "via-vmm");
    }
    close(v.kick);
    close(v.notify);
    return v.conn_fd;
}

START_TEST(vmm_transport_ok)
{
    struct xenstore_domain_interface *page;
    int err;

    int vmm_conn = run_vmm("OK gpa=0x103000 offset=8192 port=9\n", &err, &page);
    char buf[8];

    ck_assert_int_eq(err, 0);
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "6")->body, "T");
    xt_ok(xt_calls(c0, XS_RELEASE, 0, 1, "6"));
    /* RELEASE closes xenstored's end of the VMM connection. */
    ck_assert_int_eq(read(vmm_conn, buf, sizeof(buf)), 0);
    close(vmm_conn);
    munmap(page, 4096);
}
END_TEST

START_TEST(vmm_transport_bad_reply)
{
    struct xenstore_domain_interface *page;
    int err;

    close(run_vmm("ERR ENOENT no ring\n", &err, &page));
    ck_assert_int_eq(err, EINVAL);
    munmap(page, 4096);
    close(run_vmm("OK gpa=zz offset=x\n", &err, &page));
    ck_assert_int_eq(err, EINVAL);
    munmap(page, 4096);
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "6")->body, "F");
}
END_TEST

START_TEST(vmm_exit_releases_domain)
{
    struct xenstore_domain_interface *page;
    char path[256], token[64];
    int err, vmm_conn;

    xt_ok(xt_calls(c0, XS_WATCH, 0, 2, "@releaseDomain", "rel"));
    ck_assert(xt_event(c0, path, token));
    vmm_conn = run_vmm("OK gpa=0x103000 offset=8192 port=9\n", &err, &page);
    ck_assert_int_eq(err, 0);
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/6/v", "n6"));
    close(vmm_conn); /* the VMM process is gone */
    for (int i = 0; i < 100 && domain_find(6); i++)
        ev_run_once(10);
    ck_assert_ptr_null(domain_find(6));
    ck_assert(xt_event(c0, path, token));
    ck_assert_str_eq(path, "@releaseDomain");
    xt_err(xt_read(c0, 0, "/local/domain/6/v"), "ENOENT"); /* its nodes went */
    munmap(page, 4096);
}
END_TEST

/* A memfd too short for the ring offset the VMM names: INTRODUCE fails,
 * nothing is mapped past the end (whose first touch was a SIGBUS). */
START_TEST(vmm_memfd_too_short)
{
    struct fake_vmm v;
    int mfd = memfd_create("guestram", 0);

    ck_assert_int_eq(ftruncate(mfd, 4096), 0); /* the ring would be at 8192 */
    ck_assert_int_eq(introduce_with_memfd(&v, mfd, NULL), EINVAL);
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "6")->body, "F");
    ck_assert_int_eq(ftruncate(mfd, 3 * 4096 - 1), 0); /* a page that ends short */
    vmm_done(&v);
    ck_assert_int_eq(introduce_with_memfd(&v, mfd, NULL), EINVAL);
    vmm_done(&v);
    xt_ok(xt_write(c0, 0, "/still", "fine"));
    close(mfd);
}
END_TEST

/* A memfd that could be sealed must be sealed against shrinking. */
START_TEST(vmm_memfd_seals)
{
    struct fake_vmm v;
    int mfd = memfd_create("guestram", MFD_ALLOW_SEALING);

    ck_assert_int_eq(ftruncate(mfd, 3 * 4096), 0);
    ck_assert_int_eq(introduce_with_memfd(&v, mfd, NULL), EINVAL);
    vmm_done(&v);
    ck_assert_int_eq(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    ck_assert_int_eq(introduce_with_memfd(&v, mfd, NULL), 0);
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "6")->body, "T");
    ck_assert_int_ne(ftruncate(mfd, 0), 0); /* the seal holds */
    xt_ok(xt_calls(c0, XS_RELEASE, 0, 1, "6"));
    vmm_done(&v);
    close(mfd);
}
END_TEST

/* A memfd that cannot be sealed (as a tmpfs file for mem_path) shrunk
 * after INTRODUCE: the daemon survives its next touch of the ring, the
 * domain is released, everybody else carries on. */
START_TEST(vmm_memfd_shrunk_after_introduce)
{
    struct fake_vmm v;
    struct conn *other = conn_new_mem(0);
    char path[256], token[64];
    int mfd = memfd_create("guestram", 0);
    uint64_t one = 1;

    ck_assert_int_eq(ftruncate(mfd, 3 * 4096), 0);
    xt_ok(xt_calls(other, XS_WATCH, 0, 2, "@releaseDomain", "rel"));
    ck_assert(xt_event(other, path, token));
    ck_assert_int_eq(introduce_with_memfd(&v, mfd, NULL), 0);
    xt_ok(xt_write(c0, 0, "/local/domain/6/x", "1"));
    ck_assert_int_eq(ftruncate(mfd, 4096), 0); /* the ring page is gone */
    ck_assert_int_eq(write(v.kick, &one, 8), 8);
    for (int i = 0; i < 100 && domain_find(6); i++)
        ev_run_once(10);
    ck_assert_ptr_null(domain_find(6));
    ck_assert(xt_event(other, path, token));
    ck_assert_str_eq(path, "@releaseDomain");
    xt_ok(xt_write(other, 0, "/still", "fine"));
    xt_store_ok();
    vmm_done(&v);
    close(mfd);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_ring");
    TCase *tc = tcase_create("ring");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, introduce_and_serve);
    tcase_add_test(tc, request_queued_before_introduce);
    tcase_add_test(tc, lost_kick_served_by_ring_check);
    tcase_add_test(tc, reconnect_requested_before_introduce);
    tcase_add_test(tc, requests_across_wrap);
    tcase_add_test(tc, partial_header);
    tcase_add_test(tc, response_larger_than_ring);
    tcase_add_test(tc, watch_events_on_ring);
    tcase_add_test(tc, reconnect);
    tcase_add_test(tc, garbage_indexes);
    tcase_add_test(tc, oversized_payload);
    tcase_add_test(tc, release);
    tcase_add_test(tc, release_keep_orphans);
    tcase_add_test(tc, set_target);
    tcase_add_test(tc, set_target_dropped_on_release);
    tcase_add_test(tc, spinning_guest_gets_batches);
    tcase_add_test(tc, stalled_guest_loses_events_at_global_bound);
    tcase_add_test(tc, stalled_guest_keeps_connection);
    tcase_add_test(tc, dropped_ring_connection_reintroduced);
    tcase_add_test(tc, resume);
    tcase_add_test(tc, transport_failure);
    tcase_add_test(tc, vmm_transport_ok);
    tcase_add_test(tc, vmm_transport_bad_reply);
    tcase_add_test(tc, vmm_exit_releases_domain);
    tcase_add_test(tc, vmm_memfd_too_short);
    tcase_add_test(tc, vmm_memfd_seals);
    tcase_add_test(tc, vmm_memfd_shrunk_after_introduce);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

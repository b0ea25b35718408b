/* xenstored: per-domain quotas with Xen's defaults and Xen's errors, and
 * the bounded output side (outstanding requests, stalled clients). */
#include "xenstored_test.h"

static struct conn *c0, *d5;

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
    d5 = conn_new_mem(5);
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/local/domain/5"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"));
}

START_TEST(defaults_are_xens)
{
    ck_assert_int_eq(xsd_quota[Q_NODES], 1000);
    ck_assert_int_eq(xsd_quota[Q_NODE_SIZE], 2048);
    ck_assert_int_eq(xsd_quota[Q_PERMS], 5);
    ck_assert_int_eq(xsd_quota[Q_WATCHES], 128);
    ck_assert_int_eq(xsd_quota[Q_TRANSACTIONS], 10);
    ck_assert_int_eq(xsd_quota[Q_OUTSTANDING], 20);
    ck_assert_int_eq(xsd_quota[Q_TX_NODES], 1024);
    ck_assert_int_eq(xsd_quota[Q_PATH_MAX], 2048);
    ck_assert_ptr_nonnull(strstr(xt_calls(c0, XS_CONTROL, 0, 1, "quota")->body,
                                 "nodes            :     1000"));
}
END_TEST

START_TEST(nodes_quota)
{
    char p[32];

    xt_ok(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "nodes", "10"));
    ck_assert_int_eq(xsd_quota[Q_NODES], 10);
    for (int i = 1; i < 10; i++) {
        snprintf(p, sizeof(p), "n%d", i);
        xt_ok(xt_write(d5, 0, p, "x"));
    }
    ck_assert_uint_eq(tree_owned(5), 10);
    xt_err(xt_write(d5, 0, "one-more", "x"), "ENOSPC");
    xt_err(xt_write(d5, 0, "deep/er", "x"), "ENOSPC");
    xt_ok(xt_write(d5, 0, "n1", "overwrite is fine"));
    xt_ok(xt_calls(d5, XS_RM, 0, 1, "n1"));
    xt_ok(xt_write(d5, 0, "again", "x"));
    /* dom0 is not bound by it. */
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof(p), "/dom0/%d", i);
        xt_ok(xt_write(c0, 0, p, "x"));
    }
    xt_err(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "nodes", "0"), "EINVAL");
    xt_err(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "bogus", "5"), "EINVAL");
    ck_assert_ptr_nonnull(strstr(xt_calls(c0, XS_CONTROL, 0, 2, "quota", "5")->body, "nodes"));
    xt_store_ok();
}
END_TEST

START_TEST(node_size_quota)
{
    char big[4100];

    memset(big, 'v', sizeof(big) - 1);
    big[2099] = '\0';
    xt_err(xt_write(d5, 0, "big", big), "ENOSPC");
    big[2000] = '\0';
    xt_ok(xt_write(d5, 0, "big", big));
    xt_ok(xt_write(c0, 0, "/local/domain/5/huge", big)); /* dom0 exempt */
    big[2000] = 'v';
    big[4000 - 10] = '\0';
    xt_ok(xt_write(c0, 0, "/dom0big", big));
}
END_TEST

START_TEST(node_size_counts_child_names)
{
    char name[128];
    int i, made = 0;

    /* /local/domain/5 (n5): 24 + 8 bytes, then 101 per 100-char child. */
    for (i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "%c%099d/x", 'a' + i % 26, i);
        if (xt_write(d5, 0, name, "v")->hdr.type == XS_ERROR)
            break;
        made++;
    }
    ck_assert_int_eq(made, 19); /* 32 + 19 * 101 = 1951; 20 would be 2052 */
    xt_err(xt_write(d5, 0, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "v"), "ENOSPC");
    xt_ok(xt_write(d5, 0, "short", "v")); /* 1951 + 6 fits */
    xt_store_ok();
}
END_TEST

/* A parent created on the way holds its child's name: the quota counts
 * it like any other node (24 + 8 + 2041 bytes would be over 2048). */
START_TEST(node_size_counts_implicit_parents)
{
    char path[2100];

    memcpy(path, "ip/", 3);
    memset(path + 3, 'l', 2040);
    path[3 + 2040] = '\0';
    xt_err(xt_write(d5, 0, path, "v"), "ENOSPC");
    xt_err(xt_read(d5, 0, "ip"), "ENOENT"); /* nothing half made */
    memcpy(path, "a/b/", 4);
    memset(path + 4, 'l', 2040);
    path[4 + 2040] = '\0';
    xt_err(xt_write(d5, 0, path, "v"), "ENOSPC"); /* a/b, two levels down */
    xt_err(xt_read(d5, 0, "a"), "ENOENT");
    path[4 + 2000] = '\0';
    xt_ok(xt_write(d5, 0, path, "v")); /* 24 + 8 + 2001 fits */
    memcpy(path, "ip/", 3);
    memset(path + 3, 'l', 2040);
    path[3 + 2040] = '\0';
    xt_ok(xt_write(c0, 0, path, "v")); /* dom0 is exempt */
    xt_store_ok();
}
END_TEST

START_TEST(perms_quota)
{
    xt_ok(xt_write(d5, 0, "p", "x"));
    xt_ok(xt_calls(d5, XS_SET_PERMS, 0, 6, "p", "n5", "r1", "r2", "r3", "r4"));
    xt_err(xt_calls(d5, XS_SET_PERMS, 0, 7, "p", "n5", "r1", "r2", "r3", "r4", "r6"), "ENOSPC");
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 8, "/local/domain/5/p", "n5", "r1", "r2", "r3", "r4",
                   "r6", "r7"));
}
END_TEST

START_TEST(watch_quota)
{
    char p[32];

    xt_ok(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "watches", "3"));
    for (int i = 0; i < 4; i++) { /* Xen's check lets quota + 1 in */
        snprintf(p, sizeof(p), "w%d", i);
        xt_ok(xt_calls(d5, XS_WATCH, 0, 2, p, "t"));
    }
    xt_err(xt_calls(d5, XS_WATCH, 0, 2, "w9", "t"), "E2BIG");
    xt_ok(xt_calls(d5, XS_UNWATCH, 0, 2, "w0", "t"));
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "w9", "t"));
}
END_TEST

START_TEST(path_quota)
{
    char p[2100];

    /* 128 levels of 16 bytes: 2048 bytes below the home (short names, so
     * that no parent's child list hits the node-size quota). */
    memset(p, 'a', sizeof(p));
    for (int i = 15; i < 2048; i += 16)
        p[i] = '/';
    p[2047] = '\0';
    xt_ok(xt_write(d5, 0, p, "x"));
    p[2047] = 'b';
    p[2048] = '\0';
    xt_ok(xt_write(d5, 0, p, "x"));      /* exactly 2048: fine */
    p[2048] = 'c';
    p[2049] = '\0';
    xt_err(xt_write(d5, 0, p, "x"), "EINVAL");
    xt_ok(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "path-max", "10"));
    xt_err(xt_write(d5, 0, "abcdefghijk", "x"), "EINVAL");
    xt_ok(xt_write(d5, 0, "abcdefghij", "x"));
}
END_TEST

START_TEST(tx_nodes_quota)
{
    uint32_t t;
    char p[32];

    xt_ok(xt_calls(c0, XS_CONTROL, 0, 4, "quota", "set", "transaction-nodes", "8"));
    t = xt_tx_start(d5);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "t%d", i);
        xt_ok(xt_write(d5, t, p, "x"));
    }
    for (int i = 4; i < 20; i++) {
        snprintf(p, sizeof(p), "t%d", i);
        if (xt_write(d5, t, p, "x")->hdr.type == XS_ERROR)
            break;
    }
    xt_err(xt_write(d5, t, "tz", "x"), "ENOSPC");
    xt_ok(xt_tx_end(d5, t, false));
}
END_TEST

/* A transport whose writes can be stopped, like a client not reading. */
static bool blocked;
static ssize_t blk_read(struct conn *c, void *b, size_t l) { (void)c; (void)b; (void)l; return 0; }
static ssize_t blk_write(struct conn *c, const void *buf, size_t len)
{
    if (blocked)
        return 0;
    if (c->caplen + len > c->capsize) {
        c->capsize = (c->caplen + len) * 2;
        c->cap = realloc(c->cap, c->capsize);
    }
    memcpy(c->cap + c->caplen, buf, len);
    c->caplen += len;
    return (ssize_t)len;
}
static const struct conn_ops blk_ops = { .read = blk_read, .write = blk_write, .kind = "test" };

START_TEST(outstanding_requests_stop_reading)
{
    struct conn *s = conn_new(&blk_ops, NULL, -1, 0);
    char buf[64 * 32];
    size_t len = 0;

    blocked = true;
    for (int i = 0; i < 30; i++) {
        struct xsd_sockmsg h = { XS_READ, (uint32_t)i, 0, 2 };
        memcpy(buf + len, &h, sizeof(h));
        memcpy(buf + len + sizeof(h), "/\0", 2);
        len += sizeof(h) + 2;
    }
    conn_mem_feed(s, buf, len);
    ck_assert_uint_eq(s->out_replies, 20);  /* stopped at Xen's 20 */
    ck_assert_uint_gt(s->inlen, 0);
    blocked = false;
    conn_flush(s);                          /* one batch now, */
    for (int i = 0; i < 10 && s->inlen; i++)
        ev_run_once(0);                     /* the rest in the next rounds */
    ck_assert_uint_eq(s->inlen, 0);
    ck_assert_uint_eq(s->out_replies, 0);
    ck_assert_uint_eq(s->caplen, 30 * (sizeof(struct xsd_sockmsg) + 0));
}
END_TEST

START_TEST(stalled_client_dropped)
{
    struct conn *s = conn_new(&blk_ops, NULL, -1, 0);
    uint64_t now = xsd_now_ms();

    xt_ok(xt_write(c0, 0, "/s", "x"));
    blocked = true;
    xt_send_raw(s, XS_WATCH, 0, "/s\0tok", 7);
    ck_assert_ptr_nonnull(s->out_head);
    conn_check_stalls(now + 1000);
    ck_assert(!s->dead);
    conn_check_stalls(now + XSD_STALL_MS + 5000);
    ck_assert(s->dead);
    blocked = false;
    xt_ok(xt_write(c0, 0, "/s", "y")); /* others carry on */
    conn_reap();
    ck_assert_uint_eq(watch_count(), 0);
}
END_TEST

START_TEST(output_queue_bounded)
{
    struct conn *s = conn_new(&blk_ops, NULL, -1, 0);
    char big[3000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    xt_ok(xt_write(c0, 0, "/b", big));
    xt_send_raw(s, XS_WATCH, 0, "/b\0t", 5);
    blocked = true;
    for (int i = 0; i < 2000 && !s->dead; i++)
        xt_ok(xt_write(c0, 0, "/b/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                                "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "v"));
    for (int i = 0; i < 100000 && !s->dead; i++)
        watch_fire(NULL, NULL, "/b/cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", false, NULL, 0);
    ck_assert(s->dead);               /* dropped past XSD_OUTQ_MAX */
    ck_assert_uint_le(s->out_bytes, XSD_OUTQ_MAX);
    blocked = false;
}
END_TEST

static ssize_t stuck_write(struct conn *c, const void *buf, size_t len)
{
    (void)c; (void)buf; (void)len;
    return 0;
}
static const struct conn_ops stuck_ops = { .read = blk_read, .write = stuck_write, .kind = "test" };

/* Stalled watchers next to ones that read: the daemon's queued output
 * stays under its global bound, the slowest (stalled) socket clients are
 * closed, the readers get every event. */
START_TEST(output_bounded_globally)
{
    struct conn *stuck[10], *reader[3];
    char ev[600];
    unsigned int closed = 0;

    memset(ev, 'e', sizeof(ev) - 1);
    ev[sizeof(ev) - 1] = '\0';
    memcpy(ev, "/g/", 3);
    xsd_outq_total_max = 256u << 10;
    for (int i = 0; i < 10; i++) {
        stuck[i] = conn_new(&stuck_ops, NULL, -1, 0);
        xt_send_raw(stuck[i], XS_WATCH, 0, "/g\0t", 5);
    }
    for (int i = 0; i < 3; i++) {
        reader[i] = conn_new_mem(0);
        xt_ok(xt_calls(reader[i], XS_WATCH, 0, 2, "/g", "r"));
        xt_collect(reader[i]); /* the initial event */
    }
    for (int i = 0; i < 1000; i++) {
        watch_fire(NULL, NULL, ev, false, NULL, 0);
        ck_assert_uint_le(conn_out_total(), xsd_outq_total_max);
    }
    for (int i = 0; i < 10; i++)
        closed += stuck[i]->dead;
    ck_assert_uint_gt(closed, 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(!reader[i]->dead);
        /* Every event arrived: 16-byte header, the path, "r". */
        ck_assert_uint_eq(reader[i]->caplen, 1000 * (16 + sizeof(ev) + 2));
    }
    xt_ok(xt_write(c0, 0, "/g/x", "y")); /* the daemon carries on */
    conn_reap();
    xsd_outq_total_max = XSD_OUTQ_TOTAL_MAX;
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_quota");
    TCase *tc = tcase_create("quota");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, defaults_are_xens);
    tcase_add_test(tc, nodes_quota);
    tcase_add_test(tc, node_size_quota);
    tcase_add_test(tc, node_size_counts_child_names);
    tcase_add_test(tc, node_size_counts_implicit_parents);
    tcase_add_test(tc, perms_quota);
    tcase_add_test(tc, watch_quota);
    tcase_add_test(tc, path_quota);
    tcase_add_test(tc, tx_nodes_quota);
    tcase_add_test(tc, outstanding_requests_stop_reading);
    tcase_add_test(tc, output_bounded_globally);
    tcase_add_test(tc, stalled_client_dropped);
    tcase_add_test(tc, output_queue_bounded);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

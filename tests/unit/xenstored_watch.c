/* xenstored: watches (initial event, subtree events, removal, relative
 * paths, permissions, duplicates, ordering). */
#include "xenstored_test.h"

static struct conn *c0, *w;
static char path[256], token[64];

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
    w = conn_new_mem(0);
}

#define expect_event(c, p, t) do { \
    ck_assert_msg(xt_event(c, path, token), "no event, wanted %s", p); \
    ck_assert_str_eq(path, p); ck_assert_str_eq(token, t); } while (0)

START_TEST(fires_once_on_registration)
{
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/nothing/here", "tok"));
    expect_event(w, "/nothing/here", "tok");
    ck_assert_int_eq(xt_count_events(w), 0);
}
END_TEST

START_TEST(subtree_events)
{
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/a", "A"));
    expect_event(w, "/a", "A");
    xt_ok(xt_write(c0, 0, "/a", "1"));
    expect_event(w, "/a", "A");
    xt_ok(xt_write(c0, 0, "/a/b/c", "1"));
    expect_event(w, "/a/b/c", "A");
    xt_ok(xt_write(c0, 0, "/ab", "1"));       /* sibling prefix: no event */
    xt_ok(xt_write(c0, 0, "/other", "1"));
    ck_assert_int_eq(xt_count_events(w), 0);
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/a/b", "r0"));
    expect_event(w, "/a/b", "A");
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/a/m"));
    expect_event(w, "/a/m", "A");
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/a/m")); /* exists: no event */
    ck_assert_int_eq(xt_count_events(w), 0);
}
END_TEST

START_TEST(root_watch_sees_all)
{
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/", "root"));
    expect_event(w, "/", "root");
    xt_ok(xt_write(c0, 0, "/x/y", "1"));
    expect_event(w, "/x/y", "root");
}
END_TEST

START_TEST(removal_events)
{
    xt_ok(xt_write(c0, 0, "/p/q/r", "1"));
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/p/q/r", "deep"));
    expect_event(w, "/p/q/r", "deep");
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/p", "top"));
    expect_event(w, "/p", "top");
    xt_ok(xt_calls(c0, XS_RM, 0, 1, "/p/q"));
    /* As Xen: removed descendants fire only watches set exactly on them;
     * the removed node fires every watch at or above it. */
    ck_assert_int_eq(xt_count_events(w), 2);
    expect_event(w, "/p/q/r", "deep");
    expect_event(w, "/p/q", "top");
}
END_TEST

START_TEST(duplicates_and_unwatch)
{
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/d", "t"));
    xt_err(xt_calls(w, XS_WATCH, 0, 2, "/d", "t"), "EEXIST");
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/d", "t2"));
    xt_ok(xt_calls(w, XS_UNWATCH, 0, 2, "/d", "t"));
    xt_err(xt_calls(w, XS_UNWATCH, 0, 2, "/d", "t"), "ENOENT");
    xt_collect(w);
    xt_nevents = 0;
    xt_ok(xt_write(c0, 0, "/d", "1"));
    expect_event(w, "/d", "t2");
    ck_assert_int_eq(xt_count_events(w), 0);
    xt_err(xt_calls(w, XS_WATCH, 0, 1, "/d"), "EINVAL");
    xt_err(xt_calls(w, XS_WATCH, 0, 2, "/d/", "x"), "EINVAL");
    ck_assert_uint_eq(watch_count(), 1);
}
END_TEST

START_TEST(event_precedes_ack_of_write)
{
    struct xt_msg m;

    xt_ok(xt_calls(c0, XS_WATCH, 0, 2, "/o", "self"));
    xt_collect(c0);
    xt_nevents = 0;
    xt_send_raw(c0, XS_WRITE, 0, "/o\0v", 4);
    ck_assert(xt_pop(c0, &m));
    ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
    ck_assert_uint_eq(m.hdr.req_id, 0);
    ck_assert(xt_pop(c0, &m));
    ck_assert_uint_eq(m.hdr.type, XS_WRITE);
}
END_TEST

START_TEST(relative_watch_domain)
{
    struct conn *d5 = conn_new_mem(5);

    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/local/domain/5"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"));
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "device", "dev"));
    expect_event(d5, "device", "dev");
    xt_ok(xt_write(c0, 0, "/local/domain/5/device/vbd/0", "x"));
    expect_event(d5, "device/vbd/0", "dev");
    xt_ok(xt_calls(d5, XS_UNWATCH, 0, 2, "device", "dev"));
}
END_TEST

START_TEST(no_events_without_read_access)
{
    struct conn *d5 = conn_new_mem(5);

    xt_ok(xt_write(c0, 0, "/hidden/x", "1"));
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "/hidden", "h"));
    expect_event(d5, "/hidden", "h"); /* the first one is always sent */
    xt_ok(xt_write(c0, 0, "/hidden/x", "2"));
    ck_assert_int_eq(xt_count_events(d5), 0);
    /* Granting read sends the event (the new permissions allow it). */
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "/hidden/x", "n0", "r5"));
    expect_event(d5, "/hidden/x", "h");
    xt_ok(xt_write(c0, 0, "/hidden/x", "3"));
    expect_event(d5, "/hidden/x", "h");
    /* Revoking it too: the old permissions allowed it. */
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/hidden/x", "n0"));
    expect_event(d5, "/hidden/x", "h");
    xt_ok(xt_write(c0, 0, "/hidden/x", "4"));
    ck_assert_int_eq(xt_count_events(d5), 0);
    /* Special watches need read access to the special node. */
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "@releaseDomain", "rel"));
    expect_event(d5, "@releaseDomain", "rel");
    watch_fire_special("@releaseDomain");
    ck_assert_int_eq(xt_count_events(d5), 0);
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "@releaseDomain", "n0", "r5"));
    watch_fire_special("@releaseDomain");
    expect_event(d5, "@releaseDomain", "rel");
}
END_TEST

/* A special node's events follow its own permissions only: a readable
 * "/" (the parent of nothing that starts with '@') lets nothing through. */
START_TEST(special_events_ignore_root_perms)
{
    struct conn *d5 = conn_new_mem(5);

    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/", "r0"));
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "@introduceDomain", "i"));
    xt_ok(xt_calls(d5, XS_WATCH, 0, 2, "@releaseDomain", "r"));
    expect_event(d5, "@introduceDomain", "i");
    expect_event(d5, "@releaseDomain", "r");
    watch_fire_special("@introduceDomain");
    watch_fire_special("@releaseDomain");
    ck_assert_int_eq(xt_count_events(d5), 0);
    /* Granted on the node itself, the event goes out. */
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "@introduceDomain", "n0", "r5"));
    watch_fire_special("@introduceDomain");
    expect_event(d5, "@introduceDomain", "i");
    watch_fire_special("@releaseDomain");
    ck_assert_int_eq(xt_count_events(d5), 0);
}
END_TEST

START_TEST(many_watches_indexed)
{
    char p[64];

    for (int i = 0; i < 5000; i++) {
        snprintf(p, sizeof(p), "/many/%d", i);
        xt_ok(xt_calls(w, XS_WATCH, 0, 2, p, "m"));
    }
    xt_collect(w);
    xt_nevents = 0;
    xt_ok(xt_write(c0, 0, "/many/4321/sub", "x"));
    expect_event(w, "/many/4321/sub", "m");
    ck_assert_int_eq(xt_count_events(w), 0);
    ck_assert_uint_eq(watch_count(), 5000);
    xt_ok(xt_call(w, XS_RESET_WATCHES, 0, "", 1));
    ck_assert_uint_eq(watch_count(), 0);
}
END_TEST

START_TEST(closed_watcher_is_skipped)
{
    xt_ok(xt_calls(w, XS_WATCH, 0, 2, "/z", "z"));
    conn_close(w, "test");
    xt_ok(xt_write(c0, 0, "/z", "1"));
    conn_reap();
    ck_assert_uint_eq(watch_count(), 0);
    xt_ok(xt_write(c0, 0, "/z", "2"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_watch");
    TCase *tc = tcase_create("watch");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, fires_once_on_registration);
    tcase_add_test(tc, subtree_events);
    tcase_add_test(tc, root_watch_sees_all);
    tcase_add_test(tc, removal_events);
    tcase_add_test(tc, duplicates_and_unwatch);
    tcase_add_test(tc, event_precedes_ack_of_write);
    tcase_add_test(tc, relative_watch_domain);
    tcase_add_test(tc, no_events_without_read_access);
    tcase_add_test(tc, special_events_ignore_root_perms);
    tcase_add_test(tc, many_watches_indexed);
    tcase_add_test(tc, closed_watcher_is_skipped);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

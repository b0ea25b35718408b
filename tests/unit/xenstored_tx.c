/* xenstored: transactions (isolation, commit, abort, conflicts, quotas). */
#include "xenstored_test.h"

static struct conn *c0, *c1;

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
    c1 = conn_new_mem(0);
}

START_TEST(isolation_and_commit)
{
    uint32_t t;

    xt_ok(xt_write(c0, 0, "/t/a", "old"));
    t = xt_tx_start(c0);
    ck_assert_uint_ne(t, 0);
    xt_ok(xt_write(c0, t, "/t/a", "new"));
    xt_ok(xt_write(c0, t, "/t/b/c", "created"));
    xt_read_eq(c0, t, "/t/a", "new");
    xt_read_eq(c0, t, "/t/b/c", "created");
    xt_read_eq(c0, 0, "/t/a", "old");
    xt_read_eq(c1, 0, "/t/a", "old");
    xt_err(xt_read(c1, 0, "/t/b/c"), "ENOENT");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, t, 1, "/t")), "a,b");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/t")), "a");
    xt_ok(xt_tx_end(c0, t, true));
    xt_read_eq(c1, 0, "/t/a", "new");
    xt_read_eq(c1, 0, "/t/b/c", "created");
    xt_store_ok();
}
END_TEST

START_TEST(abort_applies_nothing)
{
    uint32_t t;

    xt_ok(xt_write(c0, 0, "/t/a", "old"));
    t = xt_tx_start(c0);
    xt_ok(xt_write(c0, t, "/t/a", "new"));
    xt_ok(xt_calls(c0, XS_RM, t, 1, "/t"));
    xt_err(xt_read(c0, t, "/t/a"), "ENOENT");
    xt_ok(xt_tx_end(c0, t, false));
    xt_read_eq(c0, 0, "/t/a", "old");
    xt_err(xt_tx_end(c0, t, true), "ENOENT"); /* gone */
    xt_store_ok();
}
END_TEST

START_TEST(rm_in_transaction)
{
    uint32_t t;

    xt_ok(xt_write(c0, 0, "/r/a/b", "1"));
    xt_ok(xt_write(c0, 0, "/r/c", "2"));
    t = xt_tx_start(c0);
    xt_ok(xt_calls(c0, XS_RM, t, 1, "/r/a"));
    xt_read_eq(c1, 0, "/r/a/b", "1");
    xt_ok(xt_tx_end(c0, t, true));
    xt_err(xt_read(c1, 0, "/r/a/b"), "ENOENT");
    xt_err(xt_read(c1, 0, "/r/a"), "ENOENT");
    ck_assert_str_eq(xt_list(xt_calls(c1, XS_DIRECTORY, 0, 1, "/r")), "c");
    xt_store_ok();
}
END_TEST

START_TEST(conflict_gives_eagain)
{
    uint32_t t;

    /* test-xenstore's "ta err": read in tx, write outside, commit fails. */
    xt_ok(xt_write(c0, 0, "/c/a", "a"));
    t = xt_tx_start(c0);
    xt_read_eq(c0, t, "/c/a", "a");
    xt_ok(xt_write(c1, 0, "/c/a", "b"));
    xt_read_eq(c0, t, "/c/a", "a");
    xt_ok(xt_write(c0, t, "/c/a", "c"));
    xt_err(xt_tx_end(c0, t, true), "EAGAIN");
    xt_read_eq(c0, 0, "/c/a", "b");
    /* A created-meanwhile node that the tx saw as absent conflicts too. */
    t = xt_tx_start(c0);
    xt_err(xt_read(c0, t, "/c/new"), "ENOENT");
    xt_ok(xt_write(c1, 0, "/c/new", "x"));
    xt_ok(xt_write(c0, t, "/c/other", "y"));
    xt_err(xt_tx_end(c0, t, true), "EAGAIN");
    xt_err(xt_read(c0, 0, "/c/other"), "ENOENT");
    xt_store_ok();
}
END_TEST

START_TEST(unrelated_writes_no_conflict)
{
    uint32_t t;

    xt_ok(xt_write(c0, 0, "/u/a", "a"));
    xt_ok(xt_write(c0, 0, "/v/b", "b"));
    t = xt_tx_start(c0);
    xt_read_eq(c0, t, "/u/a", "a");
    xt_ok(xt_write(c1, 0, "/v/b", "changed"));
    xt_ok(xt_write(c0, t, "/u/a", "tx"));
    xt_ok(xt_tx_end(c0, t, true));
    xt_read_eq(c1, 0, "/u/a", "tx");
}
END_TEST

START_TEST(ids_and_errors)
{
    uint32_t t1 = xt_tx_start(c0), t2 = xt_tx_start(c0);

    ck_assert_uint_ne(t1, t2);
    xt_err(xt_call(c0, XS_TRANSACTION_START, t1, "", 1), "EBUSY");
    xt_err(xt_read(c0, 999, "/"), "ENOENT");
    xt_err(xt_read(c1, t1, "/"), "ENOENT"); /* ids are per connection */
    xt_err(xt_call(c0, XS_TRANSACTION_END, t1, "X", 2), "EINVAL");
    xt_err(xt_call(c0, XS_TRANSACTION_END, 0, "T", 2), "ENOENT");
    xt_ok(xt_tx_end(c0, t1, true));
    xt_ok(xt_tx_end(c0, t2, false));
    ck_assert_uint_eq(c0->ntx, 0);
}
END_TEST

START_TEST(watches_fire_on_commit_only)
{
    uint32_t t;
    char path[256], token[64];

    xt_ok(xt_calls(c1, XS_WATCH, 0, 2, "/w", "tok"));
    ck_assert(xt_event(c1, path, token));
    t = xt_tx_start(c0);
    xt_ok(xt_write(c0, t, "/w/x", "1"));
    ck_assert_int_eq(xt_count_events(c1), 0);
    xt_ok(xt_tx_end(c0, t, true));
    ck_assert(xt_event(c1, path, token));
    ck_assert_str_eq(path, "/w/x");
    ck_assert_str_eq(token, "tok");
    t = xt_tx_start(c0);
    xt_ok(xt_write(c0, t, "/w/y", "1"));
    xt_ok(xt_tx_end(c0, t, false));
    ck_assert_int_eq(xt_count_events(c1), 0);
    /* Many writes of one node in a transaction: one event at commit. */
    t = xt_tx_start(c0);
    for (int i = 0; i < 1000; i++)
        xt_ok(xt_write(c0, t, "/w/x", "again"));
    xt_ok(xt_tx_end(c0, t, true));
    ck_assert(xt_event(c1, path, token));
    ck_assert_str_eq(path, "/w/x");
    ck_assert_int_eq(xt_count_events(c1), 0);
}
END_TEST

START_TEST(quota_transactions_domu)
{
    struct conn *d5 = conn_new_mem(5);
    uint32_t t[11];

    /* Xen's check lets quota + 1 (11) be open at once. */
    for (int i = 0; i < 11; i++)
        t[i] = xt_tx_start(d5);
    xt_err(xt_call(d5, XS_TRANSACTION_START, 0, "", 1), "ENOSPC");
    xt_ok(xt_tx_end(d5, t[3], false));
    xt_tx_start(d5);
    /* dom0 is not limited. */
    for (int i = 0; i < 20; i++)
        xt_tx_start(c0);
}
END_TEST

START_TEST(reset_watches_drops_transactions)
{
    uint32_t t = xt_tx_start(c0);

    xt_ok(xt_calls(c0, XS_WATCH, 0, 2, "/x", "t"));
    xt_ok(xt_call(c0, XS_RESET_WATCHES, 0, "", 1));
    xt_err(xt_read(c0, t, "/"), "ENOENT");
    ck_assert_uint_eq(c0->nwatches, 0);
    ck_assert_uint_eq(watch_count(), 0);
}
END_TEST

START_TEST(tx_node_accounting)
{
    struct conn *d5 = conn_new_mem(5);
    uint32_t t;

    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/local/domain/5"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"));
    t = xt_tx_start(d5);
    xt_ok(xt_write(d5, t, "a/b", "1"));
    ck_assert_uint_eq(tree_owned(5), 1);
    xt_ok(xt_tx_end(d5, t, true));
    ck_assert_uint_eq(tree_owned(5), 3);
    t = xt_tx_start(d5);
    xt_ok(xt_calls(d5, XS_RM, t, 1, "a"));
    xt_ok(xt_tx_end(d5, t, true));
    ck_assert_uint_eq(tree_owned(5), 1);
    xt_store_ok();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_tx");
    TCase *tc = tcase_create("transactions");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, isolation_and_commit);
    tcase_add_test(tc, abort_applies_nothing);
    tcase_add_test(tc, rm_in_transaction);
    tcase_add_test(tc, conflict_gives_eagain);
    tcase_add_test(tc, unrelated_writes_no_conflict);
    tcase_add_test(tc, ids_and_errors);
    tcase_add_test(tc, watches_fire_on_commit_only);
    tcase_add_test(tc, quota_transactions_domu);
    tcase_add_test(tc, reset_watches_drops_transactions);
    tcase_add_test(tc, tx_node_accounting);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

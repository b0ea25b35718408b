/*
 * Host tests of the guest's xenbus layer (frontends/kernel/xenbus.c and
 * xenbus_state.c) over a fake xenstore: strict numbers, state parsing,
 * switch_state's transaction and no-op, the transaction runner's retries,
 * the other-end checks (hostile backend/-id nodes), device helpers and
 * dev_fatal.  The watch thread needs the scheduler and is covered by
 * tests/integration/xenbus_selftest.sh; here xenbus_wait_for checks the
 * store once.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>

#include "kerrno.h"
#include "klib.h"
#include "platform.h"
#include "xenbus.h"
#include "xenstore.h"

struct platform platform;
static char logbuf[4096];

int printk(const char *fmt, ...)
{
    va_list ap;
    size_t used = strlen(logbuf);
    va_start(ap, fmt);
    int n = vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- a fake xenstore: flat (path, value) pairs ---- */

#define MAX_NODES 64
static struct node {
    char path[256];
    char value[256];
} nodes[MAX_NODES];
static int nr_nodes;
static int writes, tx_writes, tx_started, tx_aborted, eagain_commits;
static uint32_t open_tx;

static struct node *find(const char *path)
{
    for (int i = 0; i < nr_nodes; i++)
        if (strcmp(nodes[i].path, path) == 0)
            return &nodes[i];
    return NULL;
}

static void put(const char *path, const char *value)
{
    struct node *n = find(path);
    if (!n) {
        ck_assert_int_lt(nr_nodes, MAX_NODES);
        n = &nodes[nr_nodes++];
        strlcpy(n->path, path, sizeof(n->path));
    }
    strlcpy(n->value, value, sizeof(n->value));
}

static void check_tx(uint32_t tx)
{
    ck_assert(tx == 0 || tx == open_tx);
}

int xs_read_tx(uint32_t tx, const char *path, char *buf, size_t len)
{
    check_tx(tx);
    struct node *n = find(path);
    if (!n)
        return -ENOENT;
    if (len)
        strlcpy(buf, n->value, len);
    return (int)strlen(n->value);
}

int xs_write_tx(uint32_t tx, const char *path, const char *value)
{
    check_tx(tx);
    writes++;
    tx_writes += tx != 0;
    put(path, value);
    return 0;
}

int xs_mkdir_tx(uint32_t tx, const char *path)
{
    check_tx(tx);
    if (!find(path))
        put(path, "");
    return 0;
}

int xs_rm_tx(uint32_t tx, const char *path)
{
    check_tx(tx);
    struct node *n = find(path);
    if (!n)
        return -ENOENT;
    *n = nodes[--nr_nodes];
    return 0;
}

int xs_directory_tx(uint32_t tx, const char *path, char *buf, size_t len)
{
    (void)tx, (void)path, (void)buf, (void)len;
    return 0;
}

int xs_transaction_start(uint32_t *tx)
{
    ck_assert_uint_eq(open_tx, 0); /* never nested */
    tx_started++;
    *tx = open_tx = 77;
    return 0;
}

int xs_transaction_end(uint32_t tx, bool commit)
{
    ck_assert_uint_eq(tx, open_tx);
    open_tx = 0;
    if (!commit) {
        tx_aborted++;
        return 0;
    }
    if (eagain_commits > 0) {
        eagain_commits--;
        return -EAGAIN;
    }
    return 0;
}

/* the watch side, reduced to one look at the store */
int xenbus_wait_for(const char *path, xenbus_check_fn check, void *ctx, uint64_t timeout_ns)
{
    (void)timeout_ns;
    struct node *n = find(path);
    return check(n ? n->value : NULL, ctx) ? 0 : -ETIMEDOUT;
}

static int watches;
int xenbus_watch_path(struct xenbus_watch *w, const char *path, xenbus_watch_fn fn, void *arg)
{
    strlcpy(w->path, path, sizeof(w->path));
    w->fn = fn;
    w->arg = arg;
    w->registered = true;
    watches++;
    return 0;
}

int xenbus_unwatch(struct xenbus_watch *w)
{
    w->registered = false;
    watches--;
    return 0;
}

static void setup(void)
{
    nr_nodes = writes = tx_writes = tx_started = tx_aborted = eagain_commits = watches = 0;
    open_tx = 0;
    logbuf[0] = '\0';
    platform.domid = 5;
}

/* ---- numbers and states ---- */

START_TEST(parse_u64_is_strict_decimal)
{
    uint64_t v = 99;
    ck_assert_int_eq(xenbus_parse_u64("0", 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(xenbus_parse_u64("42", 42, &v), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(xenbus_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    static const char *const bad[] = { "", "01", "+1", "-1", " 1", "1 ", "0x1", "1a",
                                       "18446744073709551616", "99999999999999999999999" };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(xenbus_parse_u64(bad[i], UINT64_MAX, &v) == -EINVAL, "accepted '%s'", bad[i]);
    ck_assert_int_eq(xenbus_parse_u64("43", 42, &v), -EINVAL);
    ck_assert_int_eq(xenbus_parse_u64("7", 5, &v), -EINVAL); /* digit above max */
}
END_TEST

START_TEST(state_names_and_parse)
{
    ck_assert_str_eq(xenbus_state_name(XenbusStateInitWait), "InitWait");
    ck_assert_str_eq(xenbus_state_name(XenbusStateConnected), "Connected");
    ck_assert_str_eq(xenbus_state_name(9), "Invalid");
    ck_assert_str_eq(xenbus_state_name(-1), "Invalid");
    ck_assert_int_eq(xenbus_state_parse("6", 1), XenbusStateClosed);
    ck_assert_int_eq(xenbus_state_parse("0", 1), XenbusStateUnknown);
    ck_assert_int_eq(xenbus_state_parse("9", 1), -EINVAL);
    ck_assert_int_eq(xenbus_state_parse("44", 2), -EINVAL);
    ck_assert_int_eq(xenbus_state_parse("", 0), -EINVAL);
    ck_assert_int_eq(xenbus_state_parse("a", 1), -EINVAL);
}
END_TEST

START_TEST(read_state_absent_garbage_good)
{
    ck_assert_int_eq(xenbus_read_state(XBT_NIL, "dev"), XenbusStateUnknown);
    put("dev/state", "4");
    ck_assert_int_eq(xenbus_read_state(XBT_NIL, "dev"), XenbusStateConnected);
    put("dev/state", "connected");
    ck_assert_int_eq(xenbus_read_state(XBT_NIL, "dev"), -EINVAL);
    put("dev/state", "4444444444444444");
    ck_assert_int_eq(xenbus_read_state(XBT_NIL, "dev"), -EINVAL);
}
END_TEST

START_TEST(switch_state_in_own_transaction_and_noop)
{
    ck_assert_int_eq(xenbus_switch_state(XBT_NIL, "dev", XenbusStateInitialised), 0);
    ck_assert_str_eq(find("dev/state")->value, "3");
    ck_assert_int_eq(tx_started, 1);
    ck_assert_int_eq(tx_writes, 1);
    ck_assert_int_eq(xenbus_switch_state(XBT_NIL, "dev", XenbusStateInitialised), 0);
    ck_assert_int_eq(writes, 1); /* unchanged: no write */
    eagain_commits = 2;
    ck_assert_int_eq(xenbus_switch_state(XBT_NIL, "dev", XenbusStateClosing), 0);
    ck_assert_int_eq(tx_started, 5); /* 1 + 1 + 3 tries */
    ck_assert_str_eq(find("dev/state")->value, "5");
    ck_assert_int_eq(xenbus_switch_state(XBT_NIL, "dev", 9), -EINVAL);
}
END_TEST

/* ---- the transaction runner ---- */

static int runs;
static int fn_result;

static int tx_body(xenbus_transaction_t t, void *arg)
{
    (void)arg;
    runs++;
    ck_assert_uint_ne(t, XBT_NIL);
    xenbus_write(t, "counter", "1");
    return fn_result;
}

START_TEST(transaction_run_retries_on_eagain)
{
    unsigned int tries;
    eagain_commits = 3;
    ck_assert_int_eq(xenbus_transaction_run(tx_body, NULL, 0, &tries), 0);
    ck_assert_uint_eq(tries, 4);
    ck_assert_int_eq(runs, 4);
    ck_assert_uint_eq(open_tx, 0);
}
END_TEST

START_TEST(transaction_run_gives_up)
{
    unsigned int tries;
    eagain_commits = 100;
    ck_assert_int_eq(xenbus_transaction_run(tx_body, NULL, 5, &tries), -EAGAIN);
    ck_assert_uint_eq(tries, 5);
    ck_assert_uint_eq(open_tx, 0);
}
END_TEST

START_TEST(transaction_run_fn_error_aborts)
{
    unsigned int tries;
    fn_result = -EINVAL;
    ck_assert_int_eq(xenbus_transaction_run(tx_body, NULL, 0, &tries), -EINVAL);
    ck_assert_uint_eq(tries, 1);
    ck_assert_int_eq(tx_aborted, 1);
    fn_result = -EAGAIN; /* fn saw a conflict itself: run again */
    runs = 0;
    ck_assert_int_eq(xenbus_transaction_run(tx_body, NULL, 3, &tries), -EAGAIN);
    ck_assert_int_eq(runs, 3);
    ck_assert_int_eq(tx_aborted, 4);
    fn_result = 0;
}
END_TEST

/* ---- ops ---- */

START_TEST(printf_read_u64_exists)
{
    ck_assert_int_eq(xenbus_printf(XBT_NIL, "dev", "ring-ref", "%u", 123u), 0);
    ck_assert_str_eq(find("dev/ring-ref")->value, "123");
    uint64_t v;
    ck_assert_int_eq(xenbus_read_u64(XBT_NIL, "dev", "ring-ref", 1000, &v), 0);
    ck_assert_uint_eq(v, 123);
    ck_assert_int_eq(xenbus_read_u64(XBT_NIL, "dev", "ring-ref", 100, &v), -EINVAL);
    ck_assert_int_eq(xenbus_read_u64(XBT_NIL, "dev", "nothing", 100, &v), -ENOENT);
    put("dev/long", "123456789012345678901234567890");
    ck_assert_int_eq(xenbus_read_u64(XBT_NIL, "dev", "long", UINT64_MAX, &v), -EINVAL);
    ck_assert(xenbus_exists(XBT_NIL, "dev/ring-ref"));
    ck_assert(!xenbus_exists(XBT_NIL, "dev/nothing"));
    char longdir[400];
    memset(longdir, 'a', sizeof(longdir) - 1);
    longdir[sizeof(longdir) - 1] = '\0';
    ck_assert_int_eq(xenbus_printf(XBT_NIL, longdir, "x", "1"), -ENAMETOOLONG);
}
END_TEST

/* ---- the other end ---- */

static int otherend(const char *backend, const char *id, domid_t *dom)
{
    nr_nodes = 0;
    if (backend)
        put("fe/backend", backend);
    if (id)
        put("fe/backend-id", id);
    char path[XENBUS_PATH_MAX];
    return xenbus_read_otherend(XBT_NIL, "fe", "backend", path, sizeof(path), dom);
}

START_TEST(otherend_checks)
{
    domid_t d = 99;
    ck_assert_int_eq(otherend("/local/domain/0/backend/vbd/5/51712", "0", &d), 0);
    ck_assert_uint_eq(d, 0);
    ck_assert_int_eq(otherend("/local/domain/3/backend/vif/5/0", "3", &d), 0);
    ck_assert_uint_eq(d, 3);
    ck_assert_int_eq(otherend(NULL, "0", &d), -ENOENT);
    ck_assert_int_eq(otherend("/local/domain/0/backend/vbd/5/1", NULL, &d), -ENOENT);
    static const struct { const char *path, *id; } bad[] = {
        { "/local/domain/0/backend/vbd/5/1", "1" },       /* id does not match */
        { "/local/domain/0/backend/vbd/5/1", "0x0" },     /* hex */
        { "/local/domain/0/backend/vbd/5/1", "00" },      /* not canonical */
        { "/local/domain/0/backend/vbd/5/1", "-0" },
        { "/local/domain/0/backend/vbd/5/1", "32752" },   /* DOMID_SELF */
        { "/local/domain/0/device/vbd/5/1", "0" },        /* not a backend dir */
        { "/local/domain/0/backend/", "0" },              /* nothing below */
        { "/local/domain/0/backend//x", "0" },
        { "local/domain/0/backend/vbd/5/1", "0" },        /* relative */
        { "/local/domain/01/backend/vbd/5/1", "1" },
    };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(otherend(bad[i].path, bad[i].id, &d) == -EINVAL, "accepted %s id %s",
                      bad[i].path, bad[i].id);
    char small[16];
    put("fe/backend", "/local/domain/0/backend/vbd/5/51712");
    put("fe/backend-id", "0");
    ck_assert_int_eq(xenbus_read_otherend(XBT_NIL, "fe", "backend", small, sizeof(small), &d),
                     -ENAMETOOLONG);
    ck_assert_int_eq(xenbus_read_otherend(XBT_NIL, "fe", "bogus", small, sizeof(small), &d),
                     -EINVAL);
}
END_TEST

/* ---- devices ---- */

static int changed_state = -1;
static void on_change(struct xenbus_device *dev, int state)
{
    (void)dev;
    changed_state = state;
}

START_TEST(device_lifecycle)
{
    struct xenbus_device dev;
    put("/local/domain/5/device/vbd/51712/backend", "/local/domain/0/backend/vbd/5/51712");
    put("/local/domain/5/device/vbd/51712/backend-id", "0");
    ck_assert_int_eq(xenbus_device_init(&dev, "vbd", "51712"), 0);
    ck_assert_str_eq(dev.nodename, "/local/domain/5/device/vbd/51712");
    ck_assert_str_eq(dev.otherend, "/local/domain/0/backend/vbd/5/51712");
    ck_assert_int_eq(xenbus_watch_otherend(&dev, on_change), 0);
    ck_assert_str_eq(dev.otherend_watch.path, "/local/domain/0/backend/vbd/5/51712/state");
    put("/local/domain/0/backend/vbd/5/51712/state", "2");
    dev.otherend_watch.fn(&dev.otherend_watch, dev.otherend_watch.path, dev.otherend_watch.arg);
    ck_assert_int_eq(changed_state, XenbusStateInitWait);
    ck_assert_int_eq(dev.otherend_state, XenbusStateInitWait);
    ck_assert_int_eq(xenbus_dev_wait_otherend(&dev, XENBUS_STATE_BIT(XenbusStateInitWait) |
                                                        XENBUS_STATE_BIT(XenbusStateClosed), 1),
                     XenbusStateInitWait);
    ck_assert_int_eq(xenbus_dev_wait_otherend(&dev, XENBUS_STATE_BIT(XenbusStateConnected), 1),
                     -ETIMEDOUT);
    ck_assert_int_eq(xenbus_dev_switch_state(&dev, XenbusStateInitialised), 0);
    ck_assert_str_eq(find("/local/domain/5/device/vbd/51712/state")->value, "3");
    xenbus_dev_fatal(&dev, -EIO, "ring-ref %d is bad", 7);
    ck_assert_str_eq(find("error/device/vbd/51712/error")->value, "5 ring-ref 7 is bad");
    ck_assert_str_eq(find("/local/domain/5/device/vbd/51712/state")->value, "5");
    ck_assert_ptr_nonnull(strstr(logbuf, "ring-ref 7 is bad"));
    xenbus_unwatch_otherend(&dev);
    ck_assert_int_eq(watches, 0);
    xenbus_unwatch_otherend(&dev); /* twice is harmless */
    ck_assert_int_eq(watches, 0);
}
END_TEST

START_TEST(device_without_backend)
{
    struct xenbus_device dev;
    ck_assert_int_eq(xenbus_device_init(&dev, "vbd", "1"), -ENOENT);
    char longtype[300];
    memset(longtype, 'v', sizeof(longtype) - 1);
    longtype[sizeof(longtype) - 1] = '\0';
    ck_assert_int_eq(xenbus_device_init(&dev, longtype, "1"), -ENAMETOOLONG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_xenbus");
    TCase *tc = tcase_create("xenbus");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, parse_u64_is_strict_decimal);
    tcase_add_test(tc, state_names_and_parse);
    tcase_add_test(tc, read_state_absent_garbage_good);
    tcase_add_test(tc, switch_state_in_own_transaction_and_noop);
    tcase_add_test(tc, transaction_run_retries_on_eagain);
    tcase_add_test(tc, transaction_run_gives_up);
    tcase_add_test(tc, transaction_run_fn_error_aborts);
    tcase_add_test(tc, printf_read_u64_exists);
    tcase_add_test(tc, otherend_checks);
    tcase_add_test(tc, device_lifecycle);
    tcase_add_test(tc, device_without_backend);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

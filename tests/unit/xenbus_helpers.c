/* dom0/xenbus: XenbusState names and parsing, backend path parsing, and
 * the xenstore helpers against a real xenstored ($TANDEM_BIN/xenstored,
 * started in a temporary directory and stopped by pid). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tdm_xenbus.h"

#define WAIT_MS 5000

/* ---- pure helpers ---- */

START_TEST(state_names)
{
    static const char *want[] = { "Unknown", "Initialising", "InitWait", "Initialised",
                                  "Connected", "Closing", "Closed", "Reconfiguring",
                                  "Reconfigured" };

    for (int s = 0; s <= TDM_XBS_RECONFIGURED; s++)
        ck_assert_str_eq(tdm_xenbus_state_name(s), want[s]);
    ck_assert_str_eq(tdm_xenbus_state_name(-1), "Invalid");
    ck_assert_str_eq(tdm_xenbus_state_name(9), "Invalid");
    ck_assert_int_eq(TDM_XBS_CONNECTED, 4);
    ck_assert_int_eq(TDM_XBS_CLOSED, 6);
}
END_TEST

START_TEST(state_parse_is_strict)
{
    ck_assert_int_eq(tdm_xenbus_state_parse("4", 1), 4);
    ck_assert_int_eq(tdm_xenbus_state_parse("0", 1), 0);
    ck_assert_int_eq(tdm_xenbus_state_parse("8", 1), 8);
    ck_assert_int_eq(tdm_xenbus_state_parse("9", 1), -1);
    ck_assert_int_eq(tdm_xenbus_state_parse("", 0), -1);
    ck_assert_int_eq(tdm_xenbus_state_parse("04", 2), -1);
    ck_assert_int_eq(tdm_xenbus_state_parse("4 ", 2), -1);
    ck_assert_int_eq(tdm_xenbus_state_parse("x", 1), -1);
}
END_TEST

START_TEST(backend_paths)
{
    struct tdm_xenbus_backend_id id;
    static const char *bad[] = {
        "/local/domain/1/backend/vbd/3/1", "/local/domain/0/backend/vbd/3",
        "/local/domain/0/backend/vbd/03/1", "/local/domain/0/backend/VBD/3/1",
        "/local/domain/0/backend/vbd/32752/1", "/local/domain/0/backend/vbd/3/1x",
        "/local/domain/0/backend/vbd/3/4294967296", "/local/domain/0/backend//3/1",
        "/local/domain/0/backend/abcdefghijklmnopqrstuvwxyz0123456/3/1",
        "local/domain/0/backend/vbd/3/1", "/local/domain/0/backend/vbd/-3/1",
    };

    ck_assert_int_eq(tdm_xenbus_parse_backend_path("/local/domain/0/backend/vbd/3/51712", &id), 0);
    ck_assert_str_eq(id.type, "vbd");
    ck_assert_uint_eq(id.frontend_id, 3);
    ck_assert_uint_eq(id.devid, 51712);
    ck_assert_uint_eq(id.dir_len, strlen("/local/domain/0/backend/vbd/3/51712"));
    ck_assert_int_eq(tdm_xenbus_parse_backend_path("/local/domain/0/backend/vif/0/4294967295/state", &id), 0);
    ck_assert_uint_eq(id.devid, 4294967295u);
    ck_assert_uint_eq(id.dir_len, strlen("/local/domain/0/backend/vif/0/4294967295"));
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(tdm_xenbus_parse_backend_path(bad[i], &id) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(watch_needs_a_daemon_and_a_type)
{
    setenv("XENSTORED_PATH", "/nonexistent/xenstored-socket", 1);
    ck_assert_ptr_null(tdm_xenbus_watch_backends("vbd"));
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "cannot reach xenstored"));
    ck_assert_ptr_null(tdm_xenbus_watch_backends("../x"));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(tdm_xenbus_watch_backends(""));
}
END_TEST

/* ---- a real xenstored ---- */

static char dir[64], sock[96];
static pid_t daemon_pid;

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int can_connect(void)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void daemon_start(void)
{
    const char *bin = getenv("TANDEM_BIN");
    char exe[512], log[128];
    long deadline;

    snprintf(exe, sizeof(exe), "%s/xenstored", bin ? bin : "build/bin");
    ck_assert_msg(access(exe, X_OK) == 0, "no xenstored at %s (build it first)", exe);
    strcpy(dir, "/tmp/tandem-xenbus.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/socket", dir);
    snprintf(log, sizeof(log), "%s/xenstored.log", dir);
    daemon_pid = fork();
    ck_assert_int_ge(daemon_pid, 0);
    if (daemon_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, "xenstored", "--foreground", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    deadline = now_ms() + WAIT_MS;
    while (!can_connect()) {
        struct timespec tick = { 0, 5 * 1000 * 1000 };
        int st;

        ck_assert_msg(waitpid(daemon_pid, &st, WNOHANG) == 0, "xenstored exited (see %s)", log);
        ck_assert_msg(now_ms() < deadline, "xenstored not listening on %s", sock);
        nanosleep(&tick, NULL);   /* poll interval while waiting for the socket */
    }
    setenv("XENSTORED_PATH", sock, 1);
}

static void daemon_stop(void)
{
    char path[128];

    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = 0;
    }
    snprintf(path, sizeof(path), "%s/xenstored.log", dir);
    unlink(path);
    unlink(sock);
    rmdir(dir);     /* fails (harmlessly) if the daemon left other files */
}

static struct xs_handle *xs;

static void open_xs(void)
{
    xs = xs_open(0);
    ck_assert_msg(xs != NULL, "xs_open: %s", strerror(errno));
}

static void close_xs(void)
{
    xs_close(xs);
}

static void put(const char *path, const char *value)
{
    ck_assert_msg(xs_write(xs, XBT_NULL, path, value, (unsigned)strlen(value)),
                  "write %s: %s", path, strerror(errno));
}

static void expect_value(const char *path, const char *want)
{
    unsigned len;
    char *v = xs_read(xs, XBT_NULL, path, &len);

    ck_assert_msg(v != NULL, "read %s: %s", path, strerror(errno));
    ck_assert_str_eq(v, want);
    free(v);
}

START_TEST(read_state_values)
{
    put("/t/rs/a/state", "1");
    put("/t/rs/b/state", "x");
    put("/t/rs/c/state", "10");
    put("/t/rs/d/other", "1");
    ck_assert_int_eq(tdm_xenbus_read_state(xs, XBT_NULL, "/t/rs/a"), TDM_XBS_INITIALISING);
    ck_assert_int_eq(tdm_xenbus_read_state(xs, XBT_NULL, "/t/rs/d"), TDM_XBS_UNKNOWN);
    ck_assert_int_eq(tdm_xenbus_read_state(xs, XBT_NULL, "/t/rs/b"), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "/t/rs/b/state = 'x'"));
    ck_assert_int_eq(tdm_xenbus_read_state(xs, XBT_NULL, "/t/rs/c"), -1);
}
END_TEST

START_TEST(switch_state_writes_once)
{
    xs_transaction_t t;

    ck_assert_int_eq(tdm_xenbus_switch_state(xs, XBT_NULL, "/t/sw/dev", TDM_XBS_INIT_WAIT), 0);
    expect_value("/t/sw/dev/state", "2");
    ck_assert_int_eq(tdm_xenbus_switch_state(xs, XBT_NULL, "/t/sw/dev", TDM_XBS_INIT_WAIT), 0);
    ck_assert_int_eq(tdm_xenbus_read_state(xs, XBT_NULL, "/t/sw/dev"), TDM_XBS_INIT_WAIT);
    t = xs_transaction_start(xs);
    ck_assert_uint_ne(t, XBT_NULL);
    ck_assert_int_eq(tdm_xenbus_switch_state(xs, t, "/t/sw/dev", TDM_XBS_CONNECTED), 0);
    ck_assert(xs_transaction_end(xs, t, false));
    expect_value("/t/sw/dev/state", "4");
    ck_assert_int_eq(tdm_xenbus_switch_state(xs, XBT_NULL, "/t/sw/dev", 9), -1);
    ck_assert_int_eq(errno, EINVAL);
    expect_value("/t/sw/dev/state", "4");
}
END_TEST

/* A counter incremented in a transaction while another connection writes
 * it between the read and the commit: the first commit conflicts (EAGAIN)
 * and tdm_xenbus_transact runs the body again on the new value. */
struct bump {
    int runs, interfere;
};

static int bump_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    struct bump *b = arg;
    unsigned len;
    char *v = xs_read(h, t, "/t/tx/n", &len);
    char num[16];

    if (!v)
        return -1;
    snprintf(num, sizeof(num), "%d", atoi(v) + 1);
    free(v);
    b->runs++;
    if (b->runs <= b->interfere) {
        struct xs_handle *other = xs_open(0);
        ck_assert_ptr_nonnull(other);
        ck_assert(xs_write(other, XBT_NULL, "/t/tx/n", "10", 2));
        xs_close(other);
    }
    return xs_write(h, t, "/t/tx/n", num, (unsigned)strlen(num)) ? 7 : -1;
}

static int fail_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
    (void)arg;
    ck_assert(xs_write(h, t, "/t/tx/aborted", "1", 1));
    errno = EPERM;
    return -1;
}

START_TEST(transact_retries_a_conflict)
{
    struct bump b = { 0, 2 };
    unsigned len;

    put("/t/tx/n", "1");
    ck_assert_int_eq(tdm_xenbus_transact(xs, bump_body, &b), 7);
    ck_assert_int_eq(b.runs, 3);            /* two conflicts, then the commit */
    expect_value("/t/tx/n", "11");          /* on top of the other writer's value */
    ck_assert_int_eq(tdm_xenbus_transact(xs, fail_body, NULL), -1);
    ck_assert_int_eq(errno, EPERM);
    ck_assert_ptr_null(xs_read(xs, XBT_NULL, "/t/tx/aborted", &len));   /* aborted */
}
END_TEST

#define BE "/local/domain/0/backend/vbd/3/51712"
#define FE "/local/domain/3/device/vbd/51712"

START_TEST(otherend_both_ways)
{
    char *path = NULL;
    unsigned domid = 99;

    put(BE "/frontend", FE);
    put(BE "/frontend-id", "3");
    put(FE "/backend", BE);
    put(FE "/backend-id", "0");
    ck_assert_int_eq(tdm_xenbus_read_otherend(xs, XBT_NULL, BE, "frontend", &path, &domid), 0);
    ck_assert_str_eq(path, FE);
    ck_assert_uint_eq(domid, 3);
    free(path);
    ck_assert_int_eq(tdm_xenbus_read_otherend(xs, XBT_NULL, FE, "backend", &path, &domid), 0);
    ck_assert_str_eq(path, BE);
    ck_assert_uint_eq(domid, 0);
    free(path);
}
END_TEST

START_TEST(otherend_refusals)
{
    static const struct { const char *node, *value, *which, *why; } cases[] = {
        { "frontend-id", "4", "frontend", "not a path under /local/domain/4/device/" },
        { "frontend-id", "03", "frontend", "not a domain id" },
        { "frontend-id", "32752", "frontend", "not a domain id" },
        { "frontend", "relative/path", "frontend", "not a path" },
        { "frontend", "/local/domain/3/device//vbd", "frontend", "not a path" },
        { "frontend", "/local/domain/3/backend/vbd/1", "frontend", "not a path" },
        { "frontend", "/local/domain/3/device/", "frontend", "not a path" },
        { "frontend", "/local/domain/3/device/v bd", "frontend", "not a path" },
    };
    char *path;
    unsigned domid;

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char node[160];

        put("/t/oe/be/frontend", FE);
        put("/t/oe/be/frontend-id", "3");
        snprintf(node, sizeof(node), "/t/oe/be/%s", cases[i].node);
        put(node, cases[i].value);
        path = NULL;
        ck_assert_int_eq(tdm_xenbus_read_otherend(xs, XBT_NULL, "/t/oe/be", cases[i].which,
                                                  &path, &domid), -1);
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_msg(strstr(tdm_last_error(), cases[i].why), "case %u: %s", i, tdm_last_error());
        ck_assert_ptr_null(path);
    }
    ck_assert_int_eq(tdm_xenbus_read_otherend(xs, XBT_NULL, "/t/oe/none", "frontend", &path, &domid), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(tdm_xenbus_read_otherend(xs, XBT_NULL, "/t/oe/be", "sideways", &path, &domid), -1);
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* Next device event within WAIT_MS (waits on the watch fd, not on time). */
static struct tdm_xenbus_dev_event next_event(struct tdm_xenbus_watch *w)
{
    struct tdm_xenbus_dev_event ev;
    long deadline = now_ms() + WAIT_MS;

    for (;;) {
        struct pollfd p = { .fd = tdm_xenbus_watch_fd(w), .events = POLLIN };
        int r = tdm_xenbus_watch_next(w, &ev);

        ck_assert_msg(r >= 0, "watch: %s", tdm_last_error());
        if (r == 1)
            return ev;
        ck_assert_msg(now_ms() < deadline, "no device event in %d ms", WAIT_MS);
        poll(&p, 1, 100);
    }
}

#define VT "/local/domain/0/backend/vtst"

static void expect_event(struct tdm_xenbus_watch *w, int kind, unsigned fe, unsigned devid)
{
    struct tdm_xenbus_dev_event ev = next_event(w);
    char dir_want[96];

    snprintf(dir_want, sizeof(dir_want), VT "/%u/%u", fe, devid);
    ck_assert_int_eq(ev.kind, kind);
    ck_assert_uint_eq(ev.frontend_id, fe);
    ck_assert_uint_eq(ev.devid, devid);
    ck_assert_str_eq(ev.dir, dir_want);
}

START_TEST(watch_reports_devices_coming_and_going)
{
    struct tdm_xenbus_watch *w;

    put(VT "/5/768/state", "1");
    w = tdm_xenbus_watch_backends("vtst");
    ck_assert_msg(w != NULL, "%s", tdm_last_error());
    expect_event(w, TDM_XENBUS_DEV_ADDED, 5, 768);          /* existed before */
    put(VT "/5/832/state", "1");
    expect_event(w, TDM_XENBUS_DEV_ADDED, 5, 832);
    /* Changes inside a known device and non-device names add nothing: the
     * next event is the next real device. */
    put(VT "/5/768/state", "2");
    put(VT "/abc/1/state", "1");
    put(VT "/7/x1/state", "1");
    put(VT "/7/2048/state", "1");
    expect_event(w, TDM_XENBUS_DEV_ADDED, 7, 2048);
    ck_assert(xs_rm(xs, XBT_NULL, VT "/5/768"));
    expect_event(w, TDM_XENBUS_DEV_REMOVED, 5, 768);
    ck_assert(xs_rm(xs, XBT_NULL, VT "/5"));
    expect_event(w, TDM_XENBUS_DEV_REMOVED, 5, 832);
    ck_assert(xs_rm(xs, XBT_NULL, VT));
    expect_event(w, TDM_XENBUS_DEV_REMOVED, 7, 2048);
    tdm_xenbus_watch_close(w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenbus_helpers");
    TCase *t = tcase_create("pure");

    tcase_add_test(t, state_names);
    tcase_add_test(t, state_parse_is_strict);
    tcase_add_test(t, backend_paths);
    tcase_add_test(t, watch_needs_a_daemon_and_a_type);
    suite_add_tcase(s, t);
    t = tcase_create("xenstored");
    tcase_add_unchecked_fixture(t, daemon_start, daemon_stop);
    tcase_add_checked_fixture(t, open_xs, close_xs);
    tcase_add_test(t, read_state_values);
    tcase_add_test(t, switch_state_writes_once);
    tcase_add_test(t, transact_retries_a_conflict);
    tcase_add_test(t, otherend_both_ways);
    tcase_add_test(t, otherend_refusals);
    tcase_add_test(t, watch_reports_devices_coming_and_going);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

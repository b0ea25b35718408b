/*
 * libxenstore against a real xenstored started in a temporary directory
 * ($TANDEM_BIN/xenstored --foreground --socket DIR/socket).  Waits are for
 * states (a connectable socket, a readable fd), always with a timeout.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <xenstore.h>

#define WAIT_MS 5000

struct daemon {
    char dir[64];
    char sock[96];
    pid_t pid;
};

static struct daemon shared_daemon;

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool can_connect(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void daemon_start(struct daemon *d)
{
    const char *bin = getenv("TANDEM_BIN");
    char exe[512], log[128];
    long deadline;

    snprintf(exe, sizeof(exe), "%s/xenstored", bin ? bin : "build/bin");
    ck_assert_msg(access(exe, X_OK) == 0, "no daemon at %s", exe);
    strcpy(d->dir, "/tmp/libxs-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d->dir));
    snprintf(d->sock, sizeof(d->sock), "%s/socket", d->dir);
    snprintf(log, sizeof(log), "%s/xenstored.log", d->dir);
    d->pid = fork();
    ck_assert_int_ge(d->pid, 0);
    if (d->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, "xenstored", "--foreground", "--socket", d->sock, (char *)NULL);
        _exit(127);
    }
    deadline = now_ms() + WAIT_MS;
    while (!can_connect(d->sock)) {
        int st;
        struct timespec tick = { 0, 5 * 1000 * 1000 };

        ck_assert_msg(waitpid(d->pid, &st, WNOHANG) == 0, "xenstored exited early (see %s)", log);
        ck_assert_msg(now_ms() < deadline, "xenstored socket %s not up in %d ms", d->sock, WAIT_MS);
        nanosleep(&tick, NULL); /* polling interval while waiting for a state */
    }
    setenv("XENSTORED_PATH", d->sock, 1);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void daemon_stop(struct daemon *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    if (d->dir[0])
        nftw(d->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void shared_setup(void)
{
    daemon_start(&shared_daemon);
}

static void shared_teardown(void)
{
    daemon_stop(&shared_daemon);
}

static struct xs_handle *open_ok(unsigned long flags)
{
    struct xs_handle *h = xs_open(flags);

    ck_assert_msg(h != NULL, "xs_open: %s", strerror(errno));
    return h;
}

static bool readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(read_write)
{
    struct xs_handle *h = open_ok(0);
    unsigned int len;
    char *v;

    ck_assert(xs_write(h, XBT_NULL, "/test/rw/a", "hello", 5));
    v = xs_read(h, XBT_NULL, "/test/rw/a", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(v, "hello"); /* NUL-terminated beyond len */
    free(v);
    /* Binary values keep their bytes. */
    ck_assert(xs_write(h, XBT_NULL, "/test/rw/b", "x\0y", 3));
    v = xs_read(h, XBT_NULL, "/test/rw/b", &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(v, "x\0y", 3);
    free(v);
    /* The parent was created with an empty value. */
    v = xs_read(h, XBT_NULL, "/test/rw", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, 0);
    free(v);
    xs_close(h);
}
END_TEST

START_TEST(errors_map_to_errno)
{
    struct xs_handle *h = open_ok(0);
    static char big[XENSTORE_PAYLOAD_MAX + 1];

    errno = 0;
    ck_assert_ptr_null(xs_read(h, XBT_NULL, "/test/nonexistent", NULL));
    ck_assert_int_eq(errno, ENOENT);
    errno = 0;
    ck_assert(!xs_write(h, XBT_NULL, "/test/big", big, sizeof(big)));
    ck_assert_int_eq(errno, E2BIG);
    errno = 0;
    ck_assert(!xs_write(h, XBT_NULL, "/test/bad//path", "x", 1));
    ck_assert_int_eq(errno, EINVAL);
    /* The connection is still usable after errors, and (as with Xen's
     * library, which Xen's test-xenstore relies on) a success leaves
     * errno 0. */
    errno = ENOENT;
    ck_assert(xs_write(h, XBT_NULL, "/test/after", "1", 1));
    ck_assert_int_eq(errno, 0);
    xs_close(h);
}
END_TEST

START_TEST(mkdir_rm)
{
    struct xs_handle *h = open_ok(0);
    unsigned int num;
    char **names;

    ck_assert(xs_mkdir(h, XBT_NULL, "/test/md/sub"));
    ck_assert(xs_mkdir(h, XBT_NULL, "/test/md/sub")); /* exists: fine */
    names = xs_directory(h, XBT_NULL, "/test/md", &num);
    ck_assert_ptr_nonnull(names);
    ck_assert_uint_eq(num, 1);
    ck_assert_str_eq(names[0], "sub");
    free(names);
    ck_assert(xs_write(h, XBT_NULL, "/test/md/sub/x/y", "1", 1));
    ck_assert(xs_rm(h, XBT_NULL, "/test/md/sub"));
    ck_assert_ptr_null(xs_read(h, XBT_NULL, "/test/md/sub/x/y", NULL));
    names = xs_directory(h, XBT_NULL, "/test/md", &num);
    ck_assert_ptr_nonnull(names);
    ck_assert_uint_eq(num, 0);
    free(names);
    xs_close(h);
}
END_TEST

START_TEST(directory_small)
{
    struct xs_handle *h = open_ok(0);
    unsigned int num;
    char **names, path[64];

    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof(path), "/test/dir/n%d", i);
        ck_assert(xs_write(h, XBT_NULL, path, "v", 1));
    }
    names = xs_directory(h, XBT_NULL, "/test/dir", &num);
    ck_assert_ptr_nonnull(names);
    ck_assert_uint_eq(num, 10);
    qsort(names, num, sizeof(char *), cmp_str);
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof(path), "n%d", i);
        ck_assert_str_eq(names[i], path);
    }
    free(names);
    xs_close(h);
}
END_TEST

/* More names than fit one 4096-byte reply: fetched with DIRECTORY_PART. */
START_TEST(directory_large)
{
    struct xs_handle *h = open_ok(0);
    enum { N = 400 };
    unsigned int num;
    char **names, path[96], want[64];
    xs_transaction_t t = xs_transaction_start(h);

    ck_assert_uint_ne(t, XBT_NULL);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "/test/large/child-with-a-long-name-%04d", i);
        ck_assert(xs_write(h, t, path, "", 0));
    }
    ck_assert(xs_transaction_end(h, t, false));
    names = xs_directory(h, XBT_NULL, "/test/large", &num);
    ck_assert_msg(names != NULL, "xs_directory: %s", strerror(errno));
    ck_assert_uint_eq(num, N);
    qsort(names, num, sizeof(char *), cmp_str);
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof(want), "child-with-a-long-name-%04d", i);
        ck_assert_str_eq(names[i], want);
    }
    free(names);
    xs_close(h);
}
END_TEST

START_TEST(permissions)
{
    struct xs_handle *h = open_ok(0);
    struct xs_permissions set[3] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = 5, .perms = XS_PERM_READ },
        { .id = 7, .perms = XS_PERM_READ | XS_PERM_WRITE },
    }, *got;
    unsigned int num;

    ck_assert(xs_write(h, XBT_NULL, "/test/perm", "x", 1));
    ck_assert(xs_set_permissions(h, XBT_NULL, "/test/perm", set, 3));
    got = xs_get_permissions(h, XBT_NULL, "/test/perm", &num);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(num, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(got[i].id, set[i].id);
        ck_assert_uint_eq(got[i].perms, set[i].perms);
    }
    free(got);
    errno = 0;
    ck_assert_ptr_null(xs_get_permissions(h, XBT_NULL, "/test/noperm", &num));
    ck_assert_int_eq(errno, ENOENT);
    xs_close(h);
}
END_TEST

START_TEST(transaction_commit_abort)
{
    struct xs_handle *h = open_ok(0);
    xs_transaction_t t;
    char *v;

    t = xs_transaction_start(h);
    ck_assert_uint_ne(t, XBT_NULL);
    ck_assert(xs_write(h, t, "/test/tx/commit", "1", 1));
    ck_assert(xs_transaction_end(h, t, false));
    v = xs_read(h, XBT_NULL, "/test/tx/commit", NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "1");
    free(v);

    t = xs_transaction_start(h);
    ck_assert_uint_ne(t, XBT_NULL);
    ck_assert(xs_write(h, t, "/test/tx/abort", "1", 1));
    ck_assert(xs_transaction_end(h, t, true));
    ck_assert_ptr_null(xs_read(h, XBT_NULL, "/test/tx/abort", NULL));
    xs_close(h);
}
END_TEST

/* A read-modify-write whose node changes underneath must fail with
 * EAGAIN, and the write must not land. */
START_TEST(transaction_conflict)
{
    struct xs_handle *a = open_ok(0), *b = open_ok(0);
    xs_transaction_t t;
    char *v;

    ck_assert(xs_write(a, XBT_NULL, "/test/conflict", "0", 1));
    t = xs_transaction_start(a);
    ck_assert_uint_ne(t, XBT_NULL);
    v = xs_read(a, t, "/test/conflict", NULL);
    ck_assert_ptr_nonnull(v);
    free(v);
    ck_assert(xs_write(b, XBT_NULL, "/test/conflict", "other", 5));
    ck_assert(xs_write(a, t, "/test/conflict", "mine", 4));
    errno = 0;
    ck_assert(!xs_transaction_end(a, t, false));
    ck_assert_int_eq(errno, EAGAIN);
    v = xs_read(a, XBT_NULL, "/test/conflict", NULL);
    ck_assert_str_eq(v, "other");
    free(v);
    xs_close(a);
    xs_close(b);
}
END_TEST

static char **wait_event(struct xs_handle *h)
{
    int fd = xs_fileno(h);

    ck_assert_int_ge(fd, 0);
    ck_assert_msg(readable(fd, WAIT_MS), "no watch event within %d ms", WAIT_MS);
    return xs_check_watch(h);
}

START_TEST(watch_events)
{
    struct xs_handle *h = open_ok(0);
    unsigned int num;
    char **ev;

    ck_assert(xs_write(h, XBT_NULL, "/test/w", "", 0));
    ck_assert(xs_watch(h, "/test/w", "tok"));
    /* Every new watch fires once at once. */
    ev = xs_read_watch(h, &num);
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_ge(num, 2);
    ck_assert_str_eq(ev[XS_WATCH_PATH], "/test/w");
    ck_assert_str_eq(ev[XS_WATCH_TOKEN], "tok");
    free(ev);
    /* Nothing queued now: the fd is quiet and check_watch says EAGAIN. */
    ck_assert(!readable(xs_fileno(h), 0));
    errno = 0;
    ck_assert_ptr_null(xs_check_watch(h));
    ck_assert_int_eq(errno, EAGAIN);

    ck_assert(xs_write(h, XBT_NULL, "/test/w/child", "1", 1));
    ev = wait_event(h);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev[XS_WATCH_PATH], "/test/w/child");
    ck_assert_str_eq(ev[XS_WATCH_TOKEN], "tok");
    free(ev);
    ck_assert(!readable(xs_fileno(h), 0));

    ck_assert(xs_unwatch(h, "/test/w", "tok"));
    ck_assert(xs_write(h, XBT_NULL, "/test/w/child", "2", 1));
    /* A synchronous request after the write: any event would come first. */
    free(xs_read(h, XBT_NULL, "/test/w/child", NULL));
    ck_assert(!readable(xs_fileno(h), 0));
    xs_close(h);
}
END_TEST

/* Writes n changes under path and makes sure their events are queued:
 * the daemon sends an event before the reply to a later request. */
static void queue_events(struct xs_handle *h, const char *path, int n)
{
    char p[128];

    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s/e%d", path, i);
        ck_assert(xs_write(h, XBT_NULL, p, "x", 1));
    }
    free(xs_read(h, XBT_NULL, path, NULL));
}

static int drain_events(struct xs_handle *h)
{
    int n = 0;
    char **ev;

    while ((ev = xs_check_watch(h)) != NULL) {
        free(ev);
        n++;
    }
    ck_assert_int_eq(errno, EAGAIN);
    return n;
}

START_TEST(unwatch_filter)
{
    struct xs_handle *plain = open_ok(0), *filtered = open_ok(XS_UNWATCH_FILTER);
    unsigned int num;

    ck_assert(xs_mkdir(plain, XBT_NULL, "/test/uf"));
    ck_assert(xs_watch(plain, "/test/uf", "p"));
    ck_assert(xs_watch(filtered, "/test/uf", "f"));
    free(xs_read_watch(plain, &num));
    free(xs_read_watch(filtered, &num));

    queue_events(plain, "/test/uf", 3);
    free(xs_read(filtered, XBT_NULL, "/test/uf", NULL));
    ck_assert(readable(xs_fileno(filtered), WAIT_MS));
    ck_assert(xs_unwatch(plain, "/test/uf", "p"));
    ck_assert(xs_unwatch(filtered, "/test/uf", "f"));
    /* Without the flag stale events stay queued; with it they are gone. */
    ck_assert_int_eq(drain_events(plain), 3);
    ck_assert(!readable(xs_fileno(filtered), 0));
    ck_assert_int_eq(drain_events(filtered), 0);
    xs_close(plain);
    xs_close(filtered);
}
END_TEST

struct worker {
    struct xs_handle *h;
    int id;
    int failures;
};

static void *rw_worker(void *arg)
{
    struct worker *w = arg;
    char path[64], val[32];

    for (int i = 0; i < 200; i++) {
        unsigned int len;
        char *got;

        snprintf(path, sizeof(path), "/test/thr/w%d", w->id);
        snprintf(val, sizeof(val), "%d-%d", w->id, i);
        if (!xs_write(w->h, XBT_NULL, path, val, (unsigned int)strlen(val))) {
            w->failures++;
            continue;
        }
        got = xs_read(w->h, XBT_NULL, path, &len);
        if (!got || strcmp(got, val) != 0)
            w->failures++;
        free(got);
    }
    return NULL;
}

/* Several threads share one handle while watch events stream in: every
 * reply must reach its own caller and every event the watcher. */
START_TEST(threads_share_handle)
{
    enum { T = 4 };
    struct xs_handle *h = open_ok(0);
    struct worker w[T];
    pthread_t th[T];
    int events = 0;
    char **ev;

    ck_assert(xs_mkdir(h, XBT_NULL, "/test/thr"));
    ck_assert(xs_watch(h, "/test/thr", "thr"));
    for (int i = 0; i < T; i++) {
        w[i] = (struct worker){ .h = h, .id = i };
        ck_assert_int_eq(pthread_create(&th[i], NULL, rw_worker, &w[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    /* One initial event plus one per write, all queued by now. */
    free(xs_read(h, XBT_NULL, "/test/thr", NULL));
    while ((ev = xs_check_watch(h)) != NULL) {
        ck_assert_str_eq(ev[XS_WATCH_TOKEN], "thr");
        free(ev);
        events++;
    }
    ck_assert_int_eq(events, 1 + T * 200);
    xs_close(h);
}
END_TEST

START_TEST(domain_queries)
{
    struct xs_handle *h = open_ok(0);
    char *p = xs_get_domain_path(h, 5);

    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, "/local/domain/5");
    free(p);
    ck_assert(xs_is_domain_introduced(h, 0));
    ck_assert(!xs_restrict(h, 1));
    xs_close(h);
}
END_TEST

START_TEST(control_command)
{
    struct xs_handle *h = open_ok(0);
    char *r = xs_control_command(h, "help", NULL, 0);

    ck_assert_msg(r != NULL, "control help: %s", strerror(errno));
    ck_assert_ptr_nonnull(strstr(r, "check"));
    free(r);
    r = xs_debug_command(h, "help", NULL, 0);
    ck_assert_ptr_nonnull(r);
    free(r);
    errno = 0;
    ck_assert_ptr_null(xs_control_command(h, "no-such-command", NULL, 0));
    ck_assert_int_ne(errno, 0);
    xs_close(h);
}
END_TEST

/* Socket clients are domain 0: relative paths live under
 * /local/domain/0 (Xen's test-xenstore relies on it). */
START_TEST(relative_paths)
{
    struct xs_handle *h = open_ok(0);
    char *v;

    ck_assert(xs_write(h, XBT_NULL, "libxs-test/rel", "r", 1));
    v = xs_read(h, XBT_NULL, "/local/domain/0/libxs-test/rel", NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "r");
    free(v);
    ck_assert(xs_rm(h, XBT_NULL, "libxs-test"));
    xs_close(h);
}
END_TEST

START_TEST(fork_child_reopens)
{
    struct xs_handle *h = open_ok(0);
    pid_t pid;
    int st;

    ck_assert(xs_watch(h, "/test/fork", "f")); /* parent has a reader thread */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct xs_handle *c;
        bool ok;

        xs_daemon_destroy_postfork(h);
        c = xs_open(0);
        ok = c && xs_write(c, XBT_NULL, "/test/fork/child", "1", 1);
        xs_close(c);
        _exit(ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The parent's handle still works. */
    ck_assert(xs_write(h, XBT_NULL, "/test/fork/parent", "1", 1));
    xs_close(h);
}
END_TEST

static void *blocked_reader(void *arg)
{
    unsigned int num;
    char **ev = xs_read_watch(arg, &num);

    free(ev);
    return ev ? (void *)1 : NULL;
}

/* When the daemon goes away, a thread blocked in xs_read_watch wakes up
 * with an error, xs_fileno turns readable and requests fail. */
START_TEST(daemon_loss)
{
    struct daemon d = { 0 };
    struct xs_handle *h;
    pthread_t th;
    void *res;
    unsigned int num;

    daemon_start(&d);
    h = open_ok(0);
    ck_assert(xs_watch(h, "/test/loss", "l"));
    free(xs_read_watch(h, &num));
    ck_assert_int_eq(pthread_create(&th, NULL, blocked_reader, h), 0);
    daemon_stop(&d);
    pthread_join(th, &res);
    ck_assert_ptr_null(res);
    ck_assert(readable(xs_fileno(h), WAIT_MS));
    ck_assert(!xs_write(h, XBT_NULL, "/test/loss", "1", 1));
    xs_close(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("libxenstore_daemon");
    TCase *tc = tcase_create("daemon");
    TCase *own = tcase_create("own_daemon");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, read_write);
    tcase_add_test(tc, errors_map_to_errno);
    tcase_add_test(tc, mkdir_rm);
    tcase_add_test(tc, directory_small);
    tcase_add_test(tc, directory_large);
    tcase_add_test(tc, permissions);
    tcase_add_test(tc, transaction_commit_abort);
    tcase_add_test(tc, transaction_conflict);
    tcase_add_test(tc, watch_events);
    tcase_add_test(tc, unwatch_filter);
    tcase_add_test(tc, threads_share_handle);
    tcase_add_test(tc, domain_queries);
    tcase_add_test(tc, control_command);
    tcase_add_test(tc, relative_paths);
    tcase_add_test(tc, fork_child_reopens);
    suite_add_tcase(s, tc);
    tcase_set_timeout(own, 30);
    tcase_add_test(own, daemon_loss);
    suite_add_tcase(s, own);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

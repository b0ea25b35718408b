/* Check suite for domid choice (dom0/domid.c): lowest free domid, held
 * locks mark live domains and their names, stale lock files are reclaimed,
 * the caller's in-use predicate is honoured, release removes the file. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domid.h"

static char dir[64];
static char err[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/dom0domid.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TANDEM_RUNDIR", dir, 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static bool path_exists(const char *name)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

START_TEST(test_lowest_free_and_release)
{
    struct domid_lease a, b, c;
    ck_assert_int_eq(domid_acquire("a", NULL, NULL, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(domid_acquire("b", NULL, NULL, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(a.domid, 1);
    ck_assert_uint_eq(b.domid, 2);
    ck_assert(path_exists("dom1.lock"));
    domid_release(&a);
    ck_assert(!path_exists("dom1.lock"));
    ck_assert_int_eq(domid_acquire("c", NULL, NULL, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.domid, 1);   /* the lowest free again */
    domid_release(&b);
    domid_release(&c);
}
END_TEST

START_TEST(test_name_taken)
{
    struct domid_lease a, b;
    ck_assert_int_eq(domid_acquire("web", NULL, NULL, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(domid_acquire("web", NULL, NULL, &b, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "a domain named 'web' already exists (domid 1)");
    domid_release(&a);
    ck_assert_int_eq(domid_acquire("web", NULL, NULL, &b, err, sizeof(err)), 0);
    domid_release(&b);
}
END_TEST

START_TEST(test_stale_lock_reclaimed)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/dom1.lock", dir);
    FILE *f = fopen(p, "w");           /* left by a run that was killed: not locked */
    ck_assert_ptr_nonnull(f);
    fputs("ghost\n", f);
    fclose(f);
    struct domid_lease a;
    ck_assert_int_eq(domid_acquire("ghost", NULL, NULL, &a, err, sizeof(err)), 0);
    ck_assert_uint_eq(a.domid, 1);
    domid_release(&a);
}
END_TEST

START_TEST(test_lock_held_by_other_process)
{
    int ready[2], done[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(done), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct domid_lease l;
        char c = domid_acquire("child", NULL, NULL, &l, err, sizeof(err)) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        if (read(done[0], &c, 1) < 0)   /* hold the lease until told */
            _exit(1);
        domid_release(&l);
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    struct domid_lease a;
    ck_assert_int_eq(domid_acquire("child", NULL, NULL, &a, err, sizeof(err)), -1);
    ck_assert_int_eq(domid_acquire("parent", NULL, NULL, &a, err, sizeof(err)), 0);
    ck_assert_uint_eq(a.domid, 2);
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert(!path_exists("dom1.lock"));
    domid_release(&a);
}
END_TEST

static bool odd_in_use(unsigned domid, void *ctx)
{
    (*(int *)ctx)++;
    return domid % 2 == 1;
}

START_TEST(test_in_use_predicate)
{
    int calls = 0;
    struct domid_lease a;
    ck_assert_int_eq(domid_acquire("x", odd_in_use, &calls, &a, err, sizeof(err)), 0);
    ck_assert_uint_eq(a.domid, 2);
    ck_assert_int_eq(calls, 2);
    domid_release(&a);
}
END_TEST

static bool all_in_use(unsigned domid, void *ctx)
{
    (void)domid;
    (void)ctx;
    return true;
}

START_TEST(test_no_free_domid)
{
    struct domid_lease a;
    ck_assert_int_eq(domid_acquire("x", all_in_use, NULL, &a, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "no free domid");
    ck_assert_int_eq(a.fd, -1);
}
END_TEST

START_TEST(test_other_files_ignored)
{
    char p[128];
    const char *names[] = { "dom0.lock", "dom01.lock", "domx.lock", "dom1.lockx", "dom1.ctl" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        int fd = open(p, O_CREAT | O_WRONLY, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    struct domid_lease a;
    ck_assert_int_eq(domid_acquire("x", NULL, NULL, &a, err, sizeof(err)), 0);
    ck_assert_uint_eq(a.domid, 1);
    ck_assert(path_exists("dom01.lock"));   /* not ours: left alone */
    domid_release(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dom0_domid");
    TCase *tc = tcase_create("domid");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lowest_free_and_release);
    tcase_add_test(tc, test_name_taken);
    tcase_add_test(tc, test_stale_lock_reclaimed);
    tcase_add_test(tc, test_lock_held_by_other_process);
    tcase_add_test(tc, test_in_use_predicate);
    tcase_add_test(tc, test_no_free_domid);
    tcase_add_test(tc, test_other_files_ignored);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

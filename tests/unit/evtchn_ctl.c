/* Control-socket client (dom0/evtchn/ctl_client.c): reply parsing and the
 * transport against a fake VMM, including malformed and hostile replies. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "tdm_error.h"
#include "evtchn_fake_vmm.h"

static int parse(const char *line, struct tdm_ctl_reply *r)
{
    snprintf(r->line, sizeof(r->line), "%s", line);
    r->nfds = 0;
    return tdm_ctl_parse_reply(r);
}

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(parses_ok_with_values)
{
    struct tdm_ctl_reply r;
    uint64_t v;

    ck_assert_int_eq(parse("OK port=5 vcpu=0  shared_info_offset=0x1100000", &r), 0);
    ck_assert_uint_eq(r.nkv, 3);
    ck_assert_str_eq(tdm_ctl_get(&r, "port"), "5");
    ck_assert_int_eq(tdm_ctl_get_u64(&r, "shared_info_offset", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 0x1100000);
    ck_assert_ptr_null(tdm_ctl_get(&r, "absent"));
    ck_assert_int_eq(tdm_ctl_get_u64(&r, "absent", 10, &v), -1);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "absent"));
    ck_assert_int_eq(tdm_ctl_get_u64(&r, "port", 4, &v), -1);   /* above max */
    ck_assert_int_eq(parse("OK", &r), 0);
    ck_assert_uint_eq(r.nkv, 0);
}
END_TEST

START_TEST(parses_err_as_errno)
{
    struct tdm_ctl_reply r;

    ck_assert_int_eq(parse("ERR ENOENT port 9 is not unbound", &r), ENOENT);
    ck_assert_str_eq(tdm_last_error(), "ENOENT: port 9 is not unbound");
    ck_assert_int_eq(parse("ERR EBUSY", &r), EBUSY);
    ck_assert_int_eq(parse("ERR EWHATEVER odd", &r), EIO);
    ck_assert_int_eq(parse("ERR ", &r), -1);
}
END_TEST

START_TEST(rejects_malformed_replies)
{
    static const char *bad[] = {
        "", "HELLO", "ok port=1", "OKport=1", "OK port", "OK =1", "OK Port=1",
        "OK port=1 \x01", "OK p\xffrt=1",
    };
    struct tdm_ctl_reply r;
    char many[TDM_CTL_LINE_MAX];
    int n = snprintf(many, sizeof(many), "OK");

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        ck_assert_msg(parse(bad[i], &r) == -1, "accepted '%s'", bad[i]);
        ck_assert_int_eq(errno, EPROTO);
    }
    for (int i = 0; i <= TDM_CTL_MAX_KV; i++)
        n += snprintf(many + n, sizeof(many) - (size_t)n, " k%d=%d", i, i);
    ck_assert_int_eq(parse(many, &r), -1);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "more than"));
}
END_TEST

START_TEST(parses_numbers_strictly)
{
    static const struct { const char *s; uint64_t max; int ok; uint64_t v; } cases[] = {
        { "0", 10, 1, 0 }, { "42", 100, 1, 42 }, { "0x1F", 100, 1, 31 },
        { "0X10", 100, 1, 16 }, { "18446744073709551615", UINT64_MAX, 1, UINT64_MAX },
        { "18446744073709551616", UINT64_MAX, 0, 0 }, { "0x10000000000000000", UINT64_MAX, 0, 0 },
        { "", 10, 0, 0 }, { "0x", 10, 0, 0 }, { "-1", 10, 0, 0 }, { "1a", 100, 0, 0 },
        { " 1", 10, 0, 0 }, { "11", 10, 0, 0 }, { "+1", 10, 0, 0 }, { "0xg", 100, 0, 0 },
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        int rc = tdm_parse_u64(cases[i].s, cases[i].max, &v);

        ck_assert_msg((rc == 0) == cases[i].ok, "'%s' rc %d", cases[i].s, rc);
        if (cases[i].ok)
            ck_assert_uint_eq(v, cases[i].v);
    }
}
END_TEST

static struct fake_vmm *vmm;

static void start_vmm(void)
{
    struct fake_vmm_config cfg = { .domid = 3, .nr_grant_frames = 2 };

    vmm = fake_vmm_start(&cfg);
}

static void stop_vmm(void)
{
    fake_vmm_stop(vmm);
}

START_TEST(request_returns_values_and_fds)
{
    struct tdm_ctl *c = tdm_ctl_connect(fake_vmm_run_dir(vmm), 3);
    struct tdm_ctl_reply r;
    uint64_t ram;

    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(tdm_ctl_domid(c), 3);
    ck_assert_int_eq(tdm_ctl_request(c, "memory", 1, &r), 0);
    ck_assert_uint_eq(r.nfds, 1);
    ck_assert_int_eq(tdm_ctl_get_u64(&r, "ram_size", UINT64_MAX, &ram), 0);
    ck_assert_uint_eq(ram, fake_vmm_ram_size(vmm));
    ck_assert_int_eq(lseek(r.fds[0], 0, SEEK_END), (off_t)(ram + FAKE_REGION_SIZE));
    tdm_ctl_reply_close_fds(&r);
    /* A connection carries many requests. */
    ck_assert_int_eq(tdm_ctl_request(c, "gnttab", 0, &r), 0);
    ck_assert_str_eq(tdm_ctl_get(&r, "nr_frames"), "2");
    ck_assert_uint_eq(fake_vmm_count(vmm, "memory"), 1);
    ck_assert_uint_eq(fake_vmm_count(vmm, "gnttab"), 1);
    tdm_ctl_close(c);
}
END_TEST

START_TEST(err_reply_sets_errno_and_context)
{
    struct tdm_ctl *c = tdm_ctl_connect(fake_vmm_run_dir(vmm), 3);
    struct tdm_ctl_reply r;

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(tdm_ctl_request(c, "frobnicate x=1", 0, &r), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_str_eq(tdm_last_error(), "dom3: frobnicate x=1: EINVAL: unknown request");
    ck_assert_int_eq(tdm_ctl_request(c, "bad\nline", 0, &r), -1);
    ck_assert_int_eq(errno, EINVAL);
    tdm_ctl_close(c);
}
END_TEST

START_TEST(wrong_fd_count_closes_them_all)
{
    struct tdm_ctl *c = tdm_ctl_connect(fake_vmm_run_dir(vmm), 3);
    struct tdm_ctl_reply r;
    unsigned before;

    ck_assert_ptr_nonnull(c);
    /* One good request first: the fake VMM has accepted by then. */
    ck_assert_int_eq(tdm_ctl_request(c, "gnttab", 0, &r), 0);
    before = open_fds();
    fake_vmm_script(vmm, "memory", "OK ram_size=1", 3);
    ck_assert_int_eq(tdm_ctl_request(c, "memory", 1, &r), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "3 fds, expected 1"));
    fake_vmm_script(vmm, "memory", "ERR EAGAIN not yet", 2);   /* fds on an error */
    ck_assert_int_eq(tdm_ctl_request(c, "memory", 1, &r), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_uint_eq(open_fds(), before);
    tdm_ctl_close(c);
}
END_TEST

START_TEST(overlong_reply_is_refused)
{
    struct tdm_ctl *c = tdm_ctl_connect(fake_vmm_run_dir(vmm), 3);
    struct tdm_ctl_reply r;
    char line[6000];

    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    memcpy(line, "OK x=", 5);
    ck_assert_ptr_nonnull(c);
    fake_vmm_script(vmm, "info", line, 0);
    ck_assert_int_eq(tdm_ctl_request(c, "info", 0, &r), -1);
    ck_assert_int_eq(errno, EMSGSIZE);
    tdm_ctl_close(c);
}
END_TEST

START_TEST(peer_hangup_is_an_error)
{
    struct tdm_ctl *c = tdm_ctl_connect(fake_vmm_run_dir(vmm), 3);
    struct tdm_ctl_reply r;

    ck_assert_ptr_nonnull(c);
    fake_vmm_script(vmm, "info", "<close>", 0);
    ck_assert_int_eq(tdm_ctl_request(c, "info", 0, &r), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "closed"));
    /* The next request reconnects (a restarted VMM is reached again). */
    ck_assert_int_eq(tdm_ctl_request(c, "gnttab", 0, &r), 0);
    ck_assert_str_eq(tdm_ctl_get(&r, "version"), "1");
    tdm_ctl_close(c);
}
END_TEST

START_TEST(missing_socket_says_where)
{
    ck_assert_ptr_null(tdm_ctl_connect(fake_vmm_run_dir(vmm), 4));
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "dom4.ctl"));
}
END_TEST

START_TEST(run_dir_defaults)
{
    unsetenv("TANDEM_RUNDIR");
    ck_assert_str_eq(tdm_run_dir(NULL), TDM_DEFAULT_RUN_DIR);
    setenv("TANDEM_RUNDIR", "/tmp/x", 1);
    ck_assert_str_eq(tdm_run_dir(NULL), "/tmp/x");
    ck_assert_str_eq(tdm_run_dir("/given"), "/given");
    unsetenv("TANDEM_RUNDIR");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn_ctl");
    TCase *t = tcase_create("parse");

    tcase_add_test(t, parses_ok_with_values);
    tcase_add_test(t, parses_err_as_errno);
    tcase_add_test(t, rejects_malformed_replies);
    tcase_add_test(t, parses_numbers_strictly);
    tcase_add_test(t, run_dir_defaults);
    suite_add_tcase(s, t);
    t = tcase_create("transport");
    tcase_add_checked_fixture(t, start_vmm, stop_vmm);
    tcase_add_test(t, request_returns_values_and_fds);
    tcase_add_test(t, err_reply_sets_errno_and_context);
    tcase_add_test(t, wrong_fd_count_closes_them_all);
    tcase_add_test(t, overlong_reply_is_refused);
    tcase_add_test(t, peer_hangup_is_an_error);
    tcase_add_test(t, missing_socket_says_where);
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

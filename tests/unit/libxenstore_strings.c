/*
 * libxenstore's pure helpers (permission strings, string counting,
 * subpaths, daemon paths) and the CLI's value quoting, without a daemon.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "cli.h"

START_TEST(perm_strings_parse)
{
    static const char in[] = "r5\0b0\0n12\0w0x10";
    struct xs_permissions p[4];

    ck_assert(xs_strings_to_perms(p, 4, in));
    ck_assert_uint_eq(p[0].id, 5);
    ck_assert_uint_eq(p[0].perms, XS_PERM_READ);
    ck_assert_uint_eq(p[1].id, 0);
    ck_assert_uint_eq(p[1].perms, XS_PERM_READ | XS_PERM_WRITE);
    ck_assert_uint_eq(p[2].id, 12);
    ck_assert_uint_eq(p[2].perms, XS_PERM_NONE);
    ck_assert_uint_eq(p[3].id, 16);
    ck_assert_uint_eq(p[3].perms, XS_PERM_WRITE);
}
END_TEST

START_TEST(perm_strings_reject)
{
    static const char *const bad[] = { "x1", "r", "", "b1z", "r1x", "w99999999999999999999" };
    struct xs_permissions p;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        ck_assert_msg(!xs_strings_to_perms(&p, 1, bad[i]), "accepted '%s'", bad[i]);
        ck_assert_int_eq(errno, EINVAL);
    }
}
END_TEST

START_TEST(perm_to_string_formats)
{
    struct xs_permissions p = { .id = 7, .perms = XS_PERM_READ | XS_PERM_WRITE };
    char buf[MAX_STRLEN(unsigned int) + 1];

    ck_assert(xs_perm_to_string(&p, buf, sizeof(buf)));
    ck_assert_str_eq(buf, "b7");
    p.perms = XS_PERM_NONE;
    p.id = 65535;
    ck_assert(xs_perm_to_string(&p, buf, sizeof(buf)));
    ck_assert_str_eq(buf, "n65535");
    p.perms = XS_PERM_WRITE | XS_PERM_IGNORE; /* IGNORE is not printed */
    p.id = 3;
    ck_assert(xs_perm_to_string(&p, buf, sizeof(buf)));
    ck_assert_str_eq(buf, "w3");
    p.perms = XS_PERM_OWNER;
    errno = 0;
    ck_assert(!xs_perm_to_string(&p, buf, sizeof(buf)));
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(perm_roundtrip)
{
    for (unsigned int bits = 0; bits < 4; bits++) {
        struct xs_permissions in = { .id = 1000 + bits, .perms = bits }, out;
        char buf[MAX_STRLEN(unsigned int) + 1];

        ck_assert(xs_perm_to_string(&in, buf, sizeof(buf)));
        ck_assert(xs_strings_to_perms(&out, 1, buf));
        ck_assert_uint_eq(out.id, in.id);
        ck_assert_uint_eq(out.perms, in.perms);
    }
}
END_TEST

START_TEST(count_strings)
{
    ck_assert_uint_eq(xs_count_strings("", 0), 0);
    ck_assert_uint_eq(xs_count_strings("a\0bc\0", 5), 2);
    /* A trailing unterminated piece is not a string. */
    ck_assert_uint_eq(xs_count_strings("a\0bc", 4), 1);
    ck_assert_uint_eq(xs_count_strings("\0\0\0", 3), 3);
}
END_TEST

START_TEST(subpath)
{
    ck_assert(xs_path_is_subpath("/a", "/a"));
    ck_assert(xs_path_is_subpath("/a", "/a/b"));
    ck_assert(!xs_path_is_subpath("/a", "/ab"));
    ck_assert(!xs_path_is_subpath("/a/b", "/a"));
    ck_assert(!xs_path_is_subpath("/a", "a/b"));
    ck_assert(xs_path_is_subpath("a", "a/b"));
}
END_TEST

START_TEST(daemon_paths_env)
{
    unsetenv("XENSTORED_PATH");
    unsetenv("XENSTORED_RUNDIR");
    ck_assert_str_eq(xs_daemon_rundir(), "/var/run/xenstored");
    ck_assert_str_eq(xs_daemon_socket(), "/var/run/xenstored/socket");
    setenv("XENSTORED_RUNDIR", "/tmp/rd", 1);
    ck_assert_str_eq(xs_daemon_rundir(), "/tmp/rd");
    ck_assert_str_eq(xs_daemon_socket(), "/tmp/rd/socket");
    ck_assert_str_eq(xs_daemon_socket_ro(), "/tmp/rd/socket");
    setenv("XENSTORED_PATH", "/tmp/other.sock", 1);
    ck_assert_str_eq(xs_daemon_socket(), "/tmp/other.sock");
}
END_TEST

START_TEST(open_without_daemon_fails)
{
    setenv("XENSTORED_PATH", "/nonexistent/xenstored.sock", 1);
    errno = 0;
    ck_assert_ptr_null(xs_open(0));
    ck_assert_int_eq(errno, ENOENT);
    xs_close(NULL); /* allowed */
}
END_TEST

START_TEST(escape_value)
{
    static const char val[] = "ab \t\n\r\\\x01\x7f\xff\0z";
    char *s = cli_escape(val, sizeof(val) - 1);

    ck_assert_str_eq(s, "ab \\t\\n\\r\\\\\\001\\x7f\\xff\\000z");
    free(s);
}
END_TEST

START_TEST(unescape_value)
{
    char out[64];
    size_t n;

    n = cli_unescape(out, "a\\tb\\x41\\101\\q\\\\");
    ck_assert_uint_eq(n, 7);
    ck_assert_mem_eq(out, "a\tbAAq\\", 7);
    n = cli_unescape(out, "\\xZ\\0end");
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_eq(out, "xZ\0end", 6);
    /* A lone backslash at the end stands for a NUL byte, as in Xen. */
    n = cli_unescape(out, "ab\\");
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "ab\0", 3);
}
END_TEST

START_TEST(escape_roundtrip)
{
    char val[256], back[256 * 4 + 1];

    for (int i = 0; i < 256; i++)
        val[i] = (char)i;
    char *s = cli_escape(val, sizeof(val));
    ck_assert_uint_eq(cli_unescape(back, s), 256);
    ck_assert_mem_eq(back, val, 256);
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("libxenstore_strings");
    TCase *tc = tcase_create("pure");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, perm_strings_parse);
    tcase_add_test(tc, perm_strings_reject);
    tcase_add_test(tc, perm_to_string_formats);
    tcase_add_test(tc, perm_roundtrip);
    tcase_add_test(tc, count_strings);
    tcase_add_test(tc, subpath);
    tcase_add_test(tc, daemon_paths_env);
    tcase_add_test(tc, open_without_daemon_fails);
    tcase_add_test(tc, escape_value);
    tcase_add_test(tc, unescape_value);
    tcase_add_test(tc, escape_roundtrip);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

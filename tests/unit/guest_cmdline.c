/* Host tests of the guest command-line parser (frontends/lib/cmdline.c). */
#include <check.h>
#include <stdint.h>

#include "cmdline.h"
#include "klib.h"

static struct cmdline cl;
static char err[128];

START_TEST(test_basic)
{
    ck_assert_int_eq(cmdline_parse(&cl, "  app=hello n=100\tverbose ", 100, err, sizeof(err)), 0);
    ck_assert_uint_eq(cl.nr, 3);
    ck_assert_str_eq(cmdline_get(&cl, "app"), "hello");
    ck_assert_str_eq(cmdline_get(&cl, "n"), "100");
    ck_assert_str_eq(cmdline_get(&cl, "verbose"), "");
    ck_assert_ptr_null(cmdline_get(&cl, "missing"));
    uint64_t v;
    ck_assert_int_eq(cmdline_get_u64(&cl, "n", 5, 1000, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, 100);
    ck_assert_int_eq(cmdline_get_u64(&cl, "m", 5, 1000, &v, err, sizeof(err)), 1);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(cmdline_get_u64(&cl, "app", 5, 1000, &v, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "app=hello"));
}
END_TEST

START_TEST(test_quotes_and_last_wins)
{
    ck_assert_int_eq(cmdline_parse(&cl, "msg=\"a b \\\"c\\\"\" app=x app=y empty=", 200, err,
                                   sizeof(err)), 0);
    ck_assert_str_eq(cmdline_get(&cl, "msg"), "a b \"c\"");
    ck_assert_str_eq(cmdline_get(&cl, "app"), "y");
    ck_assert_str_eq(cmdline_get(&cl, "empty"), "");
}
END_TEST

START_TEST(test_empty_and_bounded)
{
    ck_assert_int_eq(cmdline_parse(&cl, "", 10, err, sizeof(err)), 0);
    ck_assert_uint_eq(cl.nr, 0);
    ck_assert_int_eq(cmdline_parse(&cl, NULL, 10, err, sizeof(err)), 0);
    /* not NUL-terminated within max: only max bytes are read */
    char raw[8] = { 'a', 'p', 'p', '=', 'x', 'y', 'z', 'w' };
    ck_assert_int_eq(cmdline_parse(&cl, raw, 6, err, sizeof(err)), 0);
    ck_assert_str_eq(cmdline_get(&cl, "app"), "xy");
}
END_TEST

START_TEST(test_errors)
{
    ck_assert_int_eq(cmdline_parse(&cl, "=x", 10, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "key"));
    ck_assert_int_eq(cmdline_parse(&cl, "a$b=1", 10, err, sizeof(err)), -1);
    ck_assert_int_eq(cmdline_parse(&cl, "a=\"open", 10, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "quote"));
    ck_assert_int_eq(cmdline_parse(&cl, "a=\"x\"y", 10, err, sizeof(err)), -1);
    char many[CMDLINE_MAX_ARGS * 4 + 8] = "";
    for (int i = 0; i <= CMDLINE_MAX_ARGS; i++)
        strcat(many, "a=1 ");
    ck_assert_int_eq(cmdline_parse(&cl, many, sizeof(many), err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "words"));
    static char big[CMDLINE_MAX + 10];
    memset(big, 'k', sizeof(big) - 1);
    ck_assert_int_eq(cmdline_parse(&cl, big, sizeof(big), err, sizeof(err)), -1);
    char longkey[CMDLINE_KEY_MAX + 8];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = 0;
    ck_assert_int_eq(cmdline_parse(&cl, longkey, sizeof(longkey), err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_full_length_fits)
{
    /* A maximal line of one-character flags must fit the word buffer. */
    static char line[CMDLINE_MAX + 1];
    memset(line, ' ', CMDLINE_MAX);
    for (int i = 0; i < CMDLINE_MAX_ARGS; i++)
        line[i * 2] = 'f';
    memset(line + CMDLINE_MAX - 100, 'v', 99);
    line[CMDLINE_MAX - 101] = '=';
    line[CMDLINE_MAX - 102] = 'k';
    line[CMDLINE_MAX - 103] = ' ';
    line[(CMDLINE_MAX_ARGS - 1) * 2] = ' ';
    ck_assert_int_eq(cmdline_parse(&cl, line, sizeof(line), err, sizeof(err)), 0);
    ck_assert_uint_eq(strlen(cmdline_get(&cl, "k")), 99);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_cmdline");
    TCase *tc = tcase_create("cmdline");
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_quotes_and_last_wins);
    tcase_add_test(tc, test_empty_and_bounded);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_full_length_fits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

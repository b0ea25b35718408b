/* Host tests of the guest kernel's string functions, strtoul and
 * snprintf (frontends/lib/{string,strtoul,format}.c, renamed guest_*). */
#include <check.h>
#include <limits.h>
#include <stdint.h>

#include "klib.h"

static char buf[256];

#define FMT_EQ(expect, ...)                                              \
    do {                                                                 \
        int n_ = snprintf(buf, sizeof(buf), __VA_ARGS__);                \
        ck_assert_str_eq(buf, expect);                                   \
        ck_assert_int_eq(n_, (int)strlen(expect));                       \
    } while (0)

START_TEST(test_integers)
{
    FMT_EQ("42 -7 0", "%d %i %u", 42, -7, 0U);
    FMT_EQ("ff FF 0xff 17", "%x %X %#x %o", 255U, 255U, 255U, 15U);
    FMT_EQ("-9223372036854775808", "%lld", LLONG_MIN);
    FMT_EQ("18446744073709551615", "%llu", ULLONG_MAX);
    FMT_EQ("ffffffffffffffff", "%lx", ~0UL);
    FMT_EQ("4096 -1", "%zu %zd", (size_t)4096, (ssize_t)-1);
    FMT_EQ("-1 255", "%hhd %hhu", (signed char)-1, (unsigned char)255);
    FMT_EQ("-2 65535", "%hd %hu", (short)-2, (unsigned short)65535);
    FMT_EQ("0", "%x", 0U);
    FMT_EQ("", "%.0d", 0);
}
END_TEST

START_TEST(test_width_flags)
{
    FMT_EQ("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
    FMT_EQ("+5 -5  5", "%+d %+d % d", 5, -5, 5);
    FMT_EQ("-0042", "%05d", -42);
    FMT_EQ("  007", "%5.3d", 7);
    FMT_EQ("0x0000002a", "%#010x", 42U);
    FMT_EQ("   ab", "%*s", 5, "ab");
    FMT_EQ("ab   |", "%*s|", -5, "ab");
    FMT_EQ("abc", "%.3s", "abcdef");
    FMT_EQ("ab", "%.*s", 2, "abcdef");
    FMT_EQ("x  ", "%-3c", 'x');
    FMT_EQ("100%", "%d%%", 100);
    const char *volatile null_str = NULL;
    FMT_EQ("(null)", "%s", null_str);
    FMT_EQ("0x1000", "%p", (void *)0x1000);
    const char *volatile odd_fmt = "%q|%";
    FMT_EQ("%q|%", odd_fmt, 0);
}
END_TEST

START_TEST(test_truncation)
{
    char small[5];
    int n = snprintf(small, sizeof(small), "hello world %d", 12345);
    ck_assert_int_eq(n, 17);
    ck_assert_str_eq(small, "hell");
    n = snprintf(NULL, 0, "%d", 123456);
    ck_assert_int_eq(n, 6);
    small[0] = 'z';
    n = snprintf(small, 1, "abc");
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(small[0], 0);
}
END_TEST

START_TEST(test_strings)
{
    char a[32] = "hello";
    ck_assert_uint_eq(strlen(a), 5);
    ck_assert_uint_eq(strnlen(a, 3), 3);
    ck_assert_ptr_eq(strchr(a, 'l'), a + 2);
    ck_assert_ptr_eq(strrchr(a, 'l'), a + 3);
    ck_assert_ptr_eq(strchr(a, '\0'), a + 5);
    ck_assert_ptr_null(strchr(a, 'z'));
    ck_assert_ptr_eq(memchr(a, 'o', 5), a + 4);
    ck_assert_ptr_null(memchr(a, 'o', 4));
    ck_assert_int_lt(strcmp("abc", "abd"), 0);
    ck_assert_int_gt(strcmp("b", "abc"), 0);
    ck_assert_int_eq(strncmp("abcX", "abcY", 3), 0);
    ck_assert_int_lt(memcmp("\x01", "\xff", 1), 0);
    memset(a, 'x', 3);
    ck_assert_int_eq(memcmp(a, "xxxlo", 6), 0);
    strcpy(a, "0123456789");
    memmove(a + 2, a, 5);
    ck_assert_str_eq(a, "0101234789");
    memmove(a, a + 2, 5);
    ck_assert_str_eq(a, "0123434789");
    char d[4];
    ck_assert_uint_eq(strlcpy(d, "abcdef", sizeof(d)), 6);
    ck_assert_str_eq(d, "abc");
}
END_TEST

START_TEST(test_strtoul)
{
    char *end;
    ck_assert_uint_eq(strtoul("  123abc", &end, 10), 123);
    ck_assert_str_eq(end, "abc");
    ck_assert_uint_eq(strtoul("0x1F", &end, 0), 31);
    ck_assert_uint_eq(strtoul("0x1F", &end, 16), 31);
    ck_assert_uint_eq(strtoul("017", &end, 0), 15);
    ck_assert_uint_eq(strtoul("-1", &end, 10), ULONG_MAX);
    ck_assert_uint_eq(strtoul("99999999999999999999999", &end, 10), ULONG_MAX);
    ck_assert_uint_eq(strtoul("zz", &end, 10), 0);
    ck_assert_str_eq(end, "zz");
    ck_assert_uint_eq(strtoul("0x", &end, 16), 0);
    ck_assert_str_eq(end, "x");
    ck_assert_int_eq(strtol("-42", &end, 10), -42);
    ck_assert_int_eq(strtol("99999999999999999999", &end, 10), LONG_MAX);
    uint64_t v;
    ck_assert_int_eq(parse_u64("4096", 1 << 20, &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(parse_u64("0x10", 100, &v), 0);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(parse_u64("010", 100, &v), 0);
    ck_assert_uint_eq(v, 10);
    ck_assert_int_eq(parse_u64("101", 100, &v), -1);
    ck_assert_int_eq(parse_u64("", 100, &v), -1);
    ck_assert_int_eq(parse_u64("12x", 100, &v), -1);
    ck_assert_int_eq(parse_u64("-1", 100, &v), -1);
    ck_assert_int_eq(parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_format");
    TCase *tc = tcase_create("lib");
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_width_flags);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_strtoul);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

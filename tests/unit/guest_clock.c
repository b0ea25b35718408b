/* Host tests of the guest clock arithmetic (frontends/lib/clock.c). */
#include <check.h>
#include <stdint.h>

#include "clock.h"

START_TEST(test_scale_known_values)
{
    /* mul 2^31 (0.5) with shift 1 is the identity */
    ck_assert_uint_eq(clock_scale_delta(1000000, 1U << 31, 1), 1000000);
    ck_assert_uint_eq(clock_scale_delta(1000, 1U << 31, 0), 500);
    ck_assert_uint_eq(clock_scale_delta(1000, 1U << 31, -1), 250);
    ck_assert_uint_eq(clock_scale_delta(0, 0xffffffffU, 3), 0);
    /* large deltas do not overflow the product */
    ck_assert_uint_eq(clock_scale_delta(1ULL << 60, 1U << 31, 0), 1ULL << 59);
}
END_TEST

START_TEST(test_compute_scale_round_trip)
{
    static const uint32_t khz[] = { 1000, 999999, 1000000, 2100000, 2999999, 3600000, 5000000 };
    for (unsigned i = 0; i < sizeof(khz) / sizeof(khz[0]); i++) {
        uint32_t mul;
        int8_t shift;
        clock_compute_scale(khz[i], &mul, &shift);
        ck_assert_uint_ge(mul, 1U << 31);
        uint64_t one_sec_ticks = (uint64_t)khz[i] * 1000;
        uint64_t ns = clock_scale_delta(one_sec_ticks, mul, shift);
        /* within 1 ppm of a second */
        ck_assert_uint_ge(ns, 999999000ULL);
        ck_assert_uint_le(ns, 1000001000ULL);
    }
}
END_TEST

START_TEST(test_tsc_khz_conversion)
{
    ck_assert_uint_eq(clock_tsc_to_ns(3000000, 3000000), 1000000);
    ck_assert_uint_eq(clock_tsc_to_ns(1, 1000000), 1);
    ck_assert_uint_eq(clock_tsc_to_ns(123, 0), 0);
    /* a day at 3.6 GHz does not overflow */
    uint64_t day_ticks = 86400ULL * 3600000000ULL;
    ck_assert_uint_eq(clock_tsc_to_ns(day_ticks, 3600000), 86400ULL * 1000000000ULL);
    ck_assert_uint_eq(clock_ns_to_tsc(1000000000ULL, 2500000), 2500000000ULL);
    ck_assert_uint_eq(clock_ns_to_tsc(clock_tsc_to_ns(2500000000ULL, 2500000), 2500000),
                      2500000000ULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, test_scale_known_values);
    tcase_add_test(tc, test_compute_scale_round_trip);
    tcase_add_test(tc, test_tsc_khz_conversion);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Check suite for tandem-consoled's console ring copies
 * (backends/consoled/cons_ring.c): data in order across the wrap, and
 * indices a hostile guest wrote never make us copy more than a ring. */
#include <check.h>
#include <string.h>

#include "cons_ring.h"

static struct xencons_interface ring;

static void setup(void)
{
    memset(&ring, 0, sizeof(ring));
}

/* The guest's side: produce output. */
static void guest_put(const char *s)
{
    for (; *s; s++)
        ring.out[MASK_XENCONS_IDX(ring.out_prod++, ring.out)] = *s;
}

START_TEST(test_out_in_order_across_wrap)
{
    char buf[64];
    ring.out_cons = ring.out_prod = (XENCONS_RING_IDX)(sizeof(ring.out) - 3);
    guest_put("hello");
    ck_assert_uint_eq(cons_ring_read_out(&ring, buf, sizeof(buf)), 5);
    ck_assert(!memcmp(buf, "hello", 5));
    ck_assert_uint_eq(ring.out_cons, ring.out_prod);
    ck_assert_uint_eq(cons_ring_read_out(&ring, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_out_partial_reads)
{
    char buf[3];
    guest_put("abcdef");
    ck_assert_uint_eq(cons_ring_read_out(&ring, buf, sizeof(buf)), 3);
    ck_assert(!memcmp(buf, "abc", 3));
    ck_assert_uint_eq(cons_ring_read_out(&ring, buf, sizeof(buf)), 3);
    ck_assert(!memcmp(buf, "def", 3));
}
END_TEST

/* A producer far ahead (or "behind", which is the same in u32) is a full
 * ring: at most sizeof(out) bytes, the newest ones. */
START_TEST(test_out_hostile_producer)
{
    static char buf[1 << 16];
    ring.out_cons = 5;
    ring.out_prod = 5 + 100000;
    ck_assert_uint_eq(cons_ring_read_out(&ring, buf, sizeof(buf)), sizeof(ring.out));
    ck_assert_uint_eq(ring.out_cons, ring.out_prod);
    ring.out_cons = 1000;
    ring.out_prod = 10;   /* behind the consumer */
    ck_assert_uint_le(cons_ring_read_out(&ring, buf, sizeof(buf)), sizeof(ring.out));
    ck_assert_uint_eq(ring.out_cons, ring.out_prod);
}
END_TEST

START_TEST(test_in_room_and_write)
{
    ck_assert_uint_eq(cons_ring_in_room(&ring), sizeof(ring.in));
    ck_assert_uint_eq(cons_ring_write_in(&ring, "xy", 2), 2);
    ck_assert_uint_eq(ring.in_prod, 2);
    ck_assert_int_eq(ring.in[0], 'x');
    ck_assert_uint_eq(cons_ring_in_room(&ring), sizeof(ring.in) - 2);
    /* Fill it: only what fits goes in. */
    static char big[2048];
    memset(big, 'z', sizeof(big));
    ck_assert_uint_eq(cons_ring_write_in(&ring, big, sizeof(big)), sizeof(ring.in) - 2);
    ck_assert_uint_eq(cons_ring_in_room(&ring), 0);
    ck_assert_uint_eq(cons_ring_write_in(&ring, "a", 1), 0);
    ring.in_cons += 10;   /* the guest consumed some */
    ck_assert_uint_eq(cons_ring_in_room(&ring), 10);
}
END_TEST

/* A consumer index the guest moved past our producer: no room, nothing
 * written (never a negative room turned huge). */
START_TEST(test_in_hostile_consumer)
{
    ring.in_prod = 10;
    ring.in_cons = 5000;
    ck_assert_uint_eq(cons_ring_in_room(&ring), 0);
    ck_assert_uint_eq(cons_ring_write_in(&ring, "abc", 3), 0);
    ck_assert_uint_eq(ring.in_prod, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("consoled_ring");
    TCase *tc = tcase_create("ring");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_out_in_order_across_wrap);
    tcase_add_test(tc, test_out_partial_reads);
    tcase_add_test(tc, test_out_hostile_producer);
    tcase_add_test(tc, test_in_room_and_write);
    tcase_add_test(tc, test_in_hostile_consumer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

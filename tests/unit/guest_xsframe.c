/* Host tests of the guest's xenstore framing (frontends/lib/xsframe.c):
 * messages split across the ring's wrap and across several feeds, bad
 * indexes, oversized headers, watch payloads and error names. */
#include <check.h>
#include <stdint.h>

#include "kerrno.h"
#include "klib.h"
#include "xsframe.h"

static char ring[XENSTORE_RING_SIZE];
static uint32_t prod;

/* Appends bytes to the ring as xenstored would. */
static void put(const void *data, size_t len)
{
    const char *p = data;
    for (size_t i = 0; i < len; i++)
        ring[MASK_XENSTORE_IDX(prod++)] = p[i];
}

static void put_msg(uint32_t type, uint32_t req_id, const char *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = 0, .len = len };
    put(&h, sizeof(h));
    put(payload, len);
}

START_TEST(test_two_messages_across_wrap)
{
    static struct xs_frame f;
    xs_frame_reset(&f);
    uint32_t cons = 0xfffffff0u; /* indexes are free-running: start near the top */
    prod = cons;
    put_msg(XS_READ, 7, "value", 5);
    put_msg(XS_WRITE, 8, "OK", 3);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_READY);
    ck_assert_uint_eq(f.msg.hdr.req_id, 7);
    ck_assert_uint_eq(f.msg.hdr.len, 5);
    ck_assert_int_eq(memcmp(xs_frame_payload(&f), "value", 5), 0);
    xs_frame_reset(&f);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_READY);
    ck_assert_uint_eq(f.msg.hdr.type, XS_WRITE);
    ck_assert_str_eq(xs_frame_payload(&f), "OK");
    xs_frame_reset(&f);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_MORE);
    ck_assert_uint_eq(cons, prod);
}
END_TEST

START_TEST(test_message_larger_than_ring)
{
    static struct xs_frame f;
    static char big[3000];
    xs_frame_reset(&f);
    memset(big, 'x', sizeof(big));
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = sizeof(big) };
    uint32_t cons = 0;
    prod = 0;
    put(&h, sizeof(h));
    size_t sent = 0;
    int st = XS_FRAME_MORE;
    /* the producer refills as the consumer drains, one ring at a time */
    while (st == XS_FRAME_MORE) {
        size_t room = XENSTORE_RING_SIZE - (prod - cons);
        size_t n = sizeof(big) - sent < room ? sizeof(big) - sent : room;
        put(big + sent, n);
        sent += n;
        st = xs_frame_feed(&f, ring, &cons, prod);
    }
    ck_assert_int_eq(st, XS_FRAME_READY);
    ck_assert_uint_eq(sent, sizeof(big));
    ck_assert_int_eq(memcmp(xs_frame_payload(&f), big, sizeof(big)), 0);
}
END_TEST

START_TEST(test_header_in_pieces_and_empty_payload)
{
    static struct xs_frame f;
    xs_frame_reset(&f);
    struct xsd_sockmsg h = { .type = XS_RM, .req_id = 3, .len = 0 };
    uint32_t cons = 0;
    prod = 0;
    put(&h, 5);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_MORE);
    put((char *)&h + 5, sizeof(h) - 5);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_READY);
    ck_assert_uint_eq(f.msg.hdr.req_id, 3);
}
END_TEST

START_TEST(test_rejects_bad_input)
{
    static struct xs_frame f;
    xs_frame_reset(&f);
    uint32_t cons = 100;
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, 100 + XENSTORE_RING_SIZE + 1),
                     XS_FRAME_BAD_INDEX);
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, 99), XS_FRAME_BAD_INDEX); /* prod behind */
    cons = 0;
    prod = 0;
    struct xsd_sockmsg h = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };
    put(&h, sizeof(h));
    ck_assert_int_eq(xs_frame_feed(&f, ring, &cons, prod), XS_FRAME_TOO_LONG);
}
END_TEST

START_TEST(test_watch_payload_and_errors)
{
    const char *path, *token;
    ck_assert_int_eq(xs_parse_watch_event("control/shutdown\0tok\0", 22, &path, &token), 0);
    ck_assert_str_eq(path, "control/shutdown");
    ck_assert_str_eq(token, "tok");
    ck_assert_int_eq(xs_parse_watch_event("a\0tok", 5, &path, &token), -1);
    ck_assert_int_eq(xs_parse_watch_event("abc", 3, &path, &token), -1);
    ck_assert_int_eq(xs_parse_watch_event("", 0, &path, &token), -1);
    ck_assert_int_eq(xs_error_from_name("ENOENT", 7), -ENOENT);
    ck_assert_int_eq(xs_error_from_name("EACCES", 6), -EACCES);
    ck_assert_int_eq(xs_error_from_name("ENOENTX", 8), -EIO);
    ck_assert_int_eq(xs_error_from_name("ENOENT", 3), -EIO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_xsframe");
    TCase *tc = tcase_create("xsframe");
    tcase_add_test(tc, test_two_messages_across_wrap);
    tcase_add_test(tc, test_message_larger_than_ring);
    tcase_add_test(tc, test_header_in_pieces_and_empty_payload);
    tcase_add_test(tc, test_rejects_bad_input);
    tcase_add_test(tc, test_watch_payload_and_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* tandem-blkback: the backend ring (backends/blkback/blk_ring.c) against a
 * front ring driven with io/ring.h's front macros on one shared page:
 * free-running indexes across 2^32, notification suppression in both
 * directions (req_event / rsp_event), and a hostile producer index. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "blk_ring.h"

static union { blkif_sring_t s; uint8_t page[4096 << 1]; } shared __attribute__((aligned(4096)));
static blkif_front_ring_t front;
static struct blk_ring back;

/* Both ends start at index `start` (as if that many requests had gone by). */
static void setup_at(RING_IDX start, unsigned order)
{
    memset(&shared, 0, sizeof(shared));
    SHARED_RING_INIT(&shared.s);
    shared.s.req_prod = shared.s.rsp_prod = start;
    shared.s.req_event = shared.s.rsp_event = start + 1;
    FRONT_RING_ATTACH(&front, &shared.s, start, (size_t)4096 << order);
    blk_ring_attach(&back, &shared.s, order);
}

static bool front_send(uint64_t id)
{
    bool notify;
    struct blkif_request *r = RING_GET_REQUEST(&front, front.req_prod_pvt);

    memset(r, 0, sizeof(*r));
    r->operation = BLKIF_OP_READ;
    r->id = id;
    front.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
    return notify;
}

/* Consumes every response the front can see; returns how many. */
static unsigned front_collect(uint64_t *ids)
{
    unsigned n = 0;
    int more;

    do {
        while (RING_HAS_UNCONSUMED_RESPONSES(&front)) {
            struct blkif_response rsp;

            RING_COPY_RESPONSE(&front, front.rsp_cons, &rsp);
            ids[n++] = rsp.id;
            front.rsp_cons++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
    } while (more);
    return n;
}

START_TEST(sizes)
{
    setup_at(0, 0);
    ck_assert_uint_eq(RING_SIZE(&back.r), 32);
    ck_assert_uint_eq(RING_SIZE(&front), 32);
    setup_at(0, 1);
    ck_assert_uint_eq(RING_SIZE(&back.r), 64);
}
END_TEST

/* Three full laps of the ring across the 2^32 wrap, request ids in
 * order, every response seen by the front exactly once. */
START_TEST(wrap_around)
{
    uint64_t next_id = 0, expect = 0, got[64];

    setup_at(0xFFFFFFFFu - 40, 0);
    for (unsigned lap = 0; lap < 3 * 32; lap += 8) {
        union blkif_sring_entry e;

        for (unsigned k = 0; k < 8; k++)
            front_send(next_id++);
        for (unsigned k = 0; k < 8; k++) {
            ck_assert_int_eq(blk_ring_take(&back, &e), 1);
            blk_ring_respond(&back, e.req.id, e.req.operation, BLKIF_RSP_OKAY);
        }
        ck_assert_int_eq(blk_ring_take(&back, &e), 0);
        blk_ring_push(&back);
        ck_assert_uint_eq(front_collect(got), 8);
        for (unsigned k = 0; k < 8; k++)
            ck_assert_uint_eq(got[k], expect++);
    }
    ck_assert_uint_lt(back.r.req_cons, 0x100u);   /* it did wrap */
    ck_assert(!back.broken);
}
END_TEST

/* A full ring: exactly 32 requests are taken, none is lost across the wrap. */
START_TEST(full_ring_at_wrap)
{
    union blkif_sring_entry e;

    setup_at(0xFFFFFFF0u, 0);
    for (unsigned k = 0; k < 32; k++)
        front_send(k);
    ck_assert(RING_FULL(&front));
    for (unsigned k = 0; k < 32; k++) {
        ck_assert_int_eq(blk_ring_take(&back, &e), 1);
        ck_assert_uint_eq(e.req.id, k);
    }
    ck_assert_int_eq(blk_ring_take(&back, &e), 0);
    ck_assert(!blk_ring_final_check(&back));
}
END_TEST

/* req_event: the front notifies only when the back asked (it was about
 * to sleep), not for requests the back will find while still working. */
START_TEST(request_notification_suppressed)
{
    union blkif_sring_entry e;

    setup_at(0x7FFFFFFFu, 0);
    ck_assert(front_send(1));                 /* req_event = start + 1: asked */
    ck_assert(!front_send(2));                /* back has not re-armed */
    ck_assert(!front_send(3));
    ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    ck_assert(blk_ring_final_check(&back));   /* still work: nothing armed */
    ck_assert(!front_send(4));
    while (blk_ring_take(&back, &e) == 1)
        ;
    ck_assert(!blk_ring_final_check(&back));  /* empty: arms req_event */
    ck_assert_uint_eq(shared.s.req_event, back.r.req_cons + 1);
    ck_assert(front_send(5));                 /* ...so this one notifies */
    ck_assert(!front_send(6));
}
END_TEST

/* The race the final check closes: a request published after the back
 * looked but before it armed req_event is still seen. */
START_TEST(final_check_sees_late_request)
{
    union blkif_sring_entry e;

    setup_at(0, 0);
    front_send(1);
    ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    /* back found nothing more ... front publishes before req_event moves */
    front.req_prod_pvt++;
    RING_GET_REQUEST(&front, front.req_prod_pvt - 1)->id = 2;
    shared.s.req_prod = front.req_prod_pvt;
    ck_assert(blk_ring_final_check(&back));
    ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    ck_assert_uint_eq(e.req.id, 2);
}
END_TEST

/* rsp_event: the back notifies when the front is waiting for the
 * response just published, and not for responses it will find anyway. */
START_TEST(response_notification_suppressed)
{
    union blkif_sring_entry e;
    uint64_t got[64];

    setup_at(0xFFFFFFFEu, 0);
    for (unsigned k = 0; k < 4; k++)
        front_send(k);
    for (unsigned k = 0; k < 4; k++)
        ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    blk_ring_respond(&back, 0, 0, 0);
    ck_assert(blk_ring_push(&back));            /* rsp_event = start + 1 */
    blk_ring_respond(&back, 1, 0, 0);
    ck_assert(!blk_ring_push(&back));           /* the front has not re-armed */
    ck_assert_uint_eq(front_collect(got), 2);   /* re-arms rsp_event */
    blk_ring_respond(&back, 2, 0, 0);
    blk_ring_respond(&back, 3, 0, 0);
    ck_assert(blk_ring_push(&back));            /* one notification for a batch */
    ck_assert(!blk_ring_push(&back));           /* nothing new published */
    ck_assert_uint_eq(front_collect(got), 2);
    ck_assert_uint_eq(got[1], 3);
}
END_TEST

/* A producer index more than a ring ahead of our responses. */
START_TEST(hostile_producer)
{
    union blkif_sring_entry e;

    setup_at(0xFFFFFFF8u, 0);
    shared.s.req_prod = 0xFFFFFFF8u + 33;
    ck_assert_int_eq(blk_ring_take(&back, &e), -1);
    ck_assert(back.broken);
    ck_assert_int_eq(blk_ring_take(&back, &e), -1);
    ck_assert(!blk_ring_has_requests(&back));
    ck_assert(!blk_ring_final_check(&back));
    setup_at(5, 0);
    shared.s.req_prod = 4;                      /* "behind": also 2^32 - 1 ahead */
    ck_assert_int_eq(blk_ring_take(&back, &e), -1);
}
END_TEST

/* All 32 slots taken and unanswered: the frontend cannot have a 33rd. */
START_TEST(no_response_slot_no_take)
{
    union blkif_sring_entry e;

    setup_at(100, 0);
    for (unsigned k = 0; k < 32; k++)
        front_send(k);
    for (unsigned k = 0; k < 32; k++)
        ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    blk_ring_respond(&back, 0, 0, 0);
    blk_ring_push(&back);
    ck_assert_int_eq(blk_ring_take(&back, &e), 0);
    front.rsp_cons++;
    front_send(32);                             /* the freed slot */
    ck_assert_int_eq(blk_ring_take(&back, &e), 1);
    ck_assert_uint_eq(e.req.id, 32);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blkback_ring");
    TCase *tc = tcase_create("ring");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, sizes);
    tcase_add_test(tc, wrap_around);
    tcase_add_test(tc, full_ring_at_wrap);
    tcase_add_test(tc, request_notification_suppressed);
    tcase_add_test(tc, final_check_sees_late_request);
    tcase_add_test(tc, response_notification_suppressed);
    tcase_add_test(tc, hostile_producer);
    tcase_add_test(tc, no_response_slot_no_take);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

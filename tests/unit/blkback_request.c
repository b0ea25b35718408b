/* tandem-blkback: request validation (backends/blkback/blk_request.c)
 * and the strict number parser for frontend keys. Every refusal rule of
 * docs/blkback.md has a case; the good cases check what the engine gets. */
#include <check.h>
#include <string.h>

#include "blk_frontend.h"
#include "blk_request.h"

static const struct blk_limits LIM = {
    .sectors = 2048, .readonly = false, .discard = true, .flush = true, .barrier = true,
    .max_indirect_segs = BLK_MAX_INDIRECT_SEGS,
};

static union blkif_sring_entry rw(uint8_t op, unsigned nseg, uint64_t sector)
{
    union blkif_sring_entry e;

    memset(&e, 0, sizeof(e));
    e.req.operation = op;
    e.req.nr_segments = (uint8_t)nseg;
    e.req.id = 0x1122334455667788ULL;
    e.req.sector_number = sector;
    for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        e.req.seg[i] = (struct blkif_request_segment){ .gref = 100 + i, .first_sect = 0,
                                                       .last_sect = 7 };
    return e;
}

static int check(const union blkif_sring_entry *e, const struct blk_limits *lim,
                 struct blk_req *r, const char **why)
{
    return blk_check_request(e, lim, r, why);
}

static struct blk_req req;
static const char *why;

START_TEST(read_ok)
{
    union blkif_sring_entry e = rw(BLKIF_OP_READ, 11, 100);

    e.req.seg[3].first_sect = 2;
    e.req.seg[3].last_sect = 5;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_ptr_null(why);
    ck_assert_int_eq(req.kind, BLK_KIND_READ);
    ck_assert_uint_eq(req.id, 0x1122334455667788ULL);
    ck_assert_uint_eq(req.rsp_op, BLKIF_OP_READ);
    ck_assert_uint_eq(req.nr_segs, 11);
    ck_assert_uint_eq(req.nr_sectors, 10 * 8 + 4);
    ck_assert_uint_eq(req.seg[3].gref, 103);
    ck_assert_uint_eq(req.seg[3].first, 2);
    ck_assert(!req.indirect);
}
END_TEST

START_TEST(write_to_the_last_sector)
{
    union blkif_sring_entry e = rw(BLKIF_OP_WRITE, 1, 2047);

    e.req.seg[0].last_sect = 0;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_uint_eq(req.nr_sectors, 1);
    e.req.sector_number = 2048;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "end of the device"));
}
END_TEST

START_TEST(segment_counts)
{
    union blkif_sring_entry e = rw(BLKIF_OP_READ, 0, 0);

    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "0 segments"));
    e = rw(BLKIF_OP_WRITE, 12, 0);
    e.req.nr_segments = 12;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "11 segments"));
    e.req.nr_segments = 255;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(segment_sectors)
{
    union blkif_sring_entry e = rw(BLKIF_OP_READ, 2, 0);

    e.req.seg[1].first_sect = 5;
    e.req.seg[1].last_sect = 4;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "first_sect > last_sect"));
    e.req.seg[1].first_sect = 0;
    e.req.seg[1].last_sect = 8;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "> 7"));
    e.req.seg[1].first_sect = 7;
    e.req.seg[1].last_sect = 7;
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_uint_eq(req.nr_sectors, 9);
}
END_TEST

START_TEST(range_does_not_wrap)
{
    union blkif_sring_entry e = rw(BLKIF_OP_READ, 1, UINT64_MAX - 3);

    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = rw(BLKIF_OP_READ, 1, UINT64_MAX);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = rw(BLKIF_OP_READ, 1, 2041);       /* 2041 + 8 = 2049 > 2048 */
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = rw(BLKIF_OP_READ, 1, 2040);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
}
END_TEST

START_TEST(unknown_ops)
{
    static const uint8_t ops[] = { BLKIF_OP_RESERVED_1, 7, 8, 100, 255 };

    for (unsigned i = 0; i < sizeof(ops); i++) {
        union blkif_sring_entry e = rw(ops[i], 1, 0);

        ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_EOPNOTSUPP);
        ck_assert_uint_eq(req.rsp_op, ops[i]);
        ck_assert_uint_eq(req.id, 0x1122334455667788ULL);
    }
}
END_TEST

START_TEST(read_only_device)
{
    struct blk_limits ro = LIM;
    union blkif_sring_entry e = rw(BLKIF_OP_WRITE, 1, 0);
    struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .nr_sectors = 8 };

    ro.readonly = true;
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_ptr_nonnull(strstr(why, "read-only"));
    e = rw(BLKIF_OP_FLUSH_DISKCACHE, 2, 0);           /* flush with data writes */
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_ERROR);
    e = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);           /* a bare flush is harmless */
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_OKAY);
    e = rw(BLKIF_OP_READ, 3, 0);
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_OKAY);
    memcpy(&e, &d, sizeof(d));
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(flush_and_barrier)
{
    struct blk_limits none = LIM;
    union blkif_sring_entry e = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);

    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_int_eq(req.kind, BLK_KIND_FLUSH);
    ck_assert_uint_eq(req.nr_segs, 0);
    e = rw(BLKIF_OP_WRITE_BARRIER, 3, 8);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_int_eq(req.kind, BLK_KIND_BARRIER);
    ck_assert_uint_eq(req.nr_sectors, 24);
    none.flush = none.barrier = false;
    ck_assert_int_eq(check(&e, &none, &req, &why), BLKIF_RSP_EOPNOTSUPP);
    e = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
    ck_assert_int_eq(check(&e, &none, &req, &why), BLKIF_RSP_EOPNOTSUPP);
}
END_TEST

START_TEST(discard)
{
    struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 9,
                                       .sector_number = 16, .nr_sectors = 2032 };
    union blkif_sring_entry e;
    struct blk_limits none = LIM;

    memset(&e, 0, sizeof(e));
    memcpy(&e, &d, sizeof(d));
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert_int_eq(req.kind, BLK_KIND_DISCARD);
    ck_assert_uint_eq(req.sector, 16);
    ck_assert_uint_eq(req.nr_sectors, 2032);
    ck_assert_uint_eq(req.id, 9);
    d.nr_sectors = 2033;
    memcpy(&e, &d, sizeof(d));
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    d.nr_sectors = UINT64_MAX;
    memcpy(&e, &d, sizeof(d));
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    none.discard = false;
    ck_assert_int_eq(check(&e, &none, &req, &why), BLKIF_RSP_EOPNOTSUPP);
}
END_TEST

static union blkif_sring_entry indirect(uint8_t op, unsigned nseg)
{
    struct blkif_request_indirect ind = { .operation = BLKIF_OP_INDIRECT, .indirect_op = op,
                                          .nr_segments = (uint16_t)nseg, .id = 5,
                                          .sector_number = 64 };
    union blkif_sring_entry e;

    for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
        ind.indirect_grefs[i] = 200 + i;
    memset(&e, 0, sizeof(e));
    memcpy(&e, &ind, sizeof(ind));
    return e;
}

START_TEST(indirect_header)
{
    union blkif_sring_entry e = indirect(BLKIF_OP_WRITE, 256);
    struct blk_limits none = LIM, ro = LIM;

    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    ck_assert(req.indirect);
    ck_assert_int_eq(req.kind, BLK_KIND_WRITE);
    ck_assert_uint_eq(req.rsp_op, BLKIF_OP_WRITE);
    ck_assert_uint_eq(req.nr_segs, 256);
    ck_assert_uint_eq(req.nr_indirect_pages, 1);
    ck_assert_uint_eq(req.indirect_grefs[0], 200);
    e = indirect(BLKIF_OP_READ, 257);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = indirect(BLKIF_OP_READ, 0);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = indirect(BLKIF_OP_FLUSH_DISKCACHE, 4);
    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_ERROR);
    e = indirect(BLKIF_OP_READ, 4);
    none.max_indirect_segs = 0;
    ck_assert_int_eq(check(&e, &none, &req, &why), BLKIF_RSP_EOPNOTSUPP);
    e = indirect(BLKIF_OP_WRITE, 4);
    ro.readonly = true;
    ck_assert_int_eq(check(&e, &ro, &req, &why), BLKIF_RSP_ERROR);
    ck_assert_uint_eq(blk_indirect_pages(1), 1);
    ck_assert_uint_eq(blk_indirect_pages(512), 1);
    ck_assert_uint_eq(blk_indirect_pages(513), 2);
}
END_TEST

START_TEST(indirect_segments)
{
    union blkif_sring_entry e = indirect(BLKIF_OP_READ, 256);

    ck_assert_int_eq(check(&e, &LIM, &req, &why), BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 256; i++)
        req.seg[i] = (struct blk_seg){ .gref = i, .first = 0, .last = 7 };
    ck_assert_uint_eq(req.sector, 64);                 /* 64 + 2048 > 2048 */
    ck_assert_int_eq(blk_check_segments(&req, &LIM, &why), BLKIF_RSP_ERROR);
    req.sector = 0;
    ck_assert_int_eq(blk_check_segments(&req, &LIM, &why), BLKIF_RSP_OKAY);
    ck_assert_uint_eq(req.nr_sectors, 2048);
    req.sector = 1;                                    /* one sector too far */
    ck_assert_int_eq(blk_check_segments(&req, &LIM, &why), BLKIF_RSP_ERROR);
    req.sector = 0;
    req.seg[200].last = 9;
    ck_assert_int_eq(blk_check_segments(&req, &LIM, &why), BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(parse_uint_strict)
{
    uint64_t v;

    ck_assert_int_eq(blk_parse_uint("0", 1, 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(blk_parse_uint("4095", 4, 4095, &v), 0);
    ck_assert_uint_eq(v, 4095);
    ck_assert_int_eq(blk_parse_uint("4096", 4, 4095, &v), -1);
    ck_assert_int_eq(blk_parse_uint("5", 1, 1, &v), -1);
    ck_assert_int_eq(blk_parse_uint("4294967295", 10, UINT32_MAX, &v), 0);
    ck_assert_int_eq(blk_parse_uint("4294967296", 10, UINT32_MAX, &v), -1);
    ck_assert_int_eq(blk_parse_uint("18446744073709551615", 20, UINT64_MAX, &v), 0);
    ck_assert_int_eq(blk_parse_uint("18446744073709551616", 20, UINT64_MAX, &v), -1);
    ck_assert_int_eq(blk_parse_uint("", 0, 10, &v), -1);
    ck_assert_int_eq(blk_parse_uint("01", 2, 10, &v), -1);
    ck_assert_int_eq(blk_parse_uint("-1", 2, 10, &v), -1);
    ck_assert_int_eq(blk_parse_uint("1 ", 2, 10, &v), -1);
    ck_assert_int_eq(blk_parse_uint("0x1", 3, 10, &v), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blkback_request");
    TCase *tc = tcase_create("validate");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, read_ok);
    tcase_add_test(tc, write_to_the_last_sector);
    tcase_add_test(tc, segment_counts);
    tcase_add_test(tc, segment_sectors);
    tcase_add_test(tc, range_does_not_wrap);
    tcase_add_test(tc, unknown_ops);
    tcase_add_test(tc, read_only_device);
    tcase_add_test(tc, flush_and_barrier);
    tcase_add_test(tc, discard);
    tcase_add_test(tc, indirect_header);
    tcase_add_test(tc, indirect_segments);
    tcase_add_test(tc, parse_uint_strict);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* The block engine (backends/engine/blkeng.h) driven from the host side,
 * with no ring and no guest: a temp file as the store, aligned host
 * buffers as the "guest memory", the engine driven as a front door's
 * loop would (submit, poll the io_uring fd or wait, reap). Read/write
 * (vectored and on fixed buffers, through an alias view too), flush,
 * discard; errors: a store that shrank (short transfer), read-only, bad
 * ranges, depth (backpressure), an injected EIO, the front door's own
 * operations on the ring. The file lives in $BLKENG_TEST_DIR (default
 * /var/tmp: a disk, so O_DIRECT is exercised where the file system has it). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blkeng.h"
#include "tdm_uring.h"

#define STORE (1u << 20)            /* 1 MiB */

static char path[256];
static struct blkeng_backing back;
static struct blkeng *eng;

struct done_rec {                   /* one completion seen by the callback */
    struct blkeng_req req;
    int calls, status;
};

static void on_done(void *ctx, struct blkeng_req *r, int status)
{
    struct done_rec *d = (struct done_rec *)((char *)r - offsetof(struct done_rec, req));

    (void)ctx;
    d->calls++;
    d->status = status;
}

static int fault_res;               /* the injected result, 0: none */
static enum blkeng_op fault_op;

static int fault(void *ctx, const struct blkeng_req *r, int res)
{
    (void)ctx;
    return fault_res && r->op == fault_op && res >= 0 ? fault_res : res;
}

static uint64_t other_ud;
static int other_calls;

static void on_other(void *ctx, uint64_t ud, int res)
{
    (void)ctx;
    (void)res;
    other_ud = ud;
    other_calls++;
}

static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 7 + (off >> 9)); }

static void make_file(void)
{
    const char *dir = getenv("BLKENG_TEST_DIR") ? getenv("BLKENG_TEST_DIR") : "/var/tmp";
    uint8_t *buf = malloc(STORE);
    int fd;

    snprintf(path, sizeof(path), "%s/tandem-blkeng.XXXXXX", dir);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    for (uint64_t i = 0; i < STORE; i++)
        buf[i] = pattern(i);
    ck_assert_int_eq(pwrite(fd, buf, STORE, 0), STORE);
    close(fd);
    free(buf);
}

static struct blkeng *engine(unsigned depth)
{
    struct blkeng_config c = {
        .backing = &back, .depth = depth, .extra_sqes = 4, .ctx = NULL, .other = on_other,
        .fault = fault, .name = "test",
    };
    char err[256];
    struct blkeng *e = blkeng_create(&c, err, sizeof(err));

    ck_assert_msg(e != NULL, "%s", err);
    return e;
}

static void open_store(bool ro)
{
    char err[256];

    ck_assert_msg(blkeng_backing_open(path, ro, true, &back, err, sizeof(err)) == 0, "%s", err);
    eng = engine(8);
}

static void setup(void)
{
    make_file();
    fault_res = 0;
    other_calls = 0;
    open_store(false);
}

static void teardown(void)
{
    blkeng_destroy(eng);
    eng = NULL;
    blkeng_backing_close(&back);
    unlink(path);
}

/* Drives the engine as a host loop would: poll its fd, reap; until d is done. */
static void run_until(struct done_rec *d)
{
    for (int spins = 0; !d->calls && spins < 1000; spins++) {
        struct pollfd p = { .fd = blkeng_fd(eng), .events = POLLIN };

        blkeng_flush(eng);
        if (!blkeng_cq_ready(eng)) {
            int rc = poll(&p, 1, 50);

            ck_assert(rc >= 0 || errno == EINTR);
        }
        blkeng_reap(eng);
    }
    ck_assert_int_eq(d->calls, 1);
}

static int do_io(enum blkeng_op op, uint64_t off, const struct iovec *iov, unsigned niov,
                 uint64_t len)
{
    struct done_rec d = { .req = { .op = op, .offset = off, .iov = iov, .niov = niov,
                                   .len = len, .done = on_done } };
    int rc = blkeng_submit(eng, &d.req);

    if (rc < 0)
        return rc;
    run_until(&d);
    return d.status;
}

static void *aligned(size_t n)
{
    void *p;

    ck_assert_int_eq(posix_memalign(&p, 4096, n), 0);
    return p;
}

static void check_file(uint64_t off, const uint8_t *want, size_t n)
{
    uint8_t *got = malloc(n);
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    ck_assert_int_eq(pread(fd, got, n, (off_t)off), (ssize_t)n);
    ck_assert_msg(memcmp(got, want, n) == 0, "file differs at %llu", (unsigned long long)off);
    close(fd);
    free(got);
}

START_TEST(backing_facts)
{
    struct blkeng_backing b;
    char err[256];

    ck_assert_uint_eq(back.sectors, STORE / 512);
    ck_assert_uint_eq(back.sector_size, 512);
    ck_assert(!back.readonly && back.can_discard && back.can_flush && !back.blockdev);
    ck_assert(back.physical_sector_size == 512 || back.physical_sector_size == 4096);
    ck_assert_int_eq(blkeng_backing_open("/nonexistent/tandem", false, true, &b, err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    ck_assert_int_eq(blkeng_backing_open("/", true, false, &b, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "neither a regular file nor a block device"));
    ck_assert_int_eq(blkeng_backing_open(path, true, false, &b, err, sizeof(err)), 0);
    ck_assert(b.readonly && !b.can_discard && b.can_flush && !b.direct);
    blkeng_backing_close(&b);
}
END_TEST

START_TEST(read_vectored)
{
    uint8_t *a = aligned(4096), *b = aligned(8192);
    struct iovec iov[2] = { { a, 4096 }, { b, 8192 } };
    uint8_t want[12288];
    struct blkeng_stats st;

    for (unsigned i = 0; i < sizeof(want); i++)
        want[i] = pattern(65536 + i);
    ck_assert_int_eq(do_io(BLKENG_READ, 65536, iov, 2, 0), 0);
    ck_assert(memcmp(a, want, 4096) == 0 && memcmp(b, want + 4096, 8192) == 0);
    blkeng_get_stats(eng, &st);
    ck_assert_uint_eq(st.vectored, 1);
    ck_assert_uint_eq(st.completed, 1);
    ck_assert_uint_eq(blkeng_inflight(eng), 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(write_then_read_back)
{
    uint8_t *w = aligned(16384), *r = aligned(16384);
    struct iovec wi[2] = { { w, 4096 }, { w + 4096, 12288 } }, ri = { r, 16384 };

    for (unsigned i = 0; i < 16384; i++)
        w[i] = (uint8_t)(0xa5 ^ i);
    ck_assert_int_eq(do_io(BLKENG_WRITE, STORE - 16384, wi, 2, 0), 0);
    check_file(STORE - 16384, w, 16384);
    ck_assert_int_eq(do_io(BLKENG_READ, STORE - 16384, &ri, 1, 0), 0);
    ck_assert(memcmp(r, w, 16384) == 0);
    free(w);
    free(r);
}
END_TEST

/* Memory registered as fixed buffers, seen through two mappings of one
 * memfd (as blkback sees guest memory: read-write and read-only views). */
START_TEST(fixed_buffers_and_alias)
{
    size_t len = 4u << 20;
    int mfd = memfd_create("blkeng-test", MFD_CLOEXEC);
    uint8_t *rw, *ro;
    struct blkeng_memory mem;
    struct blkeng_stats st;
    const char *why;

    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, (off_t)len), 0);
    rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    ro = mmap(NULL, len, PROT_READ, MAP_SHARED, mfd, 0);
    ck_assert(rw != MAP_FAILED && ro != MAP_FAILED);
    mem = (struct blkeng_memory){ .base = rw, .alias = ro, .len = len };
    ck_assert_msg(blkeng_use_memory(eng, &mem, &why) == 0, "%s", why);
    ck_assert_int_eq(blkeng_use_memory(eng, &mem, &why), -1);   /* once */

    /* read into the second chunk (registered on first use) */
    struct iovec r = { rw + (2u << 20) + 8192, 8192 };
    ck_assert_int_eq(do_io(BLKENG_READ, 4096, &r, 1, 0), 0);
    for (unsigned i = 0; i < 8192; i++)
        ck_assert_uint_eq(rw[(2u << 20) + 8192 + i], pattern(4096 + i));
    /* write from the read-only view: same bytes, same fixed buffer */
    memset(rw + 12288, 0x3c, 4096);
    struct iovec w = { ro + 12288, 4096 };
    ck_assert_int_eq(do_io(BLKENG_WRITE, 0, &w, 1, 0), 0);
    check_file(0, rw + 12288, 4096);
    /* a range across two chunks goes vectored */
    struct iovec x = { rw + (2u << 20) - 4096, 8192 };
    ck_assert_int_eq(do_io(BLKENG_READ, 0, &x, 1, 0), 0);
    blkeng_get_stats(eng, &st);
    ck_assert_uint_eq(st.fixed, 2);
    ck_assert_uint_eq(st.vectored, 1);
    munmap(rw, len);
    munmap(ro, len);
    close(mfd);
}
END_TEST

START_TEST(flush_with_and_without_data)
{
    uint8_t *w = aligned(4096);
    struct iovec wi = { w, 4096 };

    ck_assert_int_eq(do_io(BLKENG_FLUSH, 0, NULL, 0, 0), 0);
    memset(w, 0x77, 4096);
    ck_assert_int_eq(do_io(BLKENG_FLUSH, 8192, &wi, 1, 0), 0);
    check_file(8192, w, 4096);
    free(w);
}
END_TEST

START_TEST(discard_punches_zeroes)
{
    uint8_t zero[8192] = { 0 }, *r = aligned(8192);
    struct iovec ri = { r, 8192 };

    ck_assert_int_eq(do_io(BLKENG_DISCARD, 131072, NULL, 0, 8192), 0);
    check_file(131072, zero, sizeof(zero));
    ck_assert_int_eq(do_io(BLKENG_READ, 131072, &ri, 1, 0), 0);
    ck_assert(memcmp(r, zero, sizeof(zero)) == 0);
    /* the bytes around it are untouched */
    ck_assert_int_eq(do_io(BLKENG_READ, 131072 + 8192, &ri, 1, 0), 0);
    for (unsigned i = 0; i < 8192; i++)
        ck_assert_uint_eq(r[i], pattern(131072 + 8192 + i));
    ck_assert_int_eq(do_io(BLKENG_DISCARD, 0, NULL, 0, 0), -EINVAL);   /* empty */
    free(r);
}
END_TEST

/* The file shrank under the engine (its size was read at open): a read
 * past the new end moves nothing and is an error, not a success. */
START_TEST(short_file_is_an_error)
{
    uint8_t *r = aligned(8192);
    struct iovec ri = { r, 8192 };

    ck_assert_int_eq(truncate(path, 65536 + 4096), 0);
    ck_assert_int_eq(do_io(BLKENG_READ, 65536, &ri, 1, 0), -EIO);     /* half there */
    ck_assert_int_eq(do_io(BLKENG_READ, 524288, &ri, 1, 0), -EIO);    /* none there */
    ck_assert_int_eq(do_io(BLKENG_READ, 0, &ri, 1, 0), 0);
    struct blkeng_stats st;
    blkeng_get_stats(eng, &st);
    ck_assert_uint_eq(st.errors, 2);
    free(r);
}
END_TEST

START_TEST(read_only_store)
{
    uint8_t *b = aligned(4096);
    struct iovec v = { b, 4096 };

    blkeng_destroy(eng);
    blkeng_backing_close(&back);
    open_store(true);
    ck_assert_int_eq(do_io(BLKENG_WRITE, 0, &v, 1, 0), -EROFS);
    ck_assert_int_eq(do_io(BLKENG_FLUSH, 0, &v, 1, 0), -EROFS);
    ck_assert_int_eq(do_io(BLKENG_DISCARD, 0, NULL, 0, 4096), -EROFS);
    ck_assert_int_eq(do_io(BLKENG_FLUSH, 0, NULL, 0, 0), 0);       /* a sync is no write */
    ck_assert_int_eq(do_io(BLKENG_READ, 4096, &v, 1, 0), 0);
    ck_assert_uint_eq(b[0], pattern(4096));
    ck_assert_uint_eq(blkeng_inflight(eng), 0);
    free(b);
}
END_TEST

START_TEST(bad_requests_are_refused)
{
    uint8_t *b = aligned(4096);
    struct iovec v = { b, 4096 }, odd = { b, 100 };
    struct iovec many[BLKENG_MAX_IOV + 1];

    for (unsigned i = 0; i <= BLKENG_MAX_IOV; i++)
        many[i] = (struct iovec){ b, 512 };
    ck_assert_int_eq(do_io(BLKENG_READ, STORE, &v, 1, 0), -EINVAL);          /* at the end */
    ck_assert_int_eq(do_io(BLKENG_READ, STORE - 512, &v, 1, 0), -EINVAL);    /* across it */
    ck_assert_int_eq(do_io(BLKENG_READ, UINT64_MAX - 511, &v, 1, 0), -EINVAL);
    ck_assert_int_eq(do_io(BLKENG_READ, 100, &v, 1, 0), -EINVAL);            /* unaligned */
    ck_assert_int_eq(do_io(BLKENG_READ, 0, &odd, 1, 0), -EINVAL);
    ck_assert_int_eq(do_io(BLKENG_READ, 0, NULL, 0, 0), -EINVAL);            /* no data */
    ck_assert_int_eq(do_io(BLKENG_WRITE, 0, many, BLKENG_MAX_IOV + 1, 0), -EINVAL);
    ck_assert_int_eq(do_io(BLKENG_DISCARD, 0, &v, 1, 4096), -EINVAL);
    ck_assert_int_eq(do_io(BLKENG_DISCARD, STORE - 4096, NULL, 0, 8192), -EINVAL);
    ck_assert_int_eq(do_io((enum blkeng_op)42, 0, &v, 1, 0), -EINVAL);
    ck_assert_int_eq(do_io(BLKENG_READ, 0, many, BLKENG_MAX_IOV, 0), 0);     /* the limit */
    ck_assert_uint_eq(blkeng_inflight(eng), 0);
    free(b);
}
END_TEST

/* depth requests in flight, then -EBUSY until one completes. */
START_TEST(depth_is_backpressure)
{
    struct done_rec d[3];
    uint8_t *b = aligned(3 * 4096);

    blkeng_destroy(eng);
    eng = engine(2);
    for (unsigned i = 0; i < 3; i++) {
        struct iovec *v = malloc(sizeof(*v));

        *v = (struct iovec){ b + i * 4096, 4096 };
        d[i] = (struct done_rec){ .req = { .op = BLKENG_READ, .offset = i * 4096u, .iov = v,
                                           .niov = 1, .done = on_done } };
    }
    ck_assert_int_eq(blkeng_submit(eng, &d[0].req), 0);
    ck_assert_int_eq(blkeng_submit(eng, &d[1].req), 0);
    ck_assert_int_eq(blkeng_submit(eng, &d[2].req), -EBUSY);
    ck_assert_uint_eq(blkeng_inflight(eng), 2);
    while (d[0].calls + d[1].calls < 2) {
        blkeng_wait(eng);
        blkeng_reap(eng);
    }
    ck_assert_int_eq(blkeng_submit(eng, &d[2].req), 0);
    run_until(&d[2]);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_eq(d[i].status, 0);
        ck_assert_uint_eq(b[i * 4096 + 1], pattern(i * 4096 + 1));
        free((void *)d[i].req.iov);
    }
    free(b);
}
END_TEST

START_TEST(injected_eio)
{
    uint8_t *b = aligned(4096);
    struct iovec v = { b, 4096 };
    struct blkeng_stats st;

    fault_op = BLKENG_READ;
    fault_res = -EIO;
    ck_assert_int_eq(do_io(BLKENG_READ, 0, &v, 1, 0), -EIO);
    ck_assert_int_eq(do_io(BLKENG_WRITE, 0, &v, 1, 0), 0);     /* only reads fail */
    fault_op = BLKENG_FLUSH;
    fault_res = -ENOSPC;
    ck_assert_int_eq(do_io(BLKENG_FLUSH, 0, NULL, 0, 0), -ENOSPC);
    fault_res = 0;
    ck_assert_int_eq(do_io(BLKENG_READ, 0, &v, 1, 0), 0);
    blkeng_get_stats(eng, &st);
    ck_assert_uint_eq(st.errors, 2);
    ck_assert_uint_eq(st.completed, 4);
    free(b);
}
END_TEST

/* A flush whose write really fails (its data is not readable memory):
 * the kernel cancels the linked sync, and the request reports the
 * write's error, not -ECANCELED, and nothing of it reaches the file. */
START_TEST(flush_reports_the_write_error)
{
    uint8_t *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iovec v = { bad, 4096 };
    uint8_t want[4096];

    ck_assert(bad != MAP_FAILED);
    for (unsigned i = 0; i < sizeof(want); i++)
        want[i] = pattern(4096 + i);
    ck_assert_int_eq(do_io(BLKENG_FLUSH, 4096, &v, 1, 0), -EFAULT);
    check_file(4096, want, sizeof(want));
    munmap(bad, 4096);
}
END_TEST

/* A front door's own operation on the engine's ring reaches cfg.other. */
START_TEST(front_door_operations)
{
    struct io_uring_sqe *sqe = tdm_uring_sqe(blkeng_uring(eng));

    ck_assert_ptr_nonnull(sqe);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, tdm_uring_tag(5, 1, 77));
    blkeng_wait(eng);
    ck_assert(blkeng_reap(eng));
    ck_assert_int_eq(other_calls, 1);
    ck_assert_uint_eq(tdm_uring_tag_of(other_ud), 5);
    ck_assert_uint_eq(tdm_uring_index_of(other_ud), 77);
    ck_assert(!blkeng_reap(eng));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blkeng");
    TCase *tc = tcase_create("engine");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, backing_facts);
    tcase_add_test(tc, read_vectored);
    tcase_add_test(tc, write_then_read_back);
    tcase_add_test(tc, fixed_buffers_and_alias);
    tcase_add_test(tc, flush_with_and_without_data);
    tcase_add_test(tc, discard_punches_zeroes);
    tcase_add_test(tc, short_file_is_an_error);
    tcase_add_test(tc, read_only_store);
    tcase_add_test(tc, bad_requests_are_refused);
    tcase_add_test(tc, depth_is_backpressure);
    tcase_add_test(tc, injected_eio);
    tcase_add_test(tc, flush_reports_the_write_error);
    tcase_add_test(tc, front_door_operations);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Check suite for tandem-vmm's I/O bus (hypervisor/vmm/iobus.c): ranges
 * refused when they overlap or are malformed, lookups at the edges of a
 * range, accesses that straddle an end, unregister, and register/unregister
 * racing accesses from several threads (no handler of a removed range runs
 * after iobus_unregister returns). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "iobus.h"

struct rec {
    int calls;
    uint64_t off;
    uint32_t len;
    bool is_write;
    uint8_t data[8];
};

static void record(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct rec *r = opaque;
    (void)v;
    r->calls++;
    r->off = off;
    r->len = len;
    r->is_write = is_write;
    if (is_write)
        memcpy(r->data, data, len);
    else
        memset(data, 0xa5, len);
}

static struct iobus_range range(enum iobus_space sp, uint64_t base, uint64_t len, struct rec *r)
{
    return (struct iobus_range){ .space = sp, .base = base, .len = len, .fn = record,
                                 .opaque = r, .name = "test" };
}

static struct iobus *bus;

static void setup(void)
{
    bus = iobus_new();
    ck_assert_ptr_nonnull(bus);
}

static void teardown(void)
{
    iobus_free(bus);
}

START_TEST(overlaps_refused)
{
    struct rec a = { 0 };
    struct iobus_range r = range(IOBUS_PIO, 0x100, 0x10, &a);
    ck_assert_int_eq(iobus_register(bus, &r), 0);
    uint64_t bad[][2] = { { 0x100, 0x10 }, { 0xff, 2 }, { 0x10f, 1 }, { 0x108, 0x100 },
                          { 0x0, 0x1000 }, { 0x105, 1 } };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iobus_range o = range(IOBUS_PIO, bad[i][0], bad[i][1], &a);
        errno = 0;
        ck_assert_int_eq(iobus_register(bus, &o), -1);
        ck_assert_int_eq(errno, EEXIST);
    }
    /* touching both ends is fine, and the same range in the other space */
    struct iobus_range below = range(IOBUS_PIO, 0xf0, 0x10, &a);
    struct iobus_range above = range(IOBUS_PIO, 0x110, 1, &a);
    struct iobus_range mmio = range(IOBUS_MMIO, 0x100, 0x10, &a);
    ck_assert_int_eq(iobus_register(bus, &below), 0);
    ck_assert_int_eq(iobus_register(bus, &above), 0);
    ck_assert_int_eq(iobus_register(bus, &mmio), 0);
}
END_TEST

START_TEST(malformed_refused)
{
    struct rec a = { 0 };
    struct iobus_range bad[] = {
        range(IOBUS_PIO, 0x10, 0, &a),               /* empty */
        range(IOBUS_PIO, 0xffff, 2, &a),             /* past port 0xffff */
        range(IOBUS_PIO, 0x10000, 1, &a),
        range(IOBUS_MMIO, UINT64_MAX - 1, 4, &a),    /* wraps */
        range(IOBUS_NR_SPACES, 0x10, 1, &a),
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        ck_assert_int_eq(iobus_register(bus, &bad[i]), -1);
        ck_assert_int_eq(errno, EINVAL);
    }
    struct iobus_range nofn = range(IOBUS_PIO, 0x10, 1, &a);
    nofn.fn = NULL;
    ck_assert_int_eq(iobus_register(bus, &nofn), -1);
    /* the last port, and a range that ends exactly at 2^64 */
    struct iobus_range lastport = range(IOBUS_PIO, 0xffff, 1, &a);
    struct iobus_range top = range(IOBUS_MMIO, UINT64_MAX - 0xfff, 0x1000, &a);
    ck_assert_int_eq(iobus_register(bus, &lastport), 0);
    ck_assert_int_eq(iobus_register(bus, &top), 0);
    uint8_t d[8];
    ck_assert(iobus_access(bus, IOBUS_PIO, 0xffff, d, 1, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0xffff, d, 2, false, NULL));
    ck_assert(iobus_access(bus, IOBUS_MMIO, UINT64_MAX - 7, d, 8, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_MMIO, UINT64_MAX - 6, d, 8, false, NULL));
    ck_assert_int_eq(a.calls, 2);
}
END_TEST

START_TEST(lookup_at_edges)
{
    struct rec a = { 0 }, b = { 0 }, c = { 0 };
    struct iobus_range ra = range(IOBUS_MMIO, 0x1000, 0x100, &a);
    struct iobus_range rb = range(IOBUS_MMIO, 0x1100, 0x100, &b);
    struct iobus_range rc = range(IOBUS_MMIO, 0x8000, 1, &c);
    /* out of order: the bus keeps them sorted */
    ck_assert_int_eq(iobus_register(bus, &rc), 0);
    ck_assert_int_eq(iobus_register(bus, &rb), 0);
    ck_assert_int_eq(iobus_register(bus, &ra), 0);
    uint8_t d[8] = { 1, 2, 3, 4 };
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0xfff, d, 1, true, NULL));
    ck_assert(iobus_access(bus, IOBUS_MMIO, 0x1000, d, 4, true, NULL));
    ck_assert_int_eq(a.calls, 1);
    ck_assert_uint_eq(a.off, 0);
    ck_assert_uint_eq(a.len, 4);
    ck_assert(a.is_write);
    ck_assert_mem_eq(a.data, d, 4);
    ck_assert(iobus_access(bus, IOBUS_MMIO, 0x10ff, d, 1, false, NULL));
    ck_assert_uint_eq(a.off, 0xff);
    ck_assert_uint_eq(d[0], 0xa5);
    ck_assert(iobus_access(bus, IOBUS_MMIO, 0x1100, d, 8, false, NULL));
    ck_assert_int_eq(b.calls, 1);
    ck_assert_uint_eq(b.off, 0);
    ck_assert(iobus_access(bus, IOBUS_MMIO, 0x11f8, d, 8, false, NULL));
    ck_assert_uint_eq(b.off, 0xf8);
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0x1200, d, 1, false, NULL));
    ck_assert(iobus_access(bus, IOBUS_MMIO, 0x8000, d, 1, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0x7fff, d, 1, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0x8001, d, 1, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x1000, d, 1, false, NULL)); /* other space */
    ck_assert_int_eq(a.calls + b.calls + c.calls, 5);
}
END_TEST

START_TEST(straddling_goes_nowhere)
{
    struct rec a = { 0 }, b = { 0 };
    struct iobus_range ra = range(IOBUS_PIO, 0x60, 4, &a);
    struct iobus_range rb = range(IOBUS_PIO, 0x64, 4, &b);
    ck_assert_int_eq(iobus_register(bus, &ra), 0);
    ck_assert_int_eq(iobus_register(bus, &rb), 0);
    uint8_t d[8];
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x62, d, 4, false, NULL));  /* a into b */
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x67, d, 2, true, NULL));   /* off b's end */
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x5f, d, 2, false, NULL));  /* into a */
    ck_assert(iobus_access(bus, IOBUS_PIO, 0x62, d, 2, false, NULL));
    ck_assert_uint_eq(a.off, 2);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(b.calls, 0);
    /* PIO accesses are at most 4 bytes, MMIO at most 8, none empty */
    struct iobus_range big = range(IOBUS_MMIO, 0, 0x100, &a);
    ck_assert_int_eq(iobus_register(bus, &big), 0);
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x60, d, 8, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0, d, 0, false, NULL));
    ck_assert(!iobus_access(bus, IOBUS_MMIO, 0, d, 16, false, NULL));
    ck_assert_int_eq(a.calls, 1);
}
END_TEST

static void leave_data(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                       bool is_write)
{
    (void)opaque, (void)v, (void)off, (void)data, (void)len, (void)is_write;
}

START_TEST(reads_start_zeroed)
{
    struct iobus_range r = { IOBUS_PIO, 0x80, 1, leave_data, NULL, "quiet" };
    ck_assert_int_eq(iobus_register(bus, &r), 0);
    uint8_t d[4] = { 0xff, 0xff, 0xff, 0xff };
    ck_assert(iobus_access(bus, IOBUS_PIO, 0x80, d, 1, false, NULL));
    ck_assert_uint_eq(d[0], 0);
    ck_assert_uint_eq(d[1], 0xff);   /* only len bytes */
}
END_TEST

START_TEST(unregister)
{
    struct rec a = { 0 }, b = { 0 };
    struct iobus_range ra = range(IOBUS_PIO, 0x3f8, 8, &a);
    struct iobus_range rb = range(IOBUS_PIO, 0x2f8, 8, &b);
    ck_assert_int_eq(iobus_register(bus, &ra), 0);
    ck_assert_int_eq(iobus_register(bus, &rb), 0);
    errno = 0;
    ck_assert_int_eq(iobus_unregister(bus, IOBUS_PIO, 0x3f9), -1);   /* not a start */
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(iobus_unregister(bus, IOBUS_MMIO, 0x3f8), -1);  /* other space */
    ck_assert_int_eq(iobus_unregister(bus, IOBUS_PIO, 0x3f8), 0);
    ck_assert_int_eq(iobus_unregister(bus, IOBUS_PIO, 0x3f8), -1);
    uint8_t d[1] = { 0 };
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x3f8, d, 1, true, NULL));
    ck_assert(iobus_access(bus, IOBUS_PIO, 0x2f8, d, 1, true, NULL));
    ck_assert_int_eq(a.calls, 0);
    ck_assert_int_eq(b.calls, 1);
    /* the place is free again */
    ck_assert_int_eq(iobus_register(bus, &ra), 0);
    ck_assert(iobus_access(bus, IOBUS_PIO, 0x3ff, d, 1, true, NULL));
    ck_assert_int_eq(a.calls, 1);
}
END_TEST

/* A handler that removes its own range (a device turning itself off). */
struct selfrm {
    struct iobus *bus;
    int calls;
};

static void remove_self(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                        bool is_write)
{
    struct selfrm *s = opaque;
    (void)v, (void)off, (void)data, (void)len, (void)is_write;
    s->calls++;
    ck_assert_int_eq(iobus_unregister(s->bus, IOBUS_PIO, 0x500), 0);
}

START_TEST(handler_unregisters_itself)
{
    struct selfrm s = { bus, 0 };
    struct iobus_range r = { IOBUS_PIO, 0x500, 4, remove_self, &s, "self" };
    ck_assert_int_eq(iobus_register(bus, &r), 0);
    uint8_t d[4];
    ck_assert(iobus_access(bus, IOBUS_PIO, 0x500, d, 4, true, NULL));
    ck_assert(!iobus_access(bus, IOBUS_PIO, 0x500, d, 4, true, NULL));
    ck_assert_int_eq(s.calls, 1);
}
END_TEST

/* Concurrency: readers hammer a fixed range and a range that a writer
 * keeps registering and removing, whose handler checks that it is live
 * (registered) while it runs and dwells a little. */
#define NREADERS 4
#define ROUNDS 2000

static atomic_bool stop;
static atomic_int live;             /* 1 while the moving range is registered */
static atomic_long moving_calls, fixed_calls, bad_calls, active;

static void moving(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    (void)opaque, (void)v, (void)off, (void)data, (void)len, (void)is_write;
    atomic_fetch_add(&active, 1);
    if (!atomic_load(&live))
        atomic_fetch_add(&bad_calls, 1);
    for (volatile int i = 0; i < 200; i++) {
    }
    if (!atomic_load(&live))
        atomic_fetch_add(&bad_calls, 1);
    atomic_fetch_add(&moving_calls, 1);
    atomic_fetch_sub(&active, 1);
}

static void fixed(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                  bool is_write)
{
    (void)opaque, (void)v, (void)len, (void)is_write;
    if (off != 0 || data[0] != 0x5a)
        atomic_fetch_add(&bad_calls, 1);
    atomic_fetch_add(&fixed_calls, 1);
}

static void *reader(void *arg)
{
    (void)arg;
    long misses = 0;
    while (!atomic_load(&stop)) {
        uint8_t d[4] = { 0x5a };
        if (!iobus_access(bus, IOBUS_MMIO, 0x10000, d, 1, true, NULL))
            atomic_fetch_add(&bad_calls, 1);   /* the fixed range never goes */
        d[0] = 0;
        if (!iobus_access(bus, IOBUS_MMIO, 0x20004, d, 4, false, NULL))
            misses++;
    }
    return (void *)misses;
}

START_TEST(concurrent_register_unregister)
{
    struct iobus_range f = { IOBUS_MMIO, 0x10000, 0x1000, fixed, NULL, "fixed" };
    ck_assert_int_eq(iobus_register(bus, &f), 0);
    atomic_store(&stop, false);
    pthread_t th[NREADERS];
    for (int i = 0; i < NREADERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, NULL), 0);
    struct rec other = { 0 };
    for (int round = 0; round < ROUNDS; round++) {
        /* neighbours come and go too: the array is rebuilt each time */
        struct iobus_range n = range(IOBUS_MMIO, 0x30000 + (uint64_t)(round % 7) * 0x1000, 0x1000,
                                     &other);
        ck_assert_int_eq(iobus_register(bus, &n), 0);
        atomic_store(&live, 1);
        struct iobus_range m = { IOBUS_MMIO, 0x20000, 0x1000, moving, NULL, "moving" };
        ck_assert_int_eq(iobus_register(bus, &m), 0);
        for (volatile int i = 0; i < 2000; i++) {
        }
        ck_assert_int_eq(iobus_unregister(bus, IOBUS_MMIO, 0x20000), 0);
        /* no handler of the removed range is running or will run */
        long still_running = atomic_load(&active);
        ck_assert_int_eq(still_running, 0);
        atomic_store(&live, 0);
        ck_assert_int_eq(iobus_unregister(bus, IOBUS_MMIO, n.base), 0);
    }
    atomic_store(&stop, true);
    long misses = 0;
    for (int i = 0; i < NREADERS; i++) {
        void *m;
        pthread_join(th[i], &m);
        misses += (long)m;
    }
    long bad = atomic_load(&bad_calls), fixed_n = atomic_load(&fixed_calls);
    long moving_n = atomic_load(&moving_calls);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_gt(fixed_n, 0);
    ck_assert_int_gt(moving_n + misses, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vmm_iobus");
    TCase *tc = tcase_create("iobus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, overlaps_refused);
    tcase_add_test(tc, malformed_refused);
    tcase_add_test(tc, lookup_at_edges);
    tcase_add_test(tc, straddling_goes_nowhere);
    tcase_add_test(tc, reads_start_zeroed);
    tcase_add_test(tc, unregister);
    tcase_add_test(tc, handler_unregisters_itself);
    tcase_add_test(tc, concurrent_register_unregister);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

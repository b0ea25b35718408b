/* Host tests of the guest page allocator and heap
 * (frontends/lib/pagealloc.c, frontends/lib/heap.c). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "heap.h"
#include "klib.h"
#include "pagealloc.h"

#define MiB (1ULL << 20)
#define PG 4096ULL

static uint64_t bitmap[64]; /* 4096 frames = 16 MiB */
static struct pagealloc pa;

static void setup_pages(void)
{
    pagealloc_init(&pa, bitmap, 4096);
    pagealloc_add_free(&pa, 0, 16 * MiB);
}

START_TEST(test_reserve_and_free_accounting)
{
    pagealloc_init(&pa, bitmap, 4096);
    ck_assert_uint_eq(pa.nr_free, 0);
    ck_assert_uint_eq(pagealloc_alloc(&pa, 1, 1), 0);
    pagealloc_add_free(&pa, 0, 16 * MiB);
    ck_assert_uint_eq(pa.nr_free, 4095); /* frame 0 never free */
    pagealloc_reserve(&pa, 1 * MiB, 2 * MiB + 1); /* rounds outward */
    ck_assert_uint_eq(pa.nr_free, 4095 - 257);
    pagealloc_add_free(&pa, 100 * MiB, 200 * MiB); /* outside: clipped away */
    ck_assert_uint_eq(pa.nr_free, 4095 - 257);
    pagealloc_add_free(&pa, 1 * MiB + 1, 1 * MiB + PG + 5); /* rounds inward: nothing */
    ck_assert_uint_eq(pa.nr_free, 4095 - 257);
}
END_TEST

START_TEST(test_alloc_skips_reserved)
{
    setup_pages();
    pagealloc_reserve(&pa, 0, 8 * MiB);
    uint64_t a = pagealloc_alloc(&pa, 16, 1);
    ck_assert_uint_ge(a, 8 * MiB);
    uint64_t b = pagealloc_alloc(&pa, 1, 1);
    ck_assert(b >= a + 16 * PG || b + PG <= a);
    uint64_t c = pagealloc_alloc(&pa, 4, 512); /* 2 MiB aligned */
    ck_assert_uint_eq(c % (2 * MiB), 0);
    ck_assert_int_eq(pagealloc_free(&pa, a, 16), 0);
    ck_assert_int_eq(pagealloc_free(&pa, a, 16), -1); /* double free */
    ck_assert_int_eq(pagealloc_free(&pa, a + 1, 1), -1); /* unaligned */
    ck_assert_int_eq(pagealloc_free(&pa, 0, 1), -1);
    ck_assert_int_eq(pagealloc_free(&pa, 15 * MiB, 1000), -1); /* beyond the map */
}
END_TEST

START_TEST(test_exhaustion_and_reuse)
{
    setup_pages();
    uint64_t n = 0, last = 0;
    uint64_t addr;
    while ((addr = pagealloc_alloc(&pa, 1, 1)) != 0) {
        ck_assert_uint_ne(addr, last);
        last = addr;
        n++;
    }
    ck_assert_uint_eq(n, 4095);
    ck_assert_uint_eq(pa.nr_free, 0);
    ck_assert_int_eq(pagealloc_free(&pa, 5 * PG, 1), 0);
    ck_assert_int_eq(pagealloc_free(&pa, 6 * PG, 1), 0);
    ck_assert_uint_eq(pagealloc_alloc(&pa, 3, 1), 0); /* no 3-run */
    ck_assert_uint_eq(pagealloc_alloc(&pa, 2, 1), 5 * PG);
    ck_assert_uint_eq(pagealloc_alloc(&pa, 0, 1), 0);
    ck_assert_uint_eq(pagealloc_alloc(&pa, 1, 3), 0); /* alignment not a power of two */
}
END_TEST

START_TEST(test_init_free_then_reserve_holes)
{
    static uint64_t bm[3];
    pagealloc_init_free(&pa, bm, 130); /* not a multiple of 64 */
    ck_assert_uint_eq(pa.nr_free, 129);
    pagealloc_reserve(&pa, 10 * PG, 20 * PG);
    ck_assert_uint_eq(pa.nr_free, 119);
    uint64_t n = 0, addr;
    while ((addr = pagealloc_alloc(&pa, 1, 1)) != 0) {
        ck_assert(addr < 10 * PG || addr >= 20 * PG);
        ck_assert_uint_lt(addr, 130 * PG); /* bits past the end are never handed out */
        n++;
    }
    ck_assert_uint_eq(n, 119);
    ck_assert_uint_eq(pa.nr_free, 0);
}
END_TEST

/* Heap over malloc'ed arenas, counting grow calls. */
static int grows;
static void *arenas[64];

static void *test_grow(void *ctx, size_t bytes, size_t *got)
{
    (void)ctx;
    if (grows == 64)
        return NULL;
    void *p = aligned_alloc(4096, (bytes + 4095) & ~4095UL);
    arenas[grows++] = p;
    *got = (bytes + 4095) & ~4095UL;
    return p;
}

static void free_arenas(void)
{
    for (int i = 0; i < grows; i++)
        free(arenas[i]);
    grows = 0;
}

START_TEST(test_heap_alloc_free_merge)
{
    struct heap h;
    heap_init(&h, test_grow, NULL);
    void *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = heap_alloc(&h, (size_t)(i * 7 + 1));
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq((uintptr_t)p[i] % HEAP_ALIGN, 0);
        memset(p[i], i, (size_t)(i * 7 + 1));
    }
    for (int i = 0; i < 100; i++) {
        unsigned char *c = p[i];
        for (int j = 0; j < i * 7 + 1; j++)
            ck_assert_uint_eq(c[j], (unsigned)i);
    }
    ck_assert_int_eq(grows, 1);
    for (int i = 0; i < 100; i += 2)
        ck_assert_int_eq(heap_free(&h, p[i]), 0);
    for (int i = 1; i < 100; i += 2)
        ck_assert_int_eq(heap_free(&h, p[i]), 0);
    ck_assert_uint_eq(h.bytes_in_use, 0);
    /* everything merged back: one block the size of the arena */
    void *big = heap_alloc(&h, h.bytes_total - HEAP_ALIGN);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(grows, 1);
    ck_assert_int_eq(heap_free(&h, big), 0);
    free_arenas();
}
END_TEST

START_TEST(test_heap_bad_frees_and_limits)
{
    struct heap h;
    heap_init(&h, test_grow, NULL);
    char *p = heap_alloc(&h, 32);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(heap_free(&h, p + 16), -1);
    ck_assert_int_eq(heap_free(&h, p + 1), -1);
    ck_assert_int_eq(heap_free(&h, p), 0);
    ck_assert_int_eq(heap_free(&h, p), -1);
    ck_assert_int_eq(heap_free(&h, NULL), 0);
    ck_assert_ptr_null(heap_alloc(&h, HEAP_MAX_ALLOC + 1));
    ck_assert_ptr_null(heap_calloc(&h, SIZE_MAX / 2, 4));
    free_arenas();
}
END_TEST

START_TEST(test_heap_grows_and_realloc)
{
    struct heap h;
    heap_init(&h, test_grow, NULL);
    char *a = heap_alloc(&h, 200 * 1024); /* more than one minimum arena */
    ck_assert_ptr_nonnull(a);
    memset(a, 1, 200 * 1024);
    char *b = heap_calloc(&h, 10, 10);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(b[i], 0);
    memcpy(b, "0123456789", 10);
    char *c = heap_realloc(&h, b, 5000);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(memcmp(c, "0123456789", 10), 0);
    ck_assert_int_eq(heap_free(&h, b), c == b ? 0 : -1);
    free_arenas();
}
END_TEST

START_TEST(test_heap_no_memory)
{
    struct heap h;
    heap_init(&h, NULL, NULL);
    ck_assert_ptr_null(heap_alloc(&h, 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_mm");
    TCase *tc = tcase_create("mm");
    tcase_add_test(tc, test_reserve_and_free_accounting);
    tcase_add_test(tc, test_alloc_skips_reserved);
    tcase_add_test(tc, test_exhaustion_and_reuse);
    tcase_add_test(tc, test_init_free_then_reserve_holes);
    tcase_add_test(tc, test_heap_alloc_free_merge);
    tcase_add_test(tc, test_heap_bad_frees_and_limits);
    tcase_add_test(tc, test_heap_grows_and_realloc);
    tcase_add_test(tc, test_heap_no_memory);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

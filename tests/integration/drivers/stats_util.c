/* Timing helpers (stats_util.h). */
#include "stats_util.h"

#include <stdlib.h>
#include <time.h>

uint64_t stats_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct stats_summary stats_summarize(uint64_t *v, size_t n)
{
    struct stats_summary s = { 0 };
    if (!n)
        return s;
    qsort(v, n, sizeof(*v), cmp_u64);
    s.min = v[0];
    s.median = v[n / 2];
    s.p99 = v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    s.max = v[n - 1];
    return s;
}

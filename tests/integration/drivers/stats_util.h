/* Timing helpers for the dom0 test drivers and benchmarks. */
#ifndef TANDEM_TEST_STATS_UTIL_H
#define TANDEM_TEST_STATS_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct stats_summary {
    uint64_t min, median, p99, max;
};

uint64_t stats_now_ns(void);           /* CLOCK_MONOTONIC */
/* Sorts v in place and summarizes it; all zero when n == 0. */
struct stats_summary stats_summarize(uint64_t *v, size_t n);

#endif

/*
 * The guest's app=spin loop run on the host, for the "native speed" check
 * of tests/integration/vmm_boot.sh: same loop body, same -O2.
 * Usage: vmm-hostspin N  -> prints "hostspin: n=N ns=T".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: vmm-hostspin N\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 0);
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        __asm__ __volatile__("" : : "r"(i) : "memory"); /* keeps every iteration */
    uint64_t t1 = now_ns();
    printf("hostspin: n=%llu ns=%llu\n", (unsigned long long)n, (unsigned long long)(t1 - t0));
    return 0;
}

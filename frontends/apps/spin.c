/* app=spin n=N: a tight loop timed with the guest's monotonic clock
 * (shows whether the vCPU runs natively or emulated). */
#include "apps.h"
#include "kernel.h"
#include "ktime.h"

int app_spin(const struct cmdline *cl)
{
    uint64_t n;
    char err[128];
    if (cmdline_get_u64(cl, "n", 1000000, UINT64_MAX, &n, err, sizeof(err)) < 0) {
        printk("spin: %s\n", err);
        return 1;
    }
    uint64_t t0 = monotonic_ns();
    for (uint64_t i = 0; i < n; i++)
        __asm__ __volatile__("" : : "r"(i) : "memory"); /* keeps every iteration */
    uint64_t t1 = monotonic_ns();
    printk("spin: n=%llu ns=%llu\n", (unsigned long long)n, (unsigned long long)(t1 - t0));
    return 0;
}

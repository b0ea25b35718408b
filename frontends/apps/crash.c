/* app=crash: faults on purpose; the arch layer reports it and the domain
 * ends as crashed (tandem-vmm exit status 5). */
#include "apps.h"
#include "kernel.h"

int app_crash(const struct cmdline *cl)
{
    const char *how = cmdline_get(cl, "how");
    printk("crash: faulting on purpose (how=%s)\n", how ? how : "write");
    if (how && strcmp(how, "panic") == 0)
        panic("crash: panic requested");
    /* A non-canonical address: #GP on any CPU mode, no page tables involved. */
    volatile uint64_t *bad = (volatile uint64_t *)0xdead000000000000ULL;
    if (how && strcmp(how, "unmapped") == 0)
        bad = (volatile uint64_t *)0x7fff00000000ULL; /* above the 4 GiB identity map: #PF */
    *bad = 0x42;
    printk("crash: the write did not fault!\n");
    return 1;
}

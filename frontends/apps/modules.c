/* app=modules: lists start_info's boot modules (docs/abi.md "Boot") with an
 * FNV-1a checksum of each, so a test can compare what the guest sees with
 * the file it gave tandem-vmm --ramdisk. */
#include "apps.h"
#include "kernel.h"
#include "platform.h"

static uint32_t fnv1a(const uint8_t *p, uint64_t n)
{
    uint32_t h = 2166136261u;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int app_modules(const struct cmdline *cl)
{
    (void)cl;
    printk("modules: %u\n", platform.nr_modules);
    for (unsigned int i = 0; i < platform.nr_modules; i++) {
        const struct mem_range *m = &platform.modules[i];
        printk("module %u: paddr=%#llx size=%llu fnv1a=%08x\n", i, (unsigned long long)m->start,
               (unsigned long long)(m->end - m->start),
               fnv1a(phys_to_virt(m->start), m->end - m->start));
    }
    return 0;
}

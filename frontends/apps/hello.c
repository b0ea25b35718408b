/* app=hello: the smallest end-to-end check of boot, FDT and console. */
#include "apps.h"
#include "kernel.h"
#include "platform.h"

int app_hello(const struct cmdline *cl)
{
    (void)cl;
    printk("hello from tandem guest\n");
    printk("domid=%u memory=%lluMiB vcpus=%u\n", platform.domid,
           (unsigned long long)(platform.memory >> 20), platform.nr_cpus);
    return 0;
}

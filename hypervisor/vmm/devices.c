/*
 * The domain's devices (docs/vmm.md "Devices"): the I/O bus and, per
 * platform, the list of device models (one file each in dev/) that
 * register their port and MMIO ranges on it. The vCPU exit handler
 * (vcpu.c) sends every port and MMIO exit to the bus; what no device
 * holds is logged and dropped there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev/platform_devs.h"
#include "iobus.h"
#include "vmm.h"

/* The PC's own models are created by pc.c (they need the loop and the
 * console first); here, what it shares with the others. */
enum { ON_TANDEM = 1, ON_XEN_HVM = 2, ON_PC = 4, ON_ALL = ON_TANDEM | ON_XEN_HVM };

struct device {
    const char *name;
    int (*init)(struct vm *vm);
    unsigned int platforms;
};

static const struct device devices[] = {
    { "hypercall-port", hypercall_port_init, ON_ALL },
    { "doorbell", doorbell_init, ON_ALL },
    { "debugcon", debugcon_init, ON_ALL | ON_PC },
    { "post-port", post_port_init, ON_ALL | ON_PC },
    { "acpi-pm", acpi_pm_init, ON_XEN_HVM },
    { "pit-absent", pit_absent_init, ON_XEN_HVM },
};

int dev_register(struct vm *vm, enum iobus_space space, uint64_t base, uint64_t len, iobus_fn fn,
                 void *opaque, const char *name)
{
    struct iobus_range r = { .space = space, .base = base, .len = len, .fn = fn,
                             .opaque = opaque, .name = name };
    if (iobus_register(vm->bus, &r) == 0)
        return 0;
    fprintf(stderr, "tandem-vmm: device %s: cannot register %s %#llx+%#llx: %s\n", name,
            space == IOBUS_PIO ? "ports" : "MMIO", (unsigned long long)base,
            (unsigned long long)len, strerror(errno));
    return -1;
}

int devices_init(struct vm *vm)
{
    unsigned int platform = vm->pc_platform ? ON_PC : vm->xen_hvm ? ON_XEN_HVM : ON_TANDEM;
    vm->bus = iobus_new();
    if (!vm->bus) {
        fprintf(stderr, "tandem-vmm: the I/O bus: %s\n", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if ((devices[i].platforms & platform) && devices[i].init(vm))
            return -1;
    return 0;
}

/* After the vCPU threads have ended. */
void devices_close(struct vm *vm)
{
    iobus_free(vm->bus);
    vm->bus = NULL;
}

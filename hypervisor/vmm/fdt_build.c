/*
 * Device-tree builder (libfdt sequential-write API). The hypervisor node
 * comes first: the guest looks it up while still running in the (slow) KVM
 * instruction emulator, and a lookup walks the nodes in order.
 */
#include <libfdt.h>
#include <stdio.h>

#include "fdt_build.h"
#include "public/tandem.h"

#define TRY(x)             \
    do {                   \
        int _r = (x);      \
        if (_r < 0)        \
            return _r;     \
    } while (0)

static int prop_u64(void *fdt, const char *name, uint64_t v)
{
    return fdt_property_u64(fdt, name, v);
}

static int prop_reg(void *fdt, const char *name, uint64_t addr, uint64_t size)
{
    fdt64_t cells[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };
    return fdt_property(fdt, name, cells, sizeof(cells));
}

static int ring_node(void *fdt, const char *name, uint64_t gpa, uint32_t port)
{
    TRY(fdt_begin_node(fdt, name));
    TRY(prop_u64(fdt, TANDEM_FDT_PROP_RING, gpa));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_EVTCHN, port));
    return fdt_end_node(fdt);
}

static int hypervisor_node(void *fdt, const struct fdt_params *p)
{
    TRY(fdt_begin_node(fdt, "hypervisor"));
    TRY(fdt_property_string(fdt, "compatible", TANDEM_FDT_HV_COMPATIBLE));
    TRY(fdt_property_string(fdt, TANDEM_FDT_PROP_CPU_MODE, p->cpu_mode));
    TRY(prop_u64(fdt, TANDEM_FDT_PROP_HCALL_PAGE, TANDEM_HYPERCALL_PAGE_GPA));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_VERSION, TANDEM_XEN_VERSION));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_DOMID, p->domid));
    TRY(fdt_property_string(fdt, TANDEM_FDT_PROP_UUID, p->uuid));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_TSC_KHZ, p->tsc_khz));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_HCALL_PORT, TANDEM_HYPERCALL_PORT));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_DOORBELL, TANDEM_DOORBELL_PORT));
    TRY(prop_reg(fdt, TANDEM_FDT_PROP_PHYSMAP, TANDEM_PHYSMAP_GPA, TANDEM_PHYSMAP_SIZE));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_GNT_FRAMES,
                         p->grant_frames ? p->grant_frames : TANDEM_DEFAULT_GRANT_FRAMES));
    TRY(prop_u64(fdt, TANDEM_FDT_PROP_LAPIC, TANDEM_LAPIC_GPA));
    TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_UPCALL_VEC, TANDEM_UPCALL_VECTOR));
    TRY(ring_node(fdt, "xenstore", TANDEM_XENSTORE_RING_GPA, TANDEM_XENSTORE_PORT));
    TRY(ring_node(fdt, "console", TANDEM_CONSOLE_RING_GPA, TANDEM_CONSOLE_PORT));
    return fdt_end_node(fdt);
}

static int cpus_node(void *fdt, unsigned int vcpus)
{
    TRY(fdt_begin_node(fdt, "cpus"));
    TRY(fdt_property_u32(fdt, "#address-cells", 1));
    TRY(fdt_property_u32(fdt, "#size-cells", 0));
    for (unsigned int i = 0; i < vcpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu@%u", i);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "device_type", "cpu"));
        TRY(fdt_property_u32(fdt, "reg", i));
        TRY(fdt_end_node(fdt));
    }
    return fdt_end_node(fdt);
}

int fdt_build(void *buf, size_t size, const struct fdt_params *p)
{
    void *fdt = buf;
    TRY(fdt_create(fdt, (int)size));
    TRY(fdt_finish_reservemap(fdt));
    TRY(fdt_begin_node(fdt, ""));
    TRY(fdt_property_string(fdt, "compatible", TANDEM_FDT_COMPATIBLE));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(hypervisor_node(fdt, p));
    TRY(fdt_begin_node(fdt, "chosen"));
    TRY(fdt_property_string(fdt, "bootargs", p->cmdline ? p->cmdline : ""));
    TRY(fdt_end_node(fdt));
    TRY(fdt_begin_node(fdt, "memory@0"));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    TRY(prop_reg(fdt, "reg", 0, p->ram_size));
    TRY(fdt_end_node(fdt));
    TRY(cpus_node(fdt, p->vcpus));
    TRY(fdt_end_node(fdt));
    return fdt_finish(fdt);
}

/*
 * Device-tree builder (libfdt sequential-write API). The hypervisor node
 * comes first: the guest looks it up while still running in the (slow) KVM
 * instruction emulator, and a lookup walks the nodes in order.
 */
#include <libfdt.h>
#include <stdio.h>

#include "fdt_build.h"
#include "public/tandem.h"


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
    FDT_TRY(fdt_begin_node(fdt, name));
    FDT_TRY(prop_u64(fdt, TANDEM_FDT_PROP_RING, gpa));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_EVTCHN, port));
    return fdt_end_node(fdt);
}

static int hypervisor_node(void *fdt, const struct fdt_params *p)
{
    FDT_TRY(fdt_begin_node(fdt, "hypervisor"));
    FDT_TRY(fdt_property_string(fdt, "compatible", TANDEM_FDT_HV_COMPATIBLE));
    FDT_TRY(fdt_property_string(fdt, TANDEM_FDT_PROP_CPU_MODE, p->cpu_mode));
    FDT_TRY(prop_u64(fdt, TANDEM_FDT_PROP_HCALL_PAGE, TANDEM_HYPERCALL_PAGE_GPA));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_VERSION, TANDEM_XEN_VERSION));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_DOMID, p->domid));
    FDT_TRY(fdt_property_string(fdt, TANDEM_FDT_PROP_UUID, p->uuid));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_TSC_KHZ, p->tsc_khz));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_HCALL_PORT, TANDEM_HYPERCALL_PORT));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_DOORBELL, TANDEM_DOORBELL_PORT));
    FDT_TRY(prop_reg(fdt, TANDEM_FDT_PROP_PHYSMAP, TANDEM_PHYSMAP_GPA, TANDEM_PHYSMAP_SIZE));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_GNT_FRAMES,
                         p->grant_frames ? p->grant_frames : TANDEM_DEFAULT_GRANT_FRAMES));
    FDT_TRY(prop_u64(fdt, TANDEM_FDT_PROP_LAPIC, TANDEM_LAPIC_GPA));
    FDT_TRY(fdt_property_u32(fdt, TANDEM_FDT_PROP_UPCALL_VEC, TANDEM_UPCALL_VECTOR));
    FDT_TRY(ring_node(fdt, "xenstore", TANDEM_XENSTORE_RING_GPA, TANDEM_XENSTORE_PORT));
    FDT_TRY(ring_node(fdt, "console", TANDEM_CONSOLE_RING_GPA, TANDEM_CONSOLE_PORT));
    return fdt_end_node(fdt);
}

static int cpus_node(void *fdt, unsigned int vcpus)
{
    FDT_TRY(fdt_begin_node(fdt, "cpus"));
    FDT_TRY(fdt_property_u32(fdt, "#address-cells", 1));
    FDT_TRY(fdt_property_u32(fdt, "#size-cells", 0));
    for (unsigned int i = 0; i < vcpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu@%u", i);
        FDT_TRY(fdt_begin_node(fdt, name));
        FDT_TRY(fdt_property_string(fdt, "device_type", "cpu"));
        FDT_TRY(fdt_property_u32(fdt, "reg", i));
        FDT_TRY(fdt_end_node(fdt));
    }
    return fdt_end_node(fdt);
}

int fdt_build(void *buf, size_t size, const struct fdt_params *p)
{
    void *fdt = buf;
    FDT_TRY(fdt_create(fdt, (int)size));
    FDT_TRY(fdt_finish_reservemap(fdt));
    FDT_TRY(fdt_begin_node(fdt, ""));
    FDT_TRY(fdt_property_string(fdt, "compatible", TANDEM_FDT_COMPATIBLE));
    FDT_TRY(fdt_property_u32(fdt, "#address-cells", 2));
    FDT_TRY(fdt_property_u32(fdt, "#size-cells", 2));
    FDT_TRY(hypervisor_node(fdt, p));
    FDT_TRY(fdt_begin_node(fdt, "chosen"));
    FDT_TRY(fdt_property_string(fdt, "bootargs", p->cmdline ? p->cmdline : ""));
    FDT_TRY(fdt_end_node(fdt));
    FDT_TRY(fdt_begin_node(fdt, "memory@0"));
    FDT_TRY(fdt_property_string(fdt, "device_type", "memory"));
    FDT_TRY(prop_reg(fdt, "reg", 0, p->ram_size));
    FDT_TRY(fdt_end_node(fdt));
    FDT_TRY(cpus_node(fdt, p->vcpus));
    FDT_TRY(fdt_end_node(fdt));
    return fdt_finish(fdt);
}

/*
 * PVH boot data in guest memory (docs/abi.md "Fixed low layout"):
 * start_info + modlist + memmap at 0x1000, command line at 0x2000; then
 * vCPU 0's entry state. The modules and the rest depend on the platform
 * (docs/vmm.md "Platforms"): a Tandem guest gets the FDT at 0x10000 as
 * module 0 (then the ramdisk) and the hypercall page at 0xFC000000; a
 * Xen HVM guest (Linux) gets what Xen gives it: the ramdisk as module 0,
 * no FDT, and ACPI tables (rsdp_paddr).
 */
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "fdt_build.h"
#include "public/hvm/start_info.h"
#include "vmm.h"

#define BOOT_MAX_MODULES 2

struct boot_block {
    struct hvm_start_info si;
    struct hvm_modlist_entry mod[BOOT_MAX_MODULES];
    struct hvm_memmap_table_entry map[3];
};

_Static_assert(sizeof(struct boot_block) <= TANDEM_CMDLINE_GPA - TANDEM_START_INFO_GPA,
               "boot block fits below the command line");

/* The one place that decides which modules the guest gets, in what order
 * (docs/abi.md): a Tandem guest gets the FDT, then the ramdisk (--ramdisk)
 * if there is one; a Xen HVM guest (Linux) gets the ramdisk alone, as the
 * initrd Linux takes from module 0. */
static unsigned int boot_modules(const struct vm *vm, uint64_t fdt_size,
                                 struct hvm_modlist_entry mod[BOOT_MAX_MODULES])
{
    unsigned int n = 0;
    if (!vm->xen_hvm)
        mod[n++] = (struct hvm_modlist_entry){ .paddr = TANDEM_FDT_GPA, .size = fdt_size };
    if (vm->ramdisk_size)
        mod[n++] = (struct hvm_modlist_entry){ .paddr = vm->ramdisk_gpa, .size = vm->ramdisk_size };
    return n;
}

static void write_boot_block(struct vm *vm, uint64_t fdt_size, uint64_t rsdp)
{
    struct boot_block *b = (struct boot_block *)(vm->mem + TANDEM_START_INFO_GPA);
    uint64_t base = TANDEM_START_INFO_GPA;
    memset(b, 0, sizeof(*b));
    unsigned int nmod = boot_modules(vm, fdt_size, b->mod);
    b->si = (struct hvm_start_info){
        .magic = XEN_HVM_START_MAGIC_VALUE,
        .version = 1,
        .nr_modules = nmod,
        .modlist_paddr = nmod ? base + offsetof(struct boot_block, mod) : 0,
        .cmdline_paddr = TANDEM_CMDLINE_GPA,
        .rsdp_paddr = rsdp,
        .memmap_paddr = base + offsetof(struct boot_block, map),
        .memmap_entries = 3,
    };
    b->map[0] = (struct hvm_memmap_table_entry){ 0, vm->ram_size, XEN_HVM_MEMMAP_TYPE_RAM, 0 };
    b->map[1] = (struct hvm_memmap_table_entry){ TANDEM_REGION_GPA, TANDEM_REGION_SIZE,
                                                 XEN_HVM_MEMMAP_TYPE_RESERVED, 0 };
    b->map[2] = (struct hvm_memmap_table_entry){ TANDEM_LAPIC_GPA, XEN_PAGE_SIZE,
                                                 XEN_HVM_MEMMAP_TYPE_RESERVED, 0 };
}

/* Tandem platform: the device tree of docs/abi.md. Returns its size. */
static long tandem_boot_data(struct vm *vm)
{
    const struct vmm_config *cfg = vm->cfg;
    hypercall_page_fill(vm->mem + vm_region_offset(vm, TANDEM_HYPERCALL_PAGE_GPA));
    struct fdt_params p = {
        .ram_size = vm->ram_size,
        .vcpus = vm->nr_vcpus,
        .cmdline = cfg->cmdline,
        .domid = cfg->domid,
        .uuid = cfg->uuid,
        .cpu_mode = vm->pvm ? TANDEM_CPU_MODE_PVM : TANDEM_CPU_MODE_PLAIN,
        .tsc_khz = vm->tsc_khz,
        .grant_frames = cfg->grant_frames,
    };
    int r = fdt_build(vm->mem + TANDEM_FDT_GPA, TANDEM_FDT_MAX, &p);
    if (r < 0) {
        fprintf(stderr, "tandem-vmm: building the device tree failed (%d)\n", r);
        return -1;
    }
    return TANDEM_FDT_MAX;
}

/* Xen HVM platform: ACPI tables in the platform region. Returns the RSDP's
 * address. */
static long xen_boot_data(struct vm *vm)
{
    if (acpi_build(vm->mem + vm_region_offset(vm, TANDEM_ACPI_GPA), TANDEM_ACPI_GPA,
                   TANDEM_ACPI_SIZE, vm->nr_vcpus) < 0) {
        fprintf(stderr, "tandem-vmm: the ACPI tables do not fit\n");
        return -1;
    }
    return (long)TANDEM_ACPI_GPA;
}

int boot_setup(struct vm *vm, uint32_t entry)
{
    snprintf((char *)vm->mem + TANDEM_CMDLINE_GPA, TANDEM_CMDLINE_MAX, "%s", vm->cfg->cmdline);
    long r = vm->xen_hvm ? xen_boot_data(vm) : tandem_boot_data(vm);
    if (r < 0)
        return -1;
    if (vm->xen_hvm)
        write_boot_block(vm, 0, (uint64_t)r);
    else
        write_boot_block(vm, (uint64_t)r, 0);
    /* shared_info sits at its default page until the guest moves it, so
     * events raised before that are not lost. */
    pthread_mutex_lock(&vm->lock);
    vm->shared_info_gpa = TANDEM_DEFAULT_SHARED_INFO_GPA;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        pvclock_update_vcpu(vm, &vm->vcpus[i]);
    pvclock_update_wallclock(vm);
    pthread_mutex_unlock(&vm->lock);
    evtchn_init(vm);
    return vcpu_set_boot_state(&vm->vcpus[0], entry, TANDEM_START_INFO_GPA);
}

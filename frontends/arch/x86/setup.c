/*
 * First C code of the guest (boot vCPU): per-CPU state and FS base, the
 * device tree's hypervisor node (CPU mode, hypercall page), the CPU-mode
 * switch, the IDT, then kernel_main on the boot stack with interrupts off.
 */
#include <stdint.h>

#include "arch.h"
#include "hypercall.h"
#include "kernel.h"
#include "percpu.h"
#include "public/hvm/start_info.h"
#include "public/sched.h"
#include "public/tandem.h"

/* The libfdt calls we make (from Debian's libfdt.a). */
int fdt_check_header(const void *fdt);
int fdt_path_offset(const void *fdt, const char *path);
const void *fdt_getprop(const void *fdt, int node, const char *name, int *lenp);

void arch_start(uint32_t start_info_pa);

char *hypercall_page = (char *)(uintptr_t)TANDEM_HYPERCALL_PAGE_GPA;
struct percpu percpu_area[ARCH_MAX_CPUS];
static const void *boot_fdt;

/* Software-enable the local APIC (spurious vector 0xff), or disable it:
 * a disabled LAPIC takes no fixed interrupt at all. */
void lapic_set_enabled(bool on)
{
    *(volatile uint32_t *)(uintptr_t)(TANDEM_LAPIC_GPA + 0xf0) = on ? 0x1ff : 0xff;
}

void lapic_enable(void)
{
    lapic_set_enabled(true);
}

void percpu_init(int cpu)
{
    struct percpu *p = &percpu_area[cpu];
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    p->self = p;
    p->cpu_id = (uint64_t)cpu;
    p->canary = (((uint64_t)hi << 32 | lo) * 0x9E3779B97F4A7C15ULL) & ~0xFFULL;
    wrmsr(MSR_FS_BASE, (uint64_t)(uintptr_t)p);
}

int arch_cpu_id(void)
{
    uint64_t id;
    __asm__ __volatile__("mov %%fs:%c1, %0" : "=r"(id) : "i"(PERCPU_CPU_ID));
    return (int)id;
}

uint64_t arch_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

const void *arch_fdt(void)
{
    return boot_fdt;
}

static uint64_t be64_cells(const void *p)
{
    const uint32_t *c = p;
    return (uint64_t)__builtin_bswap32(c[0]) << 32 | __builtin_bswap32(c[1]);
}

static const void *find_fdt(const struct hvm_start_info *si)
{
    if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE || si->nr_modules < 1 || !si->modlist_paddr)
        return 0;
    const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
    const void *fdt = (const void *)(uintptr_t)m[0].paddr;
    return fdt_check_header(fdt) == 0 ? fdt : 0;
}

/* Reads the platform description we need before anything else runs. */
static int read_hypervisor_node(const void *fdt)
{
    int node = fdt_path_offset(fdt, TANDEM_FDT_HV_NODE);
    if (node < 0)
        return 0;
    int len;
    const void *hp = fdt_getprop(fdt, node, TANDEM_FDT_PROP_HCALL_PAGE, &len);
    if (hp && len == 8)
        hypercall_page = (char *)(uintptr_t)be64_cells(hp);
    const char *mode = fdt_getprop(fdt, node, TANDEM_FDT_PROP_CPU_MODE, &len);
    return mode && len == 4 && mode[0] == 'p' && mode[1] == 'v' && mode[2] == 'm' && !mode[3];
}

/* Bring-up fallback, replaced by the kernel's kernel_main. */
__attribute__((weak)) void kernel_main(const struct hvm_start_info *si)
{
    (void)si;
    printk("tandem arch: no kernel_main linked, cpu-mode %s, powering off\n", arch_cpu_mode());
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

void arch_start(uint32_t start_info_pa)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_pa;
    percpu_init(0);
    boot_fdt = find_fdt(si);
    int pvm = boot_fdt ? read_hypervisor_node(boot_fdt) : 0;
    cpumode_init(pvm);
    cpumode_cpu_init(0);
    traps_init();
    traps_load();
    lapic_enable();
    kernel_main(si);
    static const char msg[] = "tandem arch: kernel_main returned\n";
    HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg);
    struct sched_shutdown sd = { .reason = SHUTDOWN_crash };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

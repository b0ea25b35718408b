/*
 * Secondary vCPUs: VCPUOP_initialise with Tandem's 64-bit start context
 * (docs/abi.md) pointing at ap_entry64 in boot.S, then VCPUOP_up.
 */
#include <stdint.h>

#include "arch.h"
#include "hypercall.h"
#include "percpu.h"
#include "public/tandem.h"
#include "public/vcpu.h"

struct ap_boot {
    void (*entry)(void *);
    void *arg;
};

void ap_start(uint64_t cpu, struct ap_boot *b);
extern char ap_entry64[], pml4[];

static struct ap_boot ap_boot[ARCH_MAX_CPUS];
static uint8_t ap_stacks[ARCH_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));

int arch_cpu_up(int cpu, void (*entry)(void *), void *arg)
{
    if (cpu <= 0 || cpu >= ARCH_MAX_CPUS || !entry)
        return -22; /* -EINVAL */
    ap_boot[cpu].entry = entry;
    ap_boot[cpu].arg = arg;
    struct tandem_vcpu_context ctx = {
        .rip = (uint64_t)(uintptr_t)ap_entry64,
        .rsp = (uint64_t)(uintptr_t)(ap_stacks[cpu] + AP_STACK_SIZE),
        .cr3 = (uint64_t)(uintptr_t)pml4,
        .rdi = (uint64_t)cpu,
        .rsi = (uint64_t)(uintptr_t)&ap_boot[cpu],
        .flags = 0,
    };
    long r = HYPERVISOR_vcpu_op(VCPUOP_initialise, cpu, &ctx);
    if (r)
        return (int)r;
    return (int)HYPERVISOR_vcpu_op(VCPUOP_up, cpu, 0);
}

void ap_start(uint64_t cpu, struct ap_boot *b)
{
    percpu_init((int)cpu);
    cpumode_cpu_init((int)cpu);
    traps_load();
    lapic_enable();
    b->entry(b->arg);
    HYPERVISOR_vcpu_op(VCPUOP_down, (int)cpu, 0);
    for (;;)
        arch_idle();
}

/*
 * Per-vCPU state of the arch layer, reached through the FS base (set first
 * thing on every vCPU). libfdt and any stack-protected code read the stack
 * canary at %fs:0x28, so that offset is fixed.
 */
#ifndef TANDEM_ARCH_X86_PERCPU_H
#define TANDEM_ARCH_X86_PERCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "asm.h"

struct percpu {
    struct percpu *self;   /* 0x00 */
    uint64_t cpu_id;       /* 0x08 */
    volatile uint8_t *vif; /* 0x10: PVM VIF page (NULL in plain mode) */
    uint64_t reserved[2];  /* 0x18 */
    uint64_t canary;       /* 0x28: stack protector */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct percpu, cpu_id) == PERCPU_CPU_ID, "percpu cpu_id");
_Static_assert(offsetof(struct percpu, vif) == PERCPU_VIF, "percpu vif");
_Static_assert(offsetof(struct percpu, canary) == PERCPU_CANARY, "percpu canary");

extern struct percpu percpu_area[ARCH_MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ __volatile__("mov %%fs:0, %0" : "=r"(p));
    return p;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                         : "memory");
}

/* Points FS at this vCPU's block; must precede any libfdt call. */
void percpu_init(int cpu);
void lapic_enable(void);
void lapic_set_enabled(bool on);

/* CPU-mode layer (cpumode.c) */
void cpumode_init(int pvm);
void cpumode_cpu_init(int cpu);

/* traps.c */
void traps_init(void);
void traps_load(void);

#endif

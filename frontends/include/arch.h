/*
 * The x86 arch layer of the Tandem guest kernel (frontends/arch/x86): what
 * the rest of the kernel may ask of the CPU. Implemented for two CPU modes
 * chosen by the VMM's device tree (`hypervisor/cpu-mode`):
 *   pvm   - native execution on PVM hosts: interrupts are gated by the VIF
 *           byte of a per-vCPU page registered in MSR 0x4b564d10;
 *   plain - an ordinary ring-0 kernel (cli/sti/hlt).
 *
 * Boot: the PVH entry (boot.S) builds long mode, the GDT/IDT and per-CPU
 * state, then calls kernel_main(si) on the boot stack with interrupts
 * disabled. Exceptions print the registers, the fault address and a
 * backtrace with printk and shut the domain down with SHUTDOWN_crash.
 */
#ifndef TANDEM_GUEST_ARCH_H
#define TANDEM_GUEST_ARCH_H

#include <stdint.h>

struct hvm_start_info;

/* Provided by the kernel (G); arch has a weak fallback for bring-up. */
void kernel_main(const struct hvm_start_info *si);

/* Interrupts on this vCPU. save returns a token for restore (nonzero =
 * interrupts were enabled). */
void arch_irq_disable(void);
void arch_irq_enable(void);
unsigned long arch_irq_save(void);
void arch_irq_restore(unsigned long flags);
int arch_irqs_enabled(void);

/* Called with interrupts disabled: atomically enables them and waits for
 * one; returns with interrupts disabled after the handlers have run. */
void arch_idle(void);

/* Installs an interrupt gate for vector (>= 32). The stub saves every
 * register, calls handler (interrupts disabled), EOIs the local APIC and
 * returns with iretq. handler == NULL removes it. */
void arch_set_upcall(uint8_t vector, void (*handler)(void));

uint64_t arch_rdtsc(void);

/* This vCPU's number (0 = boot vCPU). */
int arch_cpu_id(void);

/* Starts vCPU cpu (VCPUOP_initialise + VCPUOP_up): it runs entry(arg) on
 * its own stack with interrupts disabled and its own per-CPU state;
 * entry must not return. Returns 0 or a negative errno. */
int arch_cpu_up(int cpu, void (*entry)(void *), void *arg);
#define ARCH_MAX_CPUS 32

/* Prints a frame-pointer backtrace of the caller with printk. */
void arch_backtrace(void);

/* "pvm" or "plain". */
const char *arch_cpu_mode(void);

/* The FDT handed over at boot (first PVH module), or NULL. */
const void *arch_fdt(void);

#endif

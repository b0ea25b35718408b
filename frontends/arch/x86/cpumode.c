/*
 * The CPU-mode layer: the only place where the two ways of running differ.
 *
 * pvm:   the vCPU runs natively at hardware CPL 3 on a PVM host once its
 *        VIF page is registered in MSR 0x4b564d10. Interrupts are gated by
 *        VIF byte 0 (cli/sti/popf do nothing); byte 1 is set by the host
 *        when an interrupt waits, and any exit (out to port 0x80) lets it
 *        inject. Idle is the host's halt hypercall (int $0x1b, rax 0x1009).
 * plain: an ordinary ring-0 kernel (cli, sti, sti;hlt).
 */
#include <stdint.h>

#include "arch.h"
#include "percpu.h"
#include "public/tandem.h"
#include "traps.h"

static int mode_pvm;
static uint8_t vif_pages[ARCH_MAX_CPUS][4096] __attribute__((aligned(4096)));

void cpumode_init(int pvm)
{
    mode_pvm = pvm;
}

/* Runs on each vCPU after percpu_init; in pvm mode the vCPU is native from
 * the next instruction on, with interrupts disabled (VIF byte 0 = 0). */
void cpumode_cpu_init(int cpu)
{
    if (!mode_pvm)
        return;
    struct percpu *p = this_cpu();
    p->vif = vif_pages[cpu];
    p->vif[0] = 0;
    wrmsr(PVM_MSR_VIF, (uint64_t)(uintptr_t)vif_pages[cpu]);
}

const char *arch_cpu_mode(void)
{
    return mode_pvm ? TANDEM_CPU_MODE_PVM : TANDEM_CPU_MODE_PLAIN;
}

static inline volatile uint8_t *vif(void)
{
    volatile uint8_t *v;
    __asm__ __volatile__("mov %%fs:%c1, %0" : "=r"(v) : "i"(PERCPU_VIF));
    return v;
}

void arch_irq_disable(void)
{
    if (mode_pvm) {
        vif()[0] = 0;
        __asm__ __volatile__("" ::: "memory");
    } else {
        __asm__ __volatile__("cli" ::: "memory");
    }
}

void arch_irq_enable(void)
{
    if (mode_pvm) {
        volatile uint8_t *v = vif();
        __asm__ __volatile__("" ::: "memory");
        v[0] = 1;
        __asm__ __volatile__("" ::: "memory");
        if (v[1]) /* an interrupt waits: an exit lets the host inject it */
            __asm__ __volatile__("outb %%al, $0x80" ::: "memory");
    } else {
        __asm__ __volatile__("sti" ::: "memory");
    }
}

int arch_irqs_enabled(void)
{
    if (mode_pvm)
        return vif()[0] != 0;
    uint64_t fl;
    __asm__ __volatile__("pushfq; pop %0" : "=r"(fl));
    return (fl >> 9) & 1;
}

unsigned long arch_irq_save(void)
{
    unsigned long was = (unsigned long)arch_irqs_enabled();
    arch_irq_disable();
    return was;
}

void arch_irq_restore(unsigned long flags)
{
    if (flags)
        arch_irq_enable();
    else
        arch_irq_disable();
}

/*
 * pvm: enabling VIF and halting are two steps; an interrupt taken between
 * them would leave us asleep with its wake-up already consumed, so
 * irq_dispatch moves a return address inside [idle_window_start,
 * idle_window_end) to idle_window_end.
 *
 * plain: `sti; hlt` is one step on hardware (sti's interrupt shadow
 * covers the hlt), but a hypervisor may deliver an interrupt with the
 * return address still on the hlt: the handler's wake-up is consumed and
 * the iret halts the vCPU with nothing left to wake it. Seen under KVM in
 * QEMU's TCG SVM (tests/vm): blkbench stopped with every response on the
 * ring, its thread runnable, the vCPU halted. irq_dispatch moves a return
 * address on the hlt (the window [plain_idle_hlt, plain_idle_end)) past it.
 */
__attribute__((noinline)) void arch_idle(void)
{
    if (!mode_pvm) {
        __asm__ __volatile__("sti\n"
                             ".globl plain_idle_hlt\n"
                             "plain_idle_hlt:\n\t"
                             "hlt\n"
                             ".globl plain_idle_end\n"
                             "plain_idle_end:\n\t"
                             "cli" ::: "memory");
        return;
    }
    volatile uint8_t *v = vif();
    __asm__ __volatile__("movb $1, (%[v])\n\t"
                         ".globl idle_window_start\n"
                         "idle_window_start:\n\t"
                         "cmpb $0, 1(%[v])\n\t"
                         "jne 1f\n\t"
                         "mov %[hc], %%eax\n\t"
                         "int %[vec]\n"
                         ".globl idle_window_end\n"
                         "idle_window_end:\n\t"
                         "jmp 2f\n"
                         "1:\n\t"
                         "outb %%al, $0x80\n"
                         "2:\n\t"
                         "movb $0, (%[v])"
                         :
                         : [v] "r"(v), [hc] "i"(PVM_HC_HALT), [vec] "i"(PVM_HC_VECTOR)
                         : "rax", "rbx", "rcx", "rdx", "memory");
}

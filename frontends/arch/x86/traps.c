/*
 * IDT, exception reports and interrupt dispatch. An exception is fatal: it
 * prints the registers, the fault address and a frame-pointer backtrace and
 * shuts the domain down as crashed (the VMM exits with status 5).
 */
#include <stdint.h>

#include "arch.h"
#include "hypercall.h"
#include "kernel.h"
#include "percpu.h"
#include "public/sched.h"
#include "public/tandem.h"
#include "traps.h"

struct idt_gate {
    uint16_t off_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t zero;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "idt gate");

#define IDT_INTERRUPT_GATE 0x8E
#define VECTOR_STUB_SIZE 16

static struct idt_gate idt[256] __attribute__((aligned(16)));
static void (*upcall_handlers[256])(void);
static volatile int in_trap[ARCH_MAX_CPUS];
extern char vector_stubs[];

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved", "x87 error", "alignment check", "machine check",
    "SIMD error", "virtualization", "control protection", "reserved", "reserved",
    "reserved", "reserved", "reserved", "reserved", "hypervisor injection",
    "VMM communication", "security", "reserved",
};

static void set_gate(int vec, uint64_t addr)
{
    struct idt_gate *g = &idt[vec];
    g->off_lo = (uint16_t)addr;
    g->selector = GDT_CODE64;
    g->ist = 0;
    g->type = IDT_INTERRUPT_GATE;
    g->off_mid = (uint16_t)(addr >> 16);
    g->off_hi = (uint32_t)(addr >> 32);
    g->zero = 0;
}

void traps_init(void)
{
    for (int v = 0; v < 256; v++)
        set_gate(v, (uint64_t)(uintptr_t)(vector_stubs + v * VECTOR_STUB_SIZE));
}

void traps_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ __volatile__("lidt %0" ::"m"(idtr));
}

static uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void crash_now(void)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_crash };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

/* Frame-pointer walk: [rbp] = caller's rbp, [rbp + 8] = return address. */
static void backtrace_from(uint64_t rbp)
{
    for (int depth = 0; depth < 32 && rbp; depth++) {
        if ((rbp & 7) || rbp < 0x1000 || rbp >= (1ULL << 32) - 16)
            break;
        const uint64_t *fp = (const uint64_t *)(uintptr_t)rbp;
        if (!fp[1])
            break;
        printk("  [%d] %#lx\n", depth, (unsigned long)fp[1]);
        if (fp[0] <= rbp)
            break;
        rbp = fp[0];
    }
}

void arch_backtrace(void)
{
    printk("backtrace:\n");
    backtrace_from((uint64_t)(uintptr_t)__builtin_frame_address(0));
}

void trap_handler(struct trap_frame *f)
{
    int cpu = arch_cpu_id();
    if (cpu < 0 || cpu >= ARCH_MAX_CPUS || in_trap[cpu]++)
        crash_now(); /* fault while reporting a fault */
    uint64_t cr2 = f->vector == 14 ? read_cr2() : 0;
    printk("\n*** guest exception %lu (%s) on vCPU %d, error %#lx\n", (unsigned long)f->vector,
           exception_names[f->vector & 31], cpu, (unsigned long)f->error);
    if (f->vector == 14)
        printk("fault address (cr2): %#lx\n", (unsigned long)cr2);
    printk("rip %016lx  rsp %016lx  rflags %016lx  cs %04lx ss %04lx\n", (unsigned long)f->rip,
           (unsigned long)f->rsp, (unsigned long)f->rflags, (unsigned long)f->cs,
           (unsigned long)f->ss);
    printk("rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", (unsigned long)f->rax,
           (unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
    printk("rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", (unsigned long)f->rsi,
           (unsigned long)f->rdi, (unsigned long)f->rbp, (unsigned long)f->r8);
    printk("r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", (unsigned long)f->r9,
           (unsigned long)f->r10, (unsigned long)f->r11, (unsigned long)f->r12);
    printk("r13 %016lx  r14 %016lx  r15 %016lx\n", (unsigned long)f->r13, (unsigned long)f->r14,
           (unsigned long)f->r15);
    printk("backtrace:\n  [-] %#lx\n", (unsigned long)f->rip);
    backtrace_from(f->rbp);
    crash_now();
}

void irq_dispatch(struct trap_frame *f)
{
    /* Interrupted between enabling and halting in arch_idle: skip the halt,
     * the wake-up it waits for has just happened. */
    if (f->rip >= (uint64_t)(uintptr_t)idle_window_start &&
        f->rip < (uint64_t)(uintptr_t)idle_window_end)
        f->rip = (uint64_t)(uintptr_t)idle_window_end;
    /* Interrupted on arch_idle's hlt itself (a hypervisor that ignored
     * sti's shadow): the same, do not go back to sleep. */
    if (f->rip >= (uint64_t)(uintptr_t)plain_idle_hlt &&
        f->rip < (uint64_t)(uintptr_t)plain_idle_end)
        f->rip = (uint64_t)(uintptr_t)plain_idle_end;
    void (*h)(void) = upcall_handlers[f->vector & 255];
    if (h)
        h();
    *(volatile uint32_t *)(uintptr_t)TANDEM_LAPIC_EOI_GPA = 0;
}

void arch_set_upcall(uint8_t vector, void (*handler)(void))
{
    if (vector < 32)
        return;
    upcall_handlers[vector] = handler;
}

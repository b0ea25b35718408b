/* The register frame that entry.S builds for every interrupt/exception. */
#ifndef TANDEM_ARCH_X86_TRAPS_H
#define TANDEM_ARCH_X86_TRAPS_H

#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

void trap_handler(struct trap_frame *f);
void irq_dispatch(struct trap_frame *f);

/* arch_idle's window between enabling interrupts and halting (cpumode.c):
 * an interrupt taken inside it resumes after the halt instead. */
extern char idle_window_start[], idle_window_end[];
extern char plain_idle_hlt[], plain_idle_end[];

#endif

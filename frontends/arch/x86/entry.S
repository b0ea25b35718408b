/*
 * Interrupt and exception entry stubs. Every vector has a 16-byte stub that
 * pushes (a dummy error code where the CPU pushes none and) the vector
 * number, then jumps to a common path that saves all general registers as a
 * struct trap_frame (traps.h) and calls C: trap_handler for vectors 0-31,
 * irq_dispatch for 32-255 (which EOIs the local APIC).
 */
    .text

/* Vectors whose exceptions push an error code. */
#define HAS_ERR(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || \
                    (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

.macro SAVE_REGS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro RESTORE_REGS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

    .balign 16
    .globl vector_stubs
vector_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if vec < 32
    .if !HAS_ERR(vec)
    pushq $0
    .endif
    pushq $vec
    jmp exc_common
    .else
    pushq $0
    pushq $vec
    jmp irq_common
    .endif
    .set vec, vec + 1
    .endr

exc_common:
    cld
    SAVE_REGS
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_handler
    mov %rbx, %rsp
    RESTORE_REGS
    add $16, %rsp
    iretq

irq_common:
    cld
    SAVE_REGS
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call irq_dispatch
    mov %rbx, %rsp
    RESTORE_REGS
    add $16, %rsp
    iretq

/*
 * PVH entry of the Tandem guest kernel.
 *
 * The VMM enters pvh_start32 in 32-bit flat protected mode, paging off,
 * %ebx = struct hvm_start_info. On PVM hosts everything before the VIF page
 * is registered runs in KVM's instruction emulator (~1 M instructions/s),
 * so this path is as short as possible: the page tables are built at link
 * time (static data below), and we only load them, enter long mode and call
 * arch_start() in C.
 */
#include "public/elfnote.h"
#include "asm.h"

TANDEM_PVH_NOTES pvh_start32 /* public/elfnote.h */

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cld
    mov %ebx, %esi              /* start_info, kept across the switch */
    lgdt gdt_desc32
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $X86_CR4_PAE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $(X86_CR0_PG | X86_CR0_PE | X86_CR0_WP), %eax
    mov %eax, %cr0
    ljmp $GDT_CODE64, $start64

    .code64
start64:
    mov $GDT_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp              /* ends the frame-pointer chain */
    mov %esi, %edi              /* arch_start(start_info) */
    call arch_start
1:  hlt
    jmp 1b

/*
 * Secondary vCPUs start here in 64-bit mode (VCPUOP_initialise with
 * struct tandem_vcpu_context): rsp = own stack, rdi = cpu, rsi = boot args.
 */
    .globl ap_entry64
ap_entry64:
    lgdt gdt_desc64(%rip)
    mov $GDT_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    pushq $GDT_CODE64
    lea 1f(%rip), %rax
    push %rax
    lretq
1:  xor %ebp, %ebp
    call ap_start
2:  hlt
    jmp 2b

/* Descriptors: 0x08 = 64-bit code, 0x10 = data, 0x18 = 32-bit code. */
    .section .rodata
    .balign 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
    .quad 0x00cf9b000000ffff
gdt_end:
gdt_desc32:
    .word gdt_end - gdt - 1
    .long gdt
    .balign 8
    .word 0, 0, 0
gdt_desc64:
    .word gdt_end - gdt - 1
    .quad gdt

/*
 * Page tables: identity map of the low 4 GiB with 2 MiB pages. Every entry
 * has U/S set (PVM runs the kernel at hardware CPL 3); the 2 MiB page of the
 * local APIC is uncached. Plain mode uses the same tables (U/S is harmless
 * without SMEP/SMAP).
 */
    .section .data.pagetables, "aw"
    .balign 4096
    .globl pml4
pml4:
    .quad pdpt + PTE_P + PTE_RW + PTE_US
    .fill 511, 8, 0
pdpt:
    .quad pd + PTE_P + PTE_RW + PTE_US
    .quad pd + 0x1000 + PTE_P + PTE_RW + PTE_US
    .quad pd + 0x2000 + PTE_P + PTE_RW + PTE_US
    .quad pd + 0x3000 + PTE_P + PTE_RW + PTE_US
    .fill 508, 8, 0
pd:
    .set pde, 0
    .rept 2048
    .if pde == (0xFEE00000 >> 21)
    .quad (pde << 21) + PTE_P + PTE_RW + PTE_US + PTE_PS + PTE_PWT + PTE_PCD
    .else
    .quad (pde << 21) + PTE_P + PTE_RW + PTE_US + PTE_PS
    .endif
    .set pde, pde + 1
    .endr

    .section .bss.stack, "aw", @nobits
    .balign 4096
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

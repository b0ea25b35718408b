/* Constants shared by the arch layer's assembly and C files. */
#ifndef TANDEM_ARCH_X86_ASM_H
#define TANDEM_ARCH_X86_ASM_H

#define GDT_CODE64 0x08
#define GDT_DATA   0x10

#define X86_CR0_PE  0x00000001
#define X86_CR0_WP  0x00010000
#define X86_CR0_PG  0x80000000
#define X86_CR4_PAE 0x00000020
#define MSR_EFER    0xC0000080
#define EFER_LME    0x00000100
#define MSR_FS_BASE 0xC0000100

#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_US  0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080

#define BOOT_STACK_SIZE 16384
#define AP_STACK_SIZE   16384

/* struct percpu offsets (percpu.h), read with %fs: */
#define PERCPU_CPU_ID 0x08
#define PERCPU_VIF    0x10
#define PERCPU_CANARY 0x28

#endif

/*
 * Test guest: an instruction KVM's emulator lacks (popcnt) while the vCPU
 * is still emulated (32-bit PVH entry). On PVM hosts this is an emulation
 * failure; tandem-vmm must print the registers and exit with status 7.
 */
#include "public/elfnote.h"

    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start32

    .text
    .code32
    .globl pvh_start32
pvh_start32:
    mov $0xe11, %ebx        /* visible in the register dump */
    popcnt %ebx, %eax
    ud2
1:  jmp 1b

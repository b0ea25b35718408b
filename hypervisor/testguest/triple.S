/*
 * Test guest: triple-faults on purpose. Loads an empty IDT and executes
 * ud2: #UD cannot be delivered -> #GP -> #DF -> shutdown. tandem-vmm must
 * print the registers and exit with status 7.
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
    lidt empty_idt
    mov $0x7e57, %eax       /* visible in the register dump */
    ud2
1:  jmp 1b

    .balign 8
empty_idt:
    .word 0
    .long 0

/*
 * Test guest: triple-faults on purpose. Loads an empty IDT and executes
 * ud2: #UD cannot be delivered -> #GP -> #DF -> shutdown. tandem-vmm must
 * print the registers and exit with status 7.
 */
#include "public/elfnote.h"

/* The PVH entry and GUEST_OS "Tandem": run on Tandem's platform. */
TANDEM_PVH_NOTES pvh_start32

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

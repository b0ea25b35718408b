/* Test guest: a valid ELF executable without the PVH entry note (bad input). */
    .text
    .code32
    .globl pvh_start32
pvh_start32:
    hlt
    jmp pvh_start32

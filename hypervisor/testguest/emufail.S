/*
 * Test guest: an instruction KVM's emulator lacks (popcnt) that KVM must
 * emulate: its operand is at a guest-physical address no memory backs
 * (paging is off at the PVH entry), so hardware virtualization (VMX, SVM)
 * hands it to the emulator as MMIO, and on PVM hosts every instruction of
 * the 32-bit entry is emulated anyway. KVM reports an emulation failure;
 * tandem-vmm must print the registers and exit with status 7.
 */
#include "public/elfnote.h"

/* The PVH entry and GUEST_OS "Tandem": run on Tandem's platform. */
TANDEM_PVH_NOTES pvh_start32

    .text
    .code32
    .globl pvh_start32
pvh_start32:
    mov $0xe11, %ebx        /* visible in the register dump */
    popcnt 0xd0000000, %eax /* above guest RAM, below the platform region */
    ud2
1:  jmp 1b

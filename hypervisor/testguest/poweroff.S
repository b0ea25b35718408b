/*
 * Test guest: powers off at its first instruction (SCHEDOP_shutdown,
 * SHUTDOWN_poweroff, straight through the hypercall port), before
 * tandem-vmm's xenstore registration can have finished: a domain that
 * stops while xenstored is introducing it.
 */
#include "public/elfnote.h"
#define TANDEM_HYPERCALL_PORT 0xB0 /* public/tandem.h (C only) */

/* The PVH entry and GUEST_OS "Tandem": run on Tandem's platform. */
TANDEM_PVH_NOTES pvh_start32

    .text
    .code32
    .globl pvh_start32
pvh_start32:
    mov $2, %edi                /* SCHEDOP_shutdown (sched.h) */
    mov $reason, %esi           /* guest-physical: paging is off */
    mov $29, %eax               /* __HYPERVISOR_sched_op (xen.h) */
    mov $TANDEM_HYPERCALL_PORT, %dx
    out %eax, %dx
1:  hlt
    jmp 1b

    .data
    .balign 4
reason:
    .long 0                     /* SHUTDOWN_poweroff */

/*
 * Xen hypercalls from the Tandem guest: call slot n of the hypercall page
 * (32 bytes a slot) with arguments in rdi, rsi, rdx, r10, r8; the result
 * comes back in rax (docs/abi.md). hypercall_page is set by the arch layer
 * before kernel_main (from the device tree; defaults to 0xFC000000).
 */
#ifndef TANDEM_GUEST_HYPERCALL_H
#define TANDEM_GUEST_HYPERCALL_H

#include <stdint.h>

#include "public/xen.h"

extern char *hypercall_page;

#define _hypercall_slot(nr) ((void *)(hypercall_page + (nr) * XEN_HYPERCALL_SLOT_SIZE))

static inline long _hypercall5(unsigned int nr, unsigned long a1, unsigned long a2,
                               unsigned long a3, unsigned long a4, unsigned long a5)
{
    long ret;
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    __asm__ __volatile__("call *%[slot]"
                         : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                         : [slot] "r"(_hypercall_slot(nr))
                         : "memory", "rcx", "r11", "r9");
    return ret;
}

#define _hypercall1(nr, a)       _hypercall5(nr, (unsigned long)(a), 0, 0, 0, 0)
#define _hypercall2(nr, a, b)    _hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define _hypercall3(nr, a, b, c) \
    _hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, 0)

static inline long HYPERVISOR_console_io(int cmd, int count, const char *str)
{
    return _hypercall3(__HYPERVISOR_console_io, cmd, count, str);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

/* timeout: absolute system time in ns; 0 cancels. */
static inline long HYPERVISOR_set_timer_op(uint64_t timeout)
{
    return _hypercall1(__HYPERVISOR_set_timer_op, timeout);
}

static inline long HYPERVISOR_vcpu_op(int cmd, int vcpuid, void *extra_args)
{
    return _hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpuid, extra_args);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_hvm_op(int op, void *arg)
{
    return _hypercall2(__HYPERVISOR_hvm_op, op, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
    return _hypercall3(__HYPERVISOR_grant_table_op, cmd, uop, count);
}

#endif

/*
 * Spinlocks for data shared between vCPUs and with interrupt handlers.
 * The irqsave variants keep an upcall on this vCPU from spinning on a lock
 * its own interrupted thread holds.
 */
#ifndef TANDEM_GUEST_SPINLOCK_H
#define TANDEM_GUEST_SPINLOCK_H

#include "arch.h"

struct spinlock {
    int locked;
};

#define SPINLOCK_INIT { 0 }

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            __asm__ __volatile__("pause");
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline unsigned long spin_lock_irqsave(struct spinlock *l)
{
    unsigned long flags = arch_irq_save();
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
    spin_unlock(l);
    arch_irq_restore(flags);
}

#endif

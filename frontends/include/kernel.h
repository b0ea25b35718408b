/*
 * Common definitions of the Tandem PV guest kernel: basic types, printk,
 * panic and small helpers used everywhere in frontends/.
 */
#ifndef TANDEM_GUEST_KERNEL_H
#define TANDEM_GUEST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klib.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Writes to the console: the PV console ring once it is up, the
 * console_io hypercall (or port 0xE9) before. Safe in interrupt context. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);

/* Prints the message and a backtrace, then shuts the domain down as crashed. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define BUG_ON(cond)                                                          \
    do {                                                                      \
        if (__builtin_expect(!!(cond), 0))                                    \
            panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);             \
    } while (0)

/* Physical addresses are identity mapped in the low 4 GiB. */
static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }

#endif

/*
 * Weak printk/vprintk for bring-up: formats with the guest library and
 * writes with the console_io hypercall. The kernel's console replaces them.
 */
#include <stdarg.h>

#include "hypercall.h"
#include "kernel.h"

__attribute__((weak)) int vprintk(const char *fmt, va_list ap)
{
    char buf[256];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return n;
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    HYPERVISOR_console_io(CONSOLEIO_write, n, buf);
    return n;
}

__attribute__((weak)) int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

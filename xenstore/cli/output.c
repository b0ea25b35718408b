/* Buffered output of the transactional modes (see cli.h). */
#include "cli.h"

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *buf;
static size_t used, cap;

static void reserve(size_t more)
{
    char *grown;

    if (used + more <= cap)
        return;
    cap = (used + more) * 2;
    grown = realloc(buf, cap);
    if (!grown)
        err(1, "output");
    buf = grown;
}

void out_raw(const void *data, size_t len)
{
    reserve(len);
    memcpy(buf + used, data, len);
    used += len;
}

void out_printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        err(1, "output");
    reserve((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(buf + used, (size_t)n + 1, fmt, ap);
    va_end(ap);
    used += (size_t)n;
}

void out_reset(void)
{
    used = 0;
}

/* fwrite, not printf: raw values may contain NUL bytes. */
void out_flush(void)
{
    if (used)
        fwrite(buf, 1, used, stdout);
    free(buf);
    buf = NULL;
    used = cap = 0;
}

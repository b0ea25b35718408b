/* Thread-local error text: several service threads may use one handle, so a
 * per-handle buffer would mix their messages. */
#include "tdm_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char last_error[256];

int tdm_set_error(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    errno = err;
    return -1;
}

int tdm_add_context(const char *fmt, ...)
{
    char old[sizeof(last_error)];
    int err = errno;
    size_t n;
    va_list ap;

    memcpy(old, last_error, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    n = strlen(last_error);
    snprintf(last_error + n, sizeof(last_error) - n, "%s", old);
    errno = err;
    return -1;
}

const char *tdm_last_error(void)
{
    return last_error;
}

/* Logging: stderr or --log-file, with request tracing behind --verbose or
 * CONTROL "log on". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "xenstored.h"

int xsd_verbose;
bool xsd_trace_on;
static FILE *logf_;

int xsd_log_open(const char *path)
{
    FILE *f = fopen(path, "a");

    if (!f)
        return errno;
    setvbuf(f, NULL, _IOLBF, 0);
    xsd_log_close();
    logf_ = f;
    return 0;
}

void xsd_log_close(void)
{
    if (logf_)
        fclose(logf_);
    logf_ = NULL;
}

void xsd_log(int level, const char *fmt, ...)
{
    FILE *out = logf_ ? logf_ : stderr;
    va_list ap;
    struct timespec ts;

    if (level == XSD_LOG_DEBUG && !xsd_verbose && !xsd_trace_on)
        return;
    if (level == XSD_LOG_INFO && !xsd_verbose && !logf_)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(out, "xenstored: %ld.%03ld ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

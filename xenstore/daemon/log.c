/* Logging: stderr or --log-file, with request tracing behind --verbose or
 * CONTROL "log on". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "xenstored.h"

int xsd_verbose;
bool xsd_trace_on;
static FILE *logf_;
static char *logpath;

int xsd_log_open(const char *path)
{
    FILE *f = fopen(path, "a");
    char *p = strdup(path);

    if (!f || !p) {
        int e = f ? ENOMEM : errno;
        if (f)
            fclose(f);
        free(p);
        return e;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    xsd_log_close();
    logf_ = f;
    logpath = p;
    return 0;
}

void xsd_log_reopen(void)
{
    char *p = logpath ? strdup(logpath) : NULL;

    if (p && xsd_log_open(p) != 0)
        fprintf(stderr, "xenstored: cannot reopen %s\n", p);
    free(p);
}

void xsd_log_close(void)
{
    if (logf_)
        fclose(logf_);
    logf_ = NULL;
    free(logpath);
    logpath = NULL;
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

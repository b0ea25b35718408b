#include "store.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

struct xs_handle *store_open(bool loud)
{
    struct xs_handle *h = xs_open(0);
    if (!h && loud)
        msg("cannot connect to xenstored at %s: %s",
            getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH") : "(default)", strerror(errno));
    return h;
}

void store_close(struct xs_handle *h)
{
    if (h)
        xs_close(h);
}

static char *vread(struct xs_handle *h, const char *fmt, va_list ap)
{
    char *path;
    if (vasprintf(&path, fmt, ap) < 0)
        return NULL;
    unsigned len = 0;
    char *v = xs_read(h, XBT_NULL, path, &len);
    free(path);
    return v;   /* libxenstore NUL-terminates what it returns */
}

char *store_read(struct xs_handle *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vread(h, fmt, ap);
    va_end(ap);
    return v;
}

bool store_exists(struct xs_handle *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vread(h, fmt, ap);
    va_end(ap);
    free(v);
    return v != NULL;
}

bool store_write(struct xs_handle *h, const char *path, const char *value)
{
    return xs_write(h, XBT_NULL, path, value, (unsigned)strlen(value));
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

size_t store_domids(struct xs_handle *h, unsigned *out, size_t max)
{
    unsigned n = 0;
    char **ents = xs_directory(h, XBT_NULL, "/local/domain", &n);
    size_t k = 0;
    for (unsigned i = 0; ents && i < n && k < max; i++) {
        unsigned id;
        if (parse_domid(ents[i], &id, true))
            out[k++] = id;
    }
    free(ents);   /* one allocation holds the array and the strings */
    qsort(out, k, sizeof(*out), cmp_unsigned);
    return k;
}

int store_find_name(struct xs_handle *h, const char *name, unsigned *domid)
{
    unsigned ids[1024];
    size_t n = store_domids(h, ids, 1024);
    for (size_t i = 0; i < n; i++) {
        char *v = store_read(h, "/local/domain/%u/name", ids[i]);
        bool match = v && !strcmp(v, name);
        free(v);
        if (match) {
            *domid = ids[i];
            return 0;
        }
    }
    return -1;
}

void store_forget_domain(struct xs_handle *h, unsigned domid, const char *uuid)
{
    char *p = xasprintf("/local/domain/%u", domid);
    xs_rm(h, XBT_NULL, p);
    free(p);
    if (uuid && *uuid) {
        p = xasprintf("/vm/%s", uuid);
        xs_rm(h, XBT_NULL, p);
        free(p);
    }
    /* Only the daemon knows whether the domain is still introduced. */
    if (xs_is_domain_introduced(h, domid))
        xs_release_domain(h, domid);
}

int store_wait_state(struct xs_handle *h, const char *path, bool exists, int timeout_ms)
{
    static const char token[] = "tandem-wait";
    if (!xs_watch(h, path, token))
        return store_exists(h, "%s", path) == exists ? 0 : -1;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    int rc = -1;
    for (;;) {
        if (store_exists(h, "%s", path) == exists) {
            rc = 0;
            break;
        }
        int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
        if (deadline >= 0 && left <= 0)
            break;
        struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            break;
        char **ev;
        while ((ev = xs_check_watch(h)) != NULL)
            free(ev);
    }
    xs_unwatch(h, path, token);
    return rc;
}

int store_wait_gone(struct xs_handle *h, const char *path, int timeout_ms)
{
    return store_wait_state(h, path, false, timeout_ms);
}

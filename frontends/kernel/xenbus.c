/*
 * xenbus operations and transactions (see xenbus.h): thin, checked
 * wrappers over the xenstore ring client, plus the pieces every driver
 * would otherwise repeat — <dir>/<node> paths, printf, strict numbers and
 * a transaction runner that retries on EAGAIN.  Watches are in
 * xenbus_watch.c, the state machine in xenbus_state.c.
 */
#include "kernel.h"
#include "kerrno.h"
#include "xenbus.h"
#include "xenstore.h"

/* dir + "/" + node into buf; -ENAMETOOLONG if it does not fit. */
static int join(char *buf, size_t len, const char *dir, const char *node)
{
    int n = node && node[0] ? snprintf(buf, len, "%s/%s", dir, node) : snprintf(buf, len, "%s", dir);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t len)
{
    return xs_read_tx(t, path, buf, len);
}

int xenbus_write(xenbus_transaction_t t, const char *path, const char *value)
{
    return xs_write_tx(t, path, value);
}

int xenbus_printf(xenbus_transaction_t t, const char *dir, const char *node, const char *fmt, ...)
{
    char path[XENBUS_PATH_MAX], value[XENBUS_PATH_MAX];
    int r = join(path, sizeof(path), dir, node);
    if (r < 0)
        return r;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value))
        return -E2BIG;
    return xs_write_tx(t, path, value);
}

int xenbus_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned int d = (unsigned int)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return -EINVAL; /* beyond max (and never wraps) */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int xenbus_read_u64(xenbus_transaction_t t, const char *dir, const char *node, uint64_t max,
                    uint64_t *out)
{
    char path[XENBUS_PATH_MAX], value[24];
    int r = join(path, sizeof(path), dir, node);
    if (r < 0)
        return r;
    r = xs_read_tx(t, path, value, sizeof(value));
    if (r < 0)
        return r;
    /* a longer value was truncated: it cannot be a number <= UINT64_MAX */
    if ((size_t)r >= sizeof(value) || xenbus_parse_u64(value, max, out) < 0)
        return -EINVAL;
    return 0;
}

int xenbus_mkdir(xenbus_transaction_t t, const char *path)
{
    return xs_mkdir_tx(t, path);
}

int xenbus_rm(xenbus_transaction_t t, const char *path)
{
    return xs_rm_tx(t, path);
}

int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t len)
{
    return xs_directory_tx(t, path, buf, len);
}

bool xenbus_exists(xenbus_transaction_t t, const char *path)
{
    char c;
    return xs_read_tx(t, path, &c, 1) >= 0;
}

int xenbus_transaction_start(xenbus_transaction_t *t)
{
    return xs_transaction_start(t);
}

int xenbus_transaction_end(xenbus_transaction_t t, bool abort)
{
    return xs_transaction_end(t, !abort);
}

int xenbus_transaction_run(int (*fn)(xenbus_transaction_t t, void *arg), void *arg,
                           unsigned int max_tries, unsigned int *tries)
{
    if (max_tries == 0)
        max_tries = XENBUS_TX_TRIES;
    int r = -EAGAIN;
    unsigned int n;
    for (n = 0; n < max_tries && r == -EAGAIN; n++) {
        xenbus_transaction_t t;
        r = xs_transaction_start(&t);
        if (r < 0)
            break;
        r = fn(t, arg);
        if (r < 0) {
            /* fn saw a conflict (-EAGAIN: run again) or gave up */
            xs_transaction_end(t, false);
            continue;
        }
        r = xs_transaction_end(t, true);
    }
    if (tries)
        *tries = n;
    return r;
}

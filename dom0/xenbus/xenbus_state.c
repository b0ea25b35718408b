/* XenbusState: names, parsing and the `state` node of a device directory. */
#include "tdm_xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWITCH_TRIES 8     /* transaction conflicts before giving up */

static const char *const names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

const char *tdm_xenbus_state_name(int state)
{
    if (state < 0 || state > TDM_XBS_RECONFIGURED)
        return "Invalid";
    return names[state];
}

int tdm_xenbus_state_parse(const char *value, size_t len)
{
    if (len != 1 || value[0] < '0' || value[0] > '0' + TDM_XBS_RECONFIGURED)
        return -1;
    return value[0] - '0';
}

static int state_path(char *buf, size_t size, const char *dir)
{
    int n = snprintf(buf, size, "%s/state", dir);

    if (n < 0 || (size_t)n >= size)
        return tdm_set_error(ENAMETOOLONG, "xenbus: %.60s...: path too long", dir);
    return 0;
}

int tdm_xenbus_read_state(struct xs_handle *h, xs_transaction_t t, const char *dir)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    unsigned len;
    char *v;
    int state;

    if (state_path(path, sizeof(path), dir) < 0)
        return -1;
    v = xs_read(h, t, path, &len);
    if (!v && errno == ENOENT)
        return TDM_XBS_UNKNOWN;
    if (!v)
        return tdm_set_error(errno, "xenbus: read %s: %s", path, strerror(errno));
    state = tdm_xenbus_state_parse(v, len);
    if (state < 0)
        tdm_set_error(EINVAL, "xenbus: %s = '%.*s' is not a XenbusState", path,
                      len > 20 ? 20 : (int)len, v);
    free(v);
    return state;
}

static int switch_in(struct xs_handle *h, xs_transaction_t t, const char *dir, int state)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], value[2] = { (char)('0' + state), 0 };
    int cur = tdm_xenbus_read_state(h, t, dir);

    if (cur == state)
        return 0;
    if (state_path(path, sizeof(path), dir) < 0)
        return -1;
    if (!xs_write(h, t, path, value, 1))
        return tdm_set_error(errno, "xenbus: write %s = %s: %s", path,
                             tdm_xenbus_state_name(state), strerror(errno));
    return 0;
}

int tdm_xenbus_switch_state(struct xs_handle *h, xs_transaction_t t,
                            const char *dir, int state)
{
    if (state < TDM_XBS_UNKNOWN || state > TDM_XBS_RECONFIGURED)
        return tdm_set_error(EINVAL, "xenbus: %s: %d is not a XenbusState", dir, state);
    if (t != XBT_NULL)
        return switch_in(h, t, dir, state);
    for (int i = 0; i < SWITCH_TRIES; i++) {
        xs_transaction_t own = xs_transaction_start(h);
        int rc;

        if (own == XBT_NULL)
            return tdm_set_error(errno, "xenbus: %s: transaction: %s", dir, strerror(errno));
        rc = switch_in(h, own, dir, state);
        if (rc < 0) {
            int err = errno;

            xs_transaction_end(h, own, true);
            errno = err;
            return -1;
        }
        if (xs_transaction_end(h, own, false))
            return 0;
        if (errno != EAGAIN)
            return tdm_set_error(errno, "xenbus: %s: commit: %s", dir, strerror(errno));
    }
    return tdm_set_error(EAGAIN, "xenbus: %s: state switch kept conflicting", dir);
}

/* Control-domain operations and XS_CONTROL. */
#include "xs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests whose arguments are a list of decimal numbers. */
static void *numbers_request(struct xs_handle *h, enum xsd_sockmsg_type type,
                             const unsigned long *vals, unsigned int n)
{
    char buf[4 * 24];
    size_t used = 0;
    struct iovec iov;

    for (unsigned int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%lu", vals[i]) + 1;
    iov.iov_base = buf;
    iov.iov_len = used;
    return xs_talkv(h, XBT_NULL, type, &iov, 1, NULL);
}

static void *domid_request(struct xs_handle *h, enum xsd_sockmsg_type type, unsigned int domid)
{
    unsigned long v = domid;

    return numbers_request(h, type, &v, 1);
}

bool xs_introduce_domain(struct xs_handle *h, unsigned int domid, unsigned long mfn,
                         unsigned int eventchn)
{
    unsigned long v[3] = { domid, mfn, eventchn };

    return xs_reply_ok(numbers_request(h, XS_INTRODUCE, v, 3));
}

bool xs_set_target(struct xs_handle *h, unsigned int domid, unsigned int target)
{
    unsigned long v[2] = { domid, target };

    return xs_reply_ok(numbers_request(h, XS_SET_TARGET, v, 2));
}

bool xs_resume_domain(struct xs_handle *h, unsigned int domid)
{
    return xs_reply_ok(domid_request(h, XS_RESUME, domid));
}

bool xs_release_domain(struct xs_handle *h, unsigned int domid)
{
    return xs_reply_ok(domid_request(h, XS_RELEASE, domid));
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
    return domid_request(h, XS_GET_DOMAIN_PATH, domid);
}

/* Anything but "F" means introduced, as in Xen. */
bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
    char *r = domid_request(h, XS_IS_DOMAIN_INTRODUCED, domid);
    bool yes;

    if (!r)
        return false;
    yes = strcmp(r, "F") != 0;
    free(r);
    return yes;
}

char *xs_control_command(struct xs_handle *h, const char *cmd, void *data, unsigned int len)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)cmd, .iov_len = strlen(cmd) + 1 },
        { .iov_base = data, .iov_len = len },
    };

    return xs_talkv(h, XBT_NULL, XS_CONTROL, iov, 2, NULL);
}

char *xs_debug_command(struct xs_handle *h, const char *cmd, void *data, unsigned int len)
{
    return xs_control_command(h, cmd, data, len);
}

/* Xen keeps this to stay at ABI version 3.0+: it always fails. */
bool xs_restrict(struct xs_handle *h, unsigned domid)
{
    (void)h;
    (void)domid;
    return false;
}

int xs_suspend_evtchn_port(int domid)
{
    char path[64], *val, *end;
    struct xs_handle *h;
    unsigned int len;
    long port;

    if (domid <= 0)
        return -1;
    h = xs_open(0);
    if (!h)
        return -1;
    snprintf(path, sizeof(path), "/local/domain/%d/device/suspend/event-channel", domid);
    val = xs_read(h, XBT_NULL, path, &len);
    xs_close(h);
    if (!val)
        return -1;
    port = strtol(val, &end, 10);
    if (len == 0 || end == val || port < 0 || port > INT32_MAX)
        port = -1;
    free(val);
    return (int)port;
}

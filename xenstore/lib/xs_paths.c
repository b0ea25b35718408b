/*
 * Where to find the daemon, with Xen's environment variables:
 * XENSTORED_RUNDIR (default /var/run/xenstored) and XENSTORED_PATH (the
 * socket, default <rundir>/socket; also used as the device path).
 */
#include "xs_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define XS_DEFAULT_RUNDIR "/var/run/xenstored"

const char *xs_daemon_rundir(void)
{
    const char *s = getenv("XENSTORED_RUNDIR");

    return s ? s : XS_DEFAULT_RUNDIR;
}

/* Thread-local so that concurrent callers never see each other's buffer. */
static const char *daemon_path(void)
{
    static __thread char buf[PATH_MAX];
    const char *s = getenv("XENSTORED_PATH");

    if (s)
        return s;
    if (snprintf(buf, sizeof(buf), "%s/socket", xs_daemon_rundir()) >= (int)sizeof(buf))
        return NULL;
    return buf;
}

const char *xs_daemon_socket(void)
{
    return daemon_path();
}

/* Xen 4.17 has no separate read-only socket any more. */
const char *xs_daemon_socket_ro(void)
{
    return daemon_path();
}

const char *xs_domain_dev(void)
{
    const char *s = getenv("XENSTORED_PATH");

    if (s)
        return s;
    if (access("/dev/xen/xenbus", F_OK) == 0)
        return "/dev/xen/xenbus";
    return "/proc/xen/xenbus";
}

/* Opening and closing handles (Xen's xs_open family). */
#include "xs_internal.h"

#include <errno.h>

struct xs_handle *xs_open(unsigned long flags)
{
    struct xs_handle *h;
    int err = 0;

    h = xs_conn_open(xs_daemon_socket(), &err);
    if (!h)
        h = xs_conn_open(xs_domain_dev(), &err);
    if (!h) {
        errno = err;
        return NULL;
    }
    h->unwatch_filter = (flags & XS_UNWATCH_FILTER) != 0;
    return h;
}

void xs_close(struct xs_handle *xsh)
{
    if (!xsh)
        return;
    xs_reader_stop(xsh);
    xs_conn_free(xsh);
}

struct xs_handle *xs_daemon_open(void)
{
    return xs_open(0);
}

struct xs_handle *xs_domain_open(void)
{
    return xs_open(0);
}

struct xs_handle *xs_daemon_open_readonly(void)
{
    return xs_open(0);
}

void xs_daemon_close(struct xs_handle *h)
{
    xs_close(h);
}

/* After fork() the reader thread exists only in the parent: free the
 * child's copy without joining it or talking to the daemon. */
void xs_daemon_destroy_postfork(struct xs_handle *h)
{
    if (!h)
        return;
    h->reader_running = false;
    xs_conn_free(h);
}

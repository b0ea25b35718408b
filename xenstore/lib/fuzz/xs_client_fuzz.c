/*
 * libFuzzer target: the library as the client of a hostile daemon.  The
 * input is everything the "daemon" sends (replies, errors, watch events,
 * directory parts, garbage); the library runs a fixed sequence of calls
 * against it, first synchronously and then with the reader thread.  Any
 * crash, hang or sanitizer report is a bug in the reply checking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xs_internal.h"

static void calls(struct xs_handle *h, unsigned int sel)
{
    unsigned int n;
    xs_transaction_t t;
    char **v;

    free(xs_read(h, XBT_NULL, "/a", &n));
    free(xs_directory(h, XBT_NULL, "/a", &n));
    free(xs_get_permissions(h, XBT_NULL, "/a", &n));
    t = xs_transaction_start(h);
    xs_transaction_end(h, t, sel & 1);
    free(xs_get_domain_path(h, 1));
    xs_is_domain_introduced(h, 1);
    if (xs_watch(h, "/w", "t") || (sel & 2)) {
        while ((v = xs_check_watch(h)) != NULL)
            free(v);
        free(xs_read_watch(h, &n)); /* returns once the stream ends */
        xs_unwatch(h, "/w", "t");
        free(xs_read(h, XBT_NULL, "/b", &n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xs_handle *h;
    int sv[2];
    size_t off = 0;

    if (size < 1 || size > 64 * 1024)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    /* The whole "daemon" output is queued up front, then EOF. */
    while (off < size - 1) {
        ssize_t w = write(sv[1], data + 1 + off, size - 1 - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    h = xs_conn_adopt(sv[0], true);
    if (h) {
        h->unwatch_filter = data[0] & 4;
        calls(h, data[0]);
        xs_close(h); /* closes sv[0] */
    } else {
        close(sv[0]);
    }
    close(sv[1]);
    return 0;
}

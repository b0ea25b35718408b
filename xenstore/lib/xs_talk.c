/*
 * One request and its reply.  Before the reader thread exists the caller
 * reads its own reply from the socket (no thread hop); afterwards the reader
 * thread hands the reply over through reply_cond.  Replies are checked here:
 * XS_ERROR becomes errno, a reply of another type or request id marks the
 * connection broken (Xen treats it as fatal too).
 */
#include "xs_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_common.h"

/* First error wins; every waiter and xs_fileno() user is woken so that
 * nobody blocks forever on a dead connection. */
void xs_mark_broken(struct xs_handle *h, int err)
{
    pthread_mutex_lock(&h->lock);
    if (!h->broken) {
        h->broken = err;
        if (!h->watch_head && h->watch_pipe[1] >= 0) {
            char c = 0;
            (void)!write(h->watch_pipe[1], &c, 1);
        }
    }
    pthread_cond_broadcast(&h->reply_cond);
    pthread_cond_broadcast(&h->watch_cond);
    pthread_mutex_unlock(&h->lock);
}

/* Synchronous mode: the requester owns the receive side. */
static int read_reply(struct xs_handle *h, struct xs_msg **reply)
{
    for (;;) {
        struct xs_msg *m;
        int err = xs_conn_recv(h, &m, -1);

        if (err)
            return err;
        if (m->hdr.type != XS_WATCH_EVENT) {
            *reply = m;
            return 0;
        }
        /* Cannot happen without a watch, but keep it rather than lose it. */
        if (!xs_event_valid(m)) {
            xs_msg_free(m);
            return EBADMSG;
        }
        xs_watch_enqueue(h, m);
    }
}

static int wait_reply(struct xs_handle *h, struct xs_msg **reply)
{
    int err = 0;

    pthread_mutex_lock(&h->lock);
    while (!h->reply && !h->broken)
        pthread_cond_wait(&h->reply_cond, &h->lock);
    if (h->reply) {
        *reply = h->reply;
        h->reply = NULL;
    } else {
        err = h->broken;
    }
    h->awaiting = false;
    pthread_mutex_unlock(&h->lock);
    return err;
}

/* Called with request_lock held. */
static int exchange(struct xs_handle *h, struct xsd_sockmsg *hdr,
                    const struct iovec *iov, unsigned int n, struct xs_msg **reply)
{
    bool threaded;
    int err;

    pthread_mutex_lock(&h->lock);
    /* Like Xen (which closes the fd): a dead connection gives EBADF. */
    err = h->broken ? EBADF : 0;
    threaded = h->reader_running;
    h->awaiting = threaded && !err;
    pthread_mutex_unlock(&h->lock);
    if (err)
        return err;
    hdr->req_id = ++h->next_req_id;
    err = xs_conn_send(h, hdr, iov, n);
    if (err == 0)
        err = threaded ? wait_reply(h, reply) : read_reply(h, reply);
    if (err)
        xs_mark_broken(h, err);
    return err;
}

/* Checks the reply against the request and returns its body. */
static void *take_body(struct xs_handle *h, const struct xsd_sockmsg *req,
                       struct xs_msg *m, unsigned int *len)
{
    void *body;

    if (m->hdr.type == XS_ERROR) {
        int err = xsc_error_from_name(m->body);
        xs_msg_free(m);
        errno = err;
        return NULL;
    }
    if (m->hdr.type != req->type || m->hdr.req_id != req->req_id) {
        xs_msg_free(m);
        xs_mark_broken(h, EBADF);
        errno = EBADF;
        return NULL;
    }
    body = m->body;
    if (len)
        *len = m->hdr.len;
    free(m);
    /* Xen's library leaves errno 0 after a successful exchange, and
     * programs (Xen's own test-xenstore) depend on it. */
    errno = 0;
    return body;
}

void *xs_talkv(struct xs_handle *h, xs_transaction_t t, enum xsd_sockmsg_type type,
               const struct iovec *iov, unsigned int n, unsigned int *len)
{
    struct xsd_sockmsg hdr = { .type = type, .tx_id = t };
    struct xs_msg *reply = NULL;
    size_t total = 0;
    int err;

    for (unsigned int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total > XENSTORE_PAYLOAD_MAX) {
        errno = E2BIG;
        return NULL;
    }
    hdr.len = (uint32_t)total;
    pthread_mutex_lock(&h->request_lock);
    err = exchange(h, &hdr, iov, n, &reply);
    pthread_mutex_unlock(&h->request_lock);
    if (err) {
        errno = err;
        return NULL;
    }
    return take_body(h, &hdr, reply, len);
}

void *xs_single(struct xs_handle *h, xs_transaction_t t, enum xsd_sockmsg_type type,
                const char *arg, unsigned int *len)
{
    struct iovec iov = { .iov_base = (void *)arg, .iov_len = strlen(arg) + 1 };

    return xs_talkv(h, t, type, &iov, 1, len);
}

/* Replies of operations that only succeed or fail ("OK"). */
bool xs_reply_ok(void *reply)
{
    if (!reply)
        return false;
    free(reply);
    return true;
}

/*
 * The reader thread and the watch-event queue.  Xen starts the thread with
 * the first watch; so do we: until then requests read their own replies.
 * Once it runs, only this thread reads the connection, so replies and watch
 * events never get mixed up between callers.
 *
 * xs_fileno() returns the read end of watch_pipe; it holds exactly one byte
 * while the queue is non-empty (or the connection is broken), which keeps
 * poll() on it level-triggered like Xen's.
 */
#include "xs_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xs_common.h"

/* Called with h->lock held. */
static void pipe_set(struct xs_handle *h, bool readable)
{
    char c = 0;

    if (h->watch_pipe[0] < 0)
        return;
    if (readable)
        (void)!write(h->watch_pipe[1], &c, 1);
    else
        (void)!read(h->watch_pipe[0], &c, 1);
}

/* A watch event must carry at least a path and a token. */
bool xs_event_valid(const struct xs_msg *m)
{
    return xsc_count_strings(m->body, m->hdr.len) >= 2;
}

/* Takes a validated event (xs_event_valid). */
void xs_watch_enqueue(struct xs_handle *h, struct xs_msg *m)
{
    pthread_mutex_lock(&h->lock);
    if (!h->watch_head && !h->broken)
        pipe_set(h, true);
    if (h->watch_tail)
        h->watch_tail->next = m;
    else
        h->watch_head = m;
    h->watch_tail = m;
    pthread_cond_broadcast(&h->watch_cond);
    pthread_mutex_unlock(&h->lock);
}

/* Called with h->lock held: pops the oldest event, or NULL. */
struct xs_msg *xs_watch_dequeue(struct xs_handle *h)
{
    struct xs_msg *m = h->watch_head;

    if (!m)
        return NULL;
    h->watch_head = m->next;
    if (!h->watch_head) {
        h->watch_tail = NULL;
        if (!h->broken)
            pipe_set(h, false);
    }
    m->next = NULL;
    return m;
}

/* Hands a reply to the waiting requester; a reply nobody asked for means
 * the stream is out of step. */
static int deliver_reply(struct xs_handle *h, struct xs_msg *m)
{
    int err = 0;

    pthread_mutex_lock(&h->lock);
    if (!h->awaiting || h->reply) {
        err = EBADMSG;
    } else {
        h->reply = m;
        m = NULL;
        pthread_cond_broadcast(&h->reply_cond);
    }
    pthread_mutex_unlock(&h->lock);
    xs_msg_free(m);
    return err;
}

static void *reader_main(void *arg)
{
    struct xs_handle *h = arg;

    for (;;) {
        struct xs_msg *m;
        int err = xs_conn_recv(h, &m, h->stop_fd);

        if (err == 0 && m->hdr.type == XS_WATCH_EVENT) {
            if (xs_event_valid(m)) {
                xs_watch_enqueue(h, m);
                continue;
            }
            xs_msg_free(m);
            err = EBADMSG;
        } else if (err == 0) {
            err = deliver_reply(h, m);
        }
        if (err == ECANCELED) /* xs_close() */
            break;
        if (err) {
            xs_mark_broken(h, err);
            break;
        }
    }
    return NULL;
}

/* Called with request_lock held, so no request reads the socket now. */
int xs_reader_start(struct xs_handle *h)
{
    sigset_t all, old;
    pthread_attr_t attr;
    int err;

    if (h->reader_running)
        return 0;
    if (h->stop_fd < 0) {
        h->stop_fd = eventfd(0, EFD_CLOEXEC);
        if (h->stop_fd < 0)
            return errno;
    }
    /* The thread must never take the application's signals. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    err = pthread_create(&h->reader, &attr, reader_main, h);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        return err;
    pthread_mutex_lock(&h->lock);
    h->reader_running = true;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

void xs_reader_stop(struct xs_handle *h)
{
    uint64_t one = 1;

    if (!h->reader_running)
        return;
    (void)!write(h->stop_fd, &one, sizeof(one));
    pthread_join(h->reader, NULL);
    h->reader_running = false;
}

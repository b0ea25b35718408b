/* Watches: registering, removing (with XS_UNWATCH_FILTER) and receiving. */
#include "xs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_common.h"

static int ensure_reader(struct xs_handle *h)
{
    int err;

    pthread_mutex_lock(&h->request_lock);
    err = xs_reader_start(h);
    pthread_mutex_unlock(&h->request_lock);
    return err;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)path, .iov_len = strlen(path) + 1 },
        { .iov_base = (void *)token, .iov_len = strlen(token) + 1 },
    };
    int err = ensure_reader(h);

    if (err) {
        errno = err;
        return false;
    }
    return xs_reply_ok(xs_talkv(h, XBT_NULL, XS_WATCH, iov, 2, NULL));
}

/* Drops queued events of the removed watch (same token, path at or below
 * the watched one), in place so that later events keep their order. */
static void filter_queue(struct xs_handle *h, const char *path, const char *token)
{
    struct xs_msg **link, *m, *last = NULL;

    bool had_events;

    pthread_mutex_lock(&h->lock);
    had_events = h->watch_head != NULL;
    link = &h->watch_head;
    while ((m = *link) != NULL) {
        const char *epath = m->body, *etoken = m->body + strlen(m->body) + 1;

        if (strcmp(etoken, token) == 0 && xs_path_is_subpath(path, epath)) {
            *link = m->next;
            xs_msg_free(m);
            continue;
        }
        last = m;
        link = &m->next;
    }
    h->watch_tail = last;
    if (had_events && !h->watch_head && !h->broken && h->watch_pipe[0] >= 0) {
        char c;
        (void)!read(h->watch_pipe[0], &c, 1);
    }
    pthread_mutex_unlock(&h->lock);
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)path, .iov_len = strlen(path) + 1 },
        { .iov_base = (void *)token, .iov_len = strlen(token) + 1 },
    };
    bool ok = xs_reply_ok(xs_talkv(h, XBT_NULL, XS_UNWATCH, iov, 2, NULL));
    int err = errno;

    if (h->unwatch_filter)
        filter_queue(h, path, token);
    errno = err;
    return ok;
}

/* Converts an event into Xen's vector: pointers then strings, one block. */
static char **event_vector(struct xs_msg *m, unsigned int *num)
{
    unsigned int n = xsc_count_strings(m->body, m->hdr.len);
    char **vec = malloc(sizeof(char *) * (n + 1) + m->hdr.len);
    char *p;

    if (!vec) {
        xs_msg_free(m);
        errno = ENOMEM;
        return NULL;
    }
    p = (char *)(vec + n + 1);
    memcpy(p, m->body, m->hdr.len);
    for (unsigned int i = 0; i < n; i++) {
        vec[i] = p;
        p += strlen(p) + 1;
    }
    vec[n] = NULL;
    xs_msg_free(m);
    if (num)
        *num = n;
    return vec;
}

char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
    struct xs_msg *m;
    int err = ensure_reader(h);

    if (err) {
        errno = err;
        return NULL;
    }
    pthread_mutex_lock(&h->lock);
    while (!h->watch_head && !h->broken)
        pthread_cond_wait(&h->watch_cond, &h->lock);
    m = xs_watch_dequeue(h);
    pthread_mutex_unlock(&h->lock);
    if (!m) {
        errno = EINVAL; /* connection gone, nothing queued (as Xen) */
        return NULL;
    }
    return event_vector(m, num);
}

char **xs_check_watch(struct xs_handle *h)
{
    struct xs_msg *m;
    int err;

    pthread_mutex_lock(&h->lock);
    m = xs_watch_dequeue(h);
    err = h->broken ? EINVAL : EAGAIN; /* as Xen */
    pthread_mutex_unlock(&h->lock);
    if (!m) {
        errno = err;
        return NULL;
    }
    return event_vector(m, NULL);
}

int xs_fileno(struct xs_handle *h)
{
    int fd;

    pthread_mutex_lock(&h->lock);
    if (h->watch_pipe[0] < 0) {
        if (pipe2(h->watch_pipe, O_CLOEXEC) != 0) {
            h->watch_pipe[0] = h->watch_pipe[1] = -1;
            pthread_mutex_unlock(&h->lock);
            return -1;
        }
        fcntl(h->watch_pipe[1], F_SETFL, O_NONBLOCK);
        if (h->watch_head || h->broken) {
            char c = 0;
            (void)!write(h->watch_pipe[1], &c, 1);
        }
    }
    fd = h->watch_pipe[0];
    pthread_mutex_unlock(&h->lock);
    return fd;
}

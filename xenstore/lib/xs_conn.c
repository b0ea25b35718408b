/*
 * The connection to xenstored: opening the socket or xenbus device, and the
 * message framing (16-byte header + payload) in both directions.  Every
 * header from the daemon is checked here before its payload is trusted.
 */
#include "xs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs_common.h"

static int connect_socket(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd, err;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        if (errno == EINTR)
            continue;
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static struct xs_handle *handle_alloc(int fd, bool is_socket)
{
    struct xs_handle *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->fd = fd;
    h->is_socket = is_socket;
    h->watch_pipe[0] = h->watch_pipe[1] = -1;
    h->stop_fd = -1;
    pthread_mutex_init(&h->request_lock, NULL);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->reply_cond, NULL);
    pthread_cond_init(&h->watch_cond, NULL);
    return h;
}

/* Wraps an already connected fd (used by the fuzz harness). */
struct xs_handle *xs_conn_adopt(int fd, bool is_socket)
{
    return handle_alloc(fd, is_socket);
}

/* Xen's rule: a socket is connected to, anything else (the xenbus device)
 * is opened read-write. */
struct xs_handle *xs_conn_open(const char *path, int *err)
{
    struct xs_handle *h;
    struct stat st;
    bool sock;
    int fd;

    if (!path) {
        *err = ENAMETOOLONG;
        return NULL;
    }
    if (stat(path, &st) != 0) {
        *err = errno;
        return NULL;
    }
    sock = S_ISSOCK(st.st_mode);
    fd = sock ? connect_socket(path) : open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    h = handle_alloc(fd, sock);
    if (!h) {
        *err = ENOMEM;
        close(fd);
    }
    return h;
}

void xs_msg_free(struct xs_msg *m)
{
    if (m) {
        free(m->body);
        free(m);
    }
}

/* Frees everything; the reader thread must already be gone. */
void xs_conn_free(struct xs_handle *h)
{
    struct xs_msg *m;

    if (h->fd >= 0)
        close(h->fd);
    for (int i = 0; i < 2; i++)
        if (h->watch_pipe[i] >= 0)
            close(h->watch_pipe[i]);
    if (h->stop_fd >= 0)
        close(h->stop_fd);
    while ((m = h->watch_head) != NULL) {
        h->watch_head = m->next;
        xs_msg_free(m);
    }
    xs_msg_free(h->reply);
    pthread_mutex_destroy(&h->request_lock);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->reply_cond);
    pthread_cond_destroy(&h->watch_cond);
    free(h);
}

static int write_fully(struct xs_handle *h, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = h->is_socket ? send(h->fd, buf, len, MSG_NOSIGNAL)
                                 : write(h->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends header and payload with one system call (the message is at most
 * 16 + 4096 bytes, so it is cheaper to copy than to writev). */
int xs_conn_send(struct xs_handle *h, const struct xsd_sockmsg *hdr,
                 const struct iovec *iov, unsigned int n)
{
    char buf[sizeof(*hdr) + XENSTORE_PAYLOAD_MAX];
    size_t off = sizeof(*hdr);

    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return E2BIG;
    memcpy(buf, hdr, sizeof(*hdr));
    for (unsigned int i = 0; i < n; i++) {
        if (iov[i].iov_len) {
            memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
    }
    return write_fully(h, buf, off);
}

/* Cuts one complete message off the receive buffer: 0 and *out set, 0 and
 * *out NULL if more bytes are needed, or an errno for a bad header. */
static int cut_message(struct xs_handle *h, struct xs_msg **out)
{
    struct xsd_sockmsg hdr;
    struct xs_msg *m;
    size_t total;

    *out = NULL;
    if (h->rlen < sizeof(hdr))
        return 0;
    memcpy(&hdr, h->rbuf, sizeof(hdr));
    if (xsc_check_header(&hdr) != 0)
        return EBADMSG;
    total = sizeof(hdr) + hdr.len;
    if (h->rlen < total)
        return 0;
    m = malloc(sizeof(*m));
    if (!m)
        return ENOMEM;
    m->body = malloc(hdr.len + 1);
    if (!m->body) {
        free(m);
        return ENOMEM;
    }
    m->hdr = hdr;
    m->next = NULL;
    memcpy(m->body, h->rbuf + sizeof(hdr), hdr.len);
    m->body[hdr.len] = '\0';
    h->rlen -= total;
    memmove(h->rbuf, h->rbuf + total, h->rlen);
    *out = m;
    return 0;
}

/* Waits until fd is readable; ECANCELED if stop_fd fires first. */
static int wait_readable(int fd, int stop_fd)
{
    struct pollfd p[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = stop_fd, .events = POLLIN },
    };

    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (p[1].revents)
            return ECANCELED;
        if (p[0].revents)
            return 0;
    }
}

/* Reads until one whole message is buffered and returns it.  stop_fd >= 0
 * (the reader thread) makes the wait interruptible.  Errors: EBADF when
 * the daemon closed the connection (Xen's choice), EBADMSG for a header announcing
 * more than XENSTORE_PAYLOAD_MAX bytes, or the errno of the read. */
int xs_conn_recv(struct xs_handle *h, struct xs_msg **out, int stop_fd)
{
    for (;;) {
        int err = cut_message(h, out);
        ssize_t n;

        if (err || *out)
            return err;
        if (stop_fd >= 0 && (err = wait_readable(h->fd, stop_fd)) != 0)
            return err;
        n = read(h->fd, h->rbuf + h->rlen, sizeof(h->rbuf) - h->rlen);
        if (n == 0)
            return EBADF;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        h->rlen += (size_t)n;
    }
}

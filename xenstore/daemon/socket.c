/* Unix-socket clients: non-blocking, each with its own output queue, so a
 * client that does not read never holds up another.  When accept fails for
 * want of descriptors or memory the listener is taken out of the epoll set
 * (it stays readable, and level-triggered epoll would spin on it) until a
 * descriptor is freed, or a second has passed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstored.h"

static struct evsrc listener = { .fd = -1 };
static bool accept_paused, accept_logged;
static uint64_t paused_ms;

#define ACCEPT_RETRY_MS 1000

static ssize_t sock_read(struct conn *c, void *buf, size_t len)
{
    ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

    if (n > 0)
        return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return -1; /* EOF or error */
}

static ssize_t sock_write(struct conn *c, const void *buf, size_t len)
{
    ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

static void sock_update(struct conn *c)
{
    struct evsrc *s = c->priv;
    uint32_t ev = 0;

    if (conn_wants_read(c))
        ev |= EPOLLIN;
    if (c->out_head)
        ev |= EPOLLOUT;
    ev_mod(s, ev);
}

static void sock_close(struct conn *c)
{
    struct evsrc *s = c->priv;

    ev_release(s);
    close(c->fd);
    c->priv = NULL;
    c->fd = -1;
    socket_resume_accept();
}

const struct conn_ops socket_conn_ops = {
    .read = sock_read, .write = sock_write, .update = sock_update, .close = sock_close,
    .kind = "socket",
};

static void client_cb(struct evsrc *s, uint32_t events)
{
    struct conn *c = s->arg;

    if (events & EPOLLOUT)
        conn_flush(c);
    if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        conn_input(c);
    if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
        conn_close(c, "hang-up");
}

static void pause_accept(int err)
{
    if (!accept_logged)
        xsd_log(XSD_LOG_ERR, "cannot accept clients: %s; waiting for a free descriptor",
                strerror(err));
    accept_logged = true;
    accept_paused = true;
    paused_ms = xsd_now_ms();
    ev_mod(&listener, 0);
}

void socket_resume_accept(void)
{
    if (!accept_paused || listener.fd < 0)
        return;
    accept_paused = false;
    ev_mod(&listener, EPOLLIN);
}

bool socket_accept_paused(uint64_t now_ms)
{
    if (accept_paused && now_ms - paused_ms >= ACCEPT_RETRY_MS)
        socket_resume_accept(); /* a descriptor may have been freed elsewhere */
    return accept_paused;
}

static void accept_cb(struct evsrc *l, uint32_t events)
{
    (void)events;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct evsrc *s;
        struct conn *c;

        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            pause_accept(errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM... */
            return;
        }
        accept_logged = false;
        s = calloc(1, sizeof(*s));
        c = s ? conn_new(&socket_conn_ops, s, fd, 0) : NULL;
        if (!c) {
            free(s);
            close(fd);
            pause_accept(ENOMEM);
            return;
        }
        s->fd = fd;
        s->cb = client_cb;
        s->arg = c;
        if (ev_add(s, EPOLLIN) != 0) {
            conn_close(c, "epoll");
            continue;
        }
        if (xsd_verbose || xsd_trace_on) {
            struct ucred cr;
            socklen_t crl = sizeof(cr);
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0)
                cr.pid = 0;
            xsd_log(XSD_LOG_DEBUG, "socket client connected (fd %d, pid %d)", fd, (int)cr.pid);
        }
    }
}

int socket_listen(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[sizeof(sa.sun_path)];
    char *slash;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    strcpy(dir, path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755); /* the default rundir may not exist yet */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    listener.fd = fd;
    listener.cb = accept_cb;
    if (ev_add(&listener, EPOLLIN) != 0) {
        close(fd);
        listener.fd = -1;
        return -EIO;
    }
    return fd;
}

void socket_close_listener(void)
{
    if (listener.fd < 0)
        return;
    ev_del(&listener);
    close(listener.fd);
    listener.fd = -1;
    accept_paused = accept_logged = false;
}

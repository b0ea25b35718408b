/* Control-socket client: connect, one request, one reply with fds. */
#include "ctl_client.h"
#include "tdm_error.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct tdm_ctl {
    int fd;
    unsigned domid;
    int broken;                    /* transport failed: the stream is out of step */
    int timeout_ms;                /* bound on one reply, a send, a connect */
    pthread_mutex_t lock;          /* one request in flight per connection */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

const char *tdm_run_dir(const char *run_dir)
{
    const char *env;

    if (run_dir && *run_dir)
        return run_dir;
    env = getenv("TANDEM_RUNDIR");
    return env && *env ? env : TDM_DEFAULT_RUN_DIR;
}

/* Bounds blocking sends and connect (a VMM whose backlog or socket buffer
 * is full because it stopped serving must not hang the caller). */
static void set_send_timeout(int fd, int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Opens c->fd to c->path. */
static int open_socket(struct tdm_ctl *c)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    memcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd >= 0)
        set_send_timeout(c->fd, c->timeout_ms);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = errno;

        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        return tdm_set_error(err, "%s: connect: %s", c->path, strerror(err));
    }
    return 0;
}

struct tdm_ctl *tdm_ctl_connect(const char *run_dir, unsigned domid)
{
    struct tdm_ctl *c;
    int n;

    c = calloc(1, sizeof(*c));
    if (!c) {
        tdm_set_error(ENOMEM, "dom%u: out of memory", domid);
        return NULL;
    }
    n = snprintf(c->path, sizeof(c->path), "%s/dom%u.ctl", tdm_run_dir(run_dir), domid);
    if (n < 0 || (size_t)n >= sizeof(c->path)) {
        tdm_set_error(ENAMETOOLONG, "dom%u: control socket path too long", domid);
        free(c);
        return NULL;
    }
    c->domid = domid;
    c->timeout_ms = TDM_CTL_TIMEOUT_MS;
    if (open_socket(c) < 0) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void tdm_ctl_close(struct tdm_ctl *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

unsigned tdm_ctl_domid(const struct tdm_ctl *c)
{
    return c->domid;
}

void tdm_ctl_set_timeout(struct tdm_ctl *c, int timeout_ms)
{
    pthread_mutex_lock(&c->lock);
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : TDM_CTL_TIMEOUT_MS;
    if (c->fd >= 0)
        set_send_timeout(c->fd, c->timeout_ms);
    pthread_mutex_unlock(&c->lock);
}

pid_t tdm_ctl_peer_pid(struct tdm_ctl *c)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    int rc;

    pthread_mutex_lock(&c->lock);
    rc = c->fd >= 0 ? getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) : -1;
    pthread_mutex_unlock(&c->lock);
    return rc == 0 ? cr.pid : -1;
}

int tdm_ctl_release_fd(struct tdm_ctl *c)
{
    int fd = c->fd;

    if (c->broken || fd < 0) {
        tdm_ctl_close(c);
        return tdm_set_error(ENOTCONN, "control connection already failed");
    }
    c->fd = -1;
    tdm_ctl_close(c);
    return fd;
}

void tdm_ctl_reply_close_fds(struct tdm_ctl_reply *r)
{
    for (unsigned i = 0; i < r->nfds; i++)
        close(r->fds[i]);
    r->nfds = 0;
}

static const struct { const char *name; int err; } errno_names[] = {
    { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH },
    { "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG },
    { "EBADF", EBADF }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
    { "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY },
    { "EEXIST", EEXIST }, { "ENODEV", ENODEV }, { "EINVAL", EINVAL },
    { "ENFILE", ENFILE }, { "EMFILE", EMFILE }, { "ENOSPC", ENOSPC },
    { "ERANGE", ERANGE }, { "ENOSYS", ENOSYS }, { "ENOTSUP", ENOTSUP },
    { "EOPNOTSUPP", EOPNOTSUPP }, { "EOVERFLOW", EOVERFLOW },
    { "ETIMEDOUT", ETIMEDOUT }, { "ENOTCONN", ENOTCONN },
    { "EALREADY", EALREADY }, { "ESHUTDOWN", ESHUTDOWN },
};

int tdm_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (strcmp(errno_names[i].name, name) == 0)
            return errno_names[i].err;
    return EIO;
}

/* A key is [a-z0-9_-]+; values are any non-space printable text. */
static int valid_key(const char *k, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = k[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int parse_kv_list(struct tdm_ctl_reply *r, char *p)
{
    while (*p) {
        char *tok = p, *eq;

        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
        if (*tok == '\0')
            continue;                  /* repeated spaces are tolerated */
        eq = strchr(tok, '=');
        if (!eq || !valid_key(tok, (size_t)(eq - tok)))
            return tdm_set_error(EPROTO, "reply token '%.40s' is not key=value", tok);
        if (r->nkv == TDM_CTL_MAX_KV)
            return tdm_set_error(EPROTO, "reply has more than %d values", TDM_CTL_MAX_KV);
        *eq = '\0';
        r->key[r->nkv] = tok;
        r->val[r->nkv] = eq + 1;
        r->nkv++;
    }
    return 0;
}

static int printable_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

int tdm_ctl_parse_reply(struct tdm_ctl_reply *r)
{
    char *line = r->line;

    r->nkv = 0;
    if (!printable_line(line))
        return tdm_set_error(EPROTO, "reply contains non-printable bytes");
    if (strcmp(line, "OK") == 0)
        return 0;
    if (strncmp(line, "OK ", 3) == 0)
        return parse_kv_list(r, line + 3);
    if (strncmp(line, "ERR ", 4) == 0) {
        char *name = line + 4, *msg = strchr(name, ' ');
        int err;

        if (msg)
            *msg++ = '\0';
        if (*name == '\0')
            return tdm_set_error(EPROTO, "ERR reply without an error name");
        err = tdm_errno_from_name(name);
        tdm_set_error(err, "%s%s%s", name, msg ? ": " : "", msg ? msg : "");
        return err;
    }
    return tdm_set_error(EPROTO, "reply '%.40s' is neither OK nor ERR", line);
}

const char *tdm_ctl_get(const struct tdm_ctl_reply *r, const char *key)
{
    for (unsigned i = 0; i < r->nkv; i++)
        if (strcmp(r->key[i], key) == 0)
            return r->val[i];
    return NULL;
}

int tdm_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        unsigned d;

        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int tdm_ctl_get_u64(const struct tdm_ctl_reply *r, const char *key,
                    uint64_t max, uint64_t *out)
{
    const char *v = tdm_ctl_get(r, key);

    if (!v)
        return tdm_set_error(EPROTO, "reply lacks '%s='", key);
    if (tdm_parse_u64(v, max, out) < 0)
        return tdm_set_error(EPROTO, "reply value %s=%.40s is not a number <= %llu",
                             key, v, (unsigned long long)max);
    return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or the reply's deadline passed: a VMM that
 * trickles bytes cannot stretch one reply beyond the timeout. */
static int wait_readable(int fd, int64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    for (;;) {
        int64_t left = deadline - now_ms();
        int n = poll(&p, 1, left > 0 ? (int)left : 0);

        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* Takes the fds out of one received message, closing any beyond the cap. */
static void collect_fds(struct msghdr *mh, struct tdm_ctl_reply *r)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        size_t n;
        int *fds;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *)CMSG_DATA(cm);
        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, &fds[i], sizeof(fd));
            if (r->nfds < TDM_CTL_MAX_FDS)
                r->fds[r->nfds++] = fd;
            else
                close(fd);
        }
    }
}

/* Reads exactly one line: peek for the newline, then consume up to it, so
 * bytes after it (a misbehaving peer) stay for the next read instead of
 * being mistaken for part of this reply. */
static int recv_line(struct tdm_ctl *c, struct tdm_ctl_reply *r)
{
    size_t len = 0, cap = TDM_CTL_LINE_MAX - 1;
    int64_t deadline = now_ms() + c->timeout_ms;

    r->nfds = 0;
    for (;;) {
        union { char buf[CMSG_SPACE(sizeof(int) * TDM_CTL_MAX_FDS)]; struct cmsghdr al; } cbuf;
        struct iovec iov;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
        char *nl;
        ssize_t n;

        if (len == cap)
            return tdm_set_error(EMSGSIZE, "dom%u: reply longer than %zu bytes", c->domid, cap);
        if (wait_readable(c->fd, deadline) < 0)
            return tdm_set_error(errno, "dom%u: waiting for reply: %s", c->domid, strerror(errno));
        n = recv(c->fd, r->line + len, cap - len, MSG_PEEK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tdm_set_error(errno, "dom%u: recv: %s", c->domid, strerror(errno));
        if (n == 0)
            return tdm_set_error(ECONNRESET, "dom%u: VMM closed the control socket", c->domid);
        nl = memchr(r->line + len, '\n', (size_t)n);
        iov.iov_base = r->line + len;
        iov.iov_len = nl ? (size_t)(nl - (r->line + len)) + 1 : (size_t)n;
        n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
            return tdm_set_error(errno, "dom%u: recvmsg: %s", c->domid, strerror(errno));
        collect_fds(&mh, r);
        if (mh.msg_flags & MSG_CTRUNC)
            return tdm_set_error(EPROTO, "dom%u: reply carried too many fds", c->domid);
        len += (size_t)n;
        if (n > 0 && r->line[len - 1] == '\n') {
            r->line[len - 1] = '\0';
            return 0;
        }
    }
}

static int do_request(struct tdm_ctl *c, const char *request, unsigned want_fds,
                      struct tdm_ctl_reply *r)
{
    size_t len = strlen(request);
    char line[TDM_CTL_LINE_MAX + 1];
    int rc;

    r->was_ok = 0;
    r->nfds = 0;
    if (len == 0 || len >= TDM_CTL_LINE_MAX || strchr(request, '\n'))
        return tdm_set_error(EINVAL, "dom%u: bad request line", c->domid);
    if (c->broken) {               /* e.g. the VMM restarted: start afresh */
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        if (open_socket(c) < 0)
            return -1;
        c->broken = 0;
    }
    /* One send: a peer that reads once must see the whole line. */
    memcpy(line, request, len);
    line[len] = '\n';
    if (send_all(c->fd, line, len + 1) < 0) {
        c->broken = 1;
        return tdm_set_error(errno, "dom%u: sending '%s': %s", c->domid, request, strerror(errno));
    }
    if (recv_line(c, r) < 0) {
        c->broken = 1;
        return -1;
    }
    rc = tdm_ctl_parse_reply(r);
    r->was_ok = rc == 0;
    if (rc != 0)
        return tdm_add_context("dom%u: %s: ", c->domid, request);
    if (want_fds == TDM_CTL_ANY_FDS)
        tdm_ctl_reply_close_fds(r);
    else if (r->nfds != want_fds)
        return tdm_set_error(EPROTO, "dom%u: %s: reply carried %u fds, expected %u",
                             c->domid, request, r->nfds, want_fds);
    return 0;
}

int tdm_ctl_request(struct tdm_ctl *c, const char *request, unsigned want_fds,
                    struct tdm_ctl_reply *r)
{
    int rc;

    pthread_mutex_lock(&c->lock);
    rc = do_request(c, request, want_fds, r);
    pthread_mutex_unlock(&c->lock);
    if (rc < 0) {
        int err = errno;
        tdm_ctl_reply_close_fds(r);
        errno = err;
    }
    return rc;
}

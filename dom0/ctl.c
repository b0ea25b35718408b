#include "ctl.h"
#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_connect(unsigned domid)
{
    char *path = rundir_ctl_path(domid);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        goto out;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        fd = -1;
        errno = e;
    }
out:
    free(path);
    return fd;
}

static void close_passed_fds(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++)
            close(fds[i]);
    }
}

/* Reads up to the first newline, with a deadline so that a wedged VMM
 * cannot hang the CLI. */
static int read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    int64_t deadline = now_ms() + CTL_TIMEOUT_MS;
    while (n + 1 < len) {
        int left = (int)(deadline - now_ms());
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, left) == 0) {
            snprintf(buf, len, "timed out waiting for the VMM's reply");
            return -1;
        }
        char cbuf[CMSG_SPACE(8 * sizeof(int))];
        struct iovec iov = { .iov_base = buf + n, .iov_len = len - 1 - n };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(buf, len, "%s", r < 0 ? strerror(errno) : "connection closed by the VMM");
            return -1;
        }
        close_passed_fds(&mh);
        char *nl = memchr(buf + n, '\n', (size_t)r);
        n += (size_t)r;
        if (nl) {
            *nl = '\0';
            return 0;
        }
    }
    snprintf(buf, len, "reply line too long");
    return -1;
}

int ctl_call(int fd, const char *request, char *reply, size_t len)
{
    char *line = xasprintf("%s\n", request);
    size_t sent = 0, total = strlen(line);
    while (sent < total) {
        ssize_t w = send(fd, line + sent, total - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(reply, len, "%s", strerror(errno));
            free(line);
            return -1;
        }
        sent += (size_t)w;
    }
    free(line);
    if (read_line(fd, reply, len) < 0)
        return -1;
    if (!strncmp(reply, "OK", 2) && (reply[2] == '\0' || reply[2] == ' '))
        return 0;
    if (!strncmp(reply, "ERR ", 4))
        memmove(reply, reply + 4, strlen(reply + 4) + 1);
    return -1;
}

int ctl_request(unsigned domid, const char *request, char *reply, size_t len)
{
    int fd = ctl_connect(domid);
    if (fd < 0) {
        snprintf(reply, len, "no control socket for domain %u: %s", domid, strerror(errno));
        return -1;
    }
    int rc = ctl_call(fd, request, reply, len);
    close(fd);
    return rc;
}

bool ctl_get(const char *reply, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);
    const char *p = reply;
    while ((p = strchr(p, ' ')) != NULL) {
        p++;
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = strcspn(v, " ");
            if (vlen >= len)
                vlen = len - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
    }
    return false;
}

pid_t ctl_peer_pid(int fd)
{
    struct ucred cr;
    socklen_t l = sizeof(cr);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
        return -1;
    return cr.pid;
}

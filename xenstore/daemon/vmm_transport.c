/*
 * The real domain transport: the ring page and event channel come from the
 * domain's tandem-vmm.  We connect to <vmm-dir>/dom<ID>.ctl, send
 * "xenstore-ring\n" and get "OK gpa=<hex> offset=<dec> port=<dec>\n" with
 * three fds (guest memfd, kick eventfd, notify eventfd), see
 * docs/control-socket.md.  The exchange is short and blocking, bounded by a
 * 2 s socket timeout.  The control connection is then kept open: when the
 * VMM exits it hangs up, which tells us the domain is gone (Xen learns that
 * from VIRQ_DOM_EXC).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstored.h"

const char *xsd_vmm_dir = ".";

static int parse_reply(const char *line, uint64_t *gpa, uint64_t *offset, unsigned int *port)
{
    const char *p;
    char *end;
    int seen = 0;

    if (strncmp(line, "OK", 2) != 0)
        return EINVAL;
    for (p = line + 2; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, "gpa=", 4) == 0) {
            *gpa = strtoull(p + 4, &end, 16);
            seen |= 1;
        } else if (strncmp(p, "offset=", 7) == 0) {
            *offset = strtoull(p + 7, &end, 10);
            seen |= 2;
        } else if (strncmp(p, "port=", 5) == 0) {
            *port = (unsigned int)strtoul(p + 5, &end, 10);
            seen |= 4;
        } else {
            end = strchr(p, ' ');
            if (!end)
                break;
        }
        if (end == p)
            return EINVAL;
        p = end;
        if (*p && *p != ' ')
            return EINVAL;
    }
    return seen == 7 ? 0 : EINVAL;
}

/* Reads one reply line, collecting SCM_RIGHTS fds that come with it. */
static int read_reply(int s, char *line, size_t size, int *fds, int *nfds)
{
    size_t len = 0;

    *nfds = 0;
    while (len + 1 < size) {
        char cbuf[CMSG_SPACE(sizeof(int) * 8)];
        struct iovec iov = { line + len, size - 1 - len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
            return n == 0 ? EPIPE : errno;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            int *in = (int *)CMSG_DATA(cm);
            for (int i = 0; i < k; i++) {
                if (*nfds < 3)
                    fds[(*nfds)++] = in[i];
                else
                    close(in[i]);
            }
        }
        len += (size_t)n;
        line[len] = '\0';
        if (memchr(line, '\n', len)) {
            *strchr(line, '\n') = '\0';
            return 0;
        }
    }
    return EINVAL;
}

static int vmm_attach(const struct domain_transport *t, unsigned int domid, uint64_t gfn,
                      unsigned int port, struct ring_attach *out)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { 2, 0 };
    static const char req[] = "xenstore-ring\n";
    char line[256];
    int fds[3], nfds = 0, s, err;
    uint64_t gpa = 0, offset = 0, pageoff;
    unsigned int vport = 0;
    void *base;

    (void)t;
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dom%u.ctl", xsd_vmm_dir, domid) >=
        sizeof(sa.sun_path))
        return EINVAL;
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errno;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        xsd_log(XSD_LOG_ERR, "domain %u: cannot reach %s: %m", domid, sa.sun_path);
        close(s);
        return EINVAL;
    }
    err = send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1) ? 0 : EIO;
    if (!err)
        err = read_reply(s, line, sizeof(line), fds, &nfds);
    if (!err && parse_reply(line, &gpa, &offset, &vport) != 0) {
        xsd_log(XSD_LOG_ERR, "domain %u: bad xenstore-ring reply '%s'", domid, line);
        err = EINVAL;
    }
    if (!err && nfds != 3) {
        xsd_log(XSD_LOG_ERR, "domain %u: xenstore-ring reply carried %d fds, want 3", domid, nfds);
        err = EINVAL;
    }
    if (err)
        goto fail;
    if (gfn && gpa >> 12 != gfn)
        xsd_log(XSD_LOG_INFO, "domain %u: INTRODUCE gfn %#llx, VMM ring at gpa %#llx", domid,
                (unsigned long long)gfn, (unsigned long long)gpa);
    if (vport != port)
        xsd_log(XSD_LOG_INFO, "domain %u: INTRODUCE port %u, VMM port %u", domid, port, vport);
    pageoff = offset & 4095u;
    base = mmap(NULL, 4096 + pageoff, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0],
                (off_t)(offset - pageoff));
    if (base == MAP_FAILED) {
        err = EINVAL;
        goto fail;
    }
    close(fds[0]);
    out->map_base = base;
    out->map_len = 4096 + pageoff;
    out->page = (char *)base + pageoff;
    out->kick_fd = fds[1];
    out->notify_fd = fds[2];
    out->ctl_fd = s;
    return 0;

fail:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    close(s);
    return err == EINVAL ? EINVAL : EIO;
}

static void vmm_detach(const struct domain_transport *t, struct ring_attach *ra)
{
    (void)t;
    if (ra->map_base)
        munmap(ra->map_base, ra->map_len);
    if (ra->kick_fd >= 0)
        close(ra->kick_fd);
    if (ra->notify_fd >= 0)
        close(ra->notify_fd);
    if (ra->ctl_fd >= 0)
        close(ra->ctl_fd);
}

const struct domain_transport vmm_transport = {
    .name = "tandem-vmm", .attach = vmm_attach, .detach = vmm_detach,
};

/*
 * The privileged control socket <run-dir>/dom<ID>.ctl (mode 0600), protocol
 * of docs/control-socket.md: one request line, one reply line, fds by
 * SCM_RIGHTS. Requests are parsed and checked here; a bad line gets
 * "ERR EINVAL ..." and the connection carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "public/sched.h"
#include "vmm.h"

#define CTL_LINE_MAX 512
#define CTL_MAX_CLIENTS 16
#define CTL_MAX_ARGS 8

struct ctl_client {
    struct loop_handler h;
    char buf[CTL_LINE_MAX];
    size_t len;
    bool used;
};

#define CTL_MAX_REQUESTS 8

static struct loop_handler listen_h;
static struct ctl_client clients[CTL_MAX_CLIENTS];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* Requests that services serve (control_add_request). */
static struct {
    const char *name;
    control_fn fn;
} requests[CTL_MAX_REQUESTS];
static unsigned int nr_requests;

int control_add_request(const char *name, control_fn fn)
{
    if (nr_requests == CTL_MAX_REQUESTS)
        return -1;
    requests[nr_requests].name = name;
    requests[nr_requests++].fn = fn;
    return 0;
}

void control_reply(int fd, const char *line, const int *fds, int nfds)
{
    struct iovec iov = { (void *)line, strlen(line) };
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    }
    if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        fprintf(stderr, "tandem-vmm: control reply: %s\n", strerror(errno));
}

void control_reply_err(int fd, const char *errname, const char *msg)
{
    char line[CTL_LINE_MAX + 64];
    snprintf(line, sizeof(line), "ERR %s %s\n", errname, msg);
    control_reply(fd, line, NULL, 0);
}

static void op_info(struct vm *vm, int fd)
{
    char line[CTL_LINE_MAX];
    snprintf(line, sizeof(line),
             "OK domid=%u name=%s uuid=%s state=%s vcpus=%u memory_kib=%llu cpu_mode=%s\n",
             vm->cfg->domid, vm->cfg->name, vm->cfg->uuid, vm_state_name(vm), vm->nr_vcpus,
             (unsigned long long)(vm->ram_size >> 10), vm->pvm ? "pvm" : "plain");
    control_reply(fd, line, NULL, 0);
}

static void op_memory(struct vm *vm, int fd)
{
    char line[CTL_LINE_MAX];
    pthread_mutex_lock(&vm->lock);
    uint64_t si = vm->shared_info_gpa;
    pthread_mutex_unlock(&vm->lock);
    snprintf(line, sizeof(line),
             "OK ram_size=%llu region_gpa=%#llx region_offset=%llu region_size=%llu "
             "shared_info_gpa=%#llx\n",
             (unsigned long long)vm->ram_size, (unsigned long long)TANDEM_REGION_GPA,
             (unsigned long long)vm->ram_size, (unsigned long long)TANDEM_REGION_SIZE,
             (unsigned long long)si);
    control_reply(fd, line, &vm->memfd, 1);
}

static void op_shutdown(struct vm *vm, int fd, char **argv, int argc)
{
    static const char *const reasons[] = { "poweroff", "reboot", "suspend", "crash" };
    if (argc == 2 && !strncmp(argv[1], "reason=", 7)) {
        for (unsigned int r = 0; r < 4; r++) {
            if (!strcmp(argv[1] + 7, reasons[r])) {
                control_reply(fd, "OK\n", NULL, 0);
                vm_guest_shutdown(vm, r);
                return;
            }
        }
    }
    control_reply_err(fd, "EINVAL", "usage: shutdown reason=poweroff|reboot|suspend|crash");
}

/* save file=PATH [toolstack=PATH]: PATH absolute. On success the VMM
 * exits with status 4 (suspend) after the reply; on failure the guest
 * carries on (its SCHEDOP_shutdown returns 1). */
static void op_save(struct vm *vm, int fd, char **argv, int argc)
{
    const char *file = NULL, *toolstack = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "file=", 5) && !file)
            file = argv[i] + 5;
        else if (!strncmp(argv[i], "toolstack=", 10) && !toolstack)
            toolstack = argv[i] + 10;
        else
            file = "";
    }
    if (!file || file[0] != '/' || (toolstack && toolstack[0] != '/')) {
        control_reply_err(fd, "EINVAL", "usage: save file=/ABSOLUTE/PATH [toolstack=/ABSOLUTE/PATH]");
        return;
    }
    if (!atomic_load(&vm->suspended)) {
        control_reply_err(fd, "EAGAIN", "the domain has not suspended (SCHEDOP_shutdown(SHUTDOWN_suspend))");
        return;
    }
    char err[400];
    if (vm_save(vm, file, toolstack, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: save to %s failed: %s; the domain carries on\n", file, err);
        control_reply_err(fd, "EIO", err);
        vm_resume_suspended(vm);
        return;
    }
    control_reply(fd, "OK\n", NULL, 0);
    vm_stop(vm, TANDEM_EXIT_SUSPEND, "saved");
}

static const char *errno_name(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    case EAGAIN: return "EAGAIN";
    case ENOSPC: return "ENOSPC";
    default: return "EIO";
    }
}

/* N decimal or 0x hex, the whole string, nothing else. */
static int parse_u32(const char *s, uint32_t *out)
{
    if (*s < '0' || *s > '9') /* strtoul would skip blanks and take a sign */
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end || v > 0xffffffffUL)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "port=N", nothing else. */
static int parse_port(char **argv, int argc, uint32_t *port)
{
    if (argc != 2 || strncmp(argv[1], "port=", 5))
        return -1;
    return parse_u32(argv[1] + 5, port);
}

/* "dom0_port=D" instead of "port=N": the guest port bound to the dom0
 * port this connection allocated with evtchn-alloc. */
static int resolve_bind_port(struct vm *vm, struct ctl_client *c, char **argv, int argc,
                             uint32_t *port)
{
    if (argc == 2 && !strncmp(argv[1], "dom0_port=", 10)) {
        uint32_t d0;
        if (parse_u32(argv[1] + 10, &d0)) {
            control_reply_err(c->h.fd, "EINVAL", "usage: evtchn-bind port=N | dom0_port=N");
            return -1;
        }
        int r = evtchn_ctl_guest_port(vm, c, d0, port);
        if (r) {
            char msg[128];
            snprintf(msg, sizeof(msg), "dom0 port %u: %s", d0,
                     r == -EAGAIN ? "the guest has not bound it yet"
                                  : "not allocated on this connection");
            control_reply_err(c->h.fd, errno_name(-r), msg);
            return -1;
        }
        return 0;
    }
    if (parse_port(argv, argc, port)) {
        control_reply_err(c->h.fd, "EINVAL", "usage: evtchn-bind port=N | dom0_port=N");
        return -1;
    }
    return 0;
}

/* A connection that has hung up but whose EOF the loop has not reached
 * yet still owns its bindings; a bind that collides with one would see
 * EBUSY although the client already closed (a service restarting, or one
 * that closes and re-binds). Releases the bindings of every such
 * connection; the connection itself is dropped when its EOF comes round,
 * so no handler of this loop pass goes away under it. */
static void release_hung_up(struct vm *vm, const struct ctl_client *self)
{
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        struct ctl_client *o = &clients[i];
        /* POLLHUP: the peer closed (a half-close with SHUT_WR only gives
         * POLLRDHUP, and such a client may still be waiting for replies). */
        struct pollfd p = { .fd = o->h.fd, .events = 0 };

        if (!o->used || o == self)
            continue;
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
            evtchn_ctl_drop_owner(vm, o);
    }
}

static void op_evtchn_bind(struct vm *vm, struct ctl_client *c, char **argv, int argc)
{
    uint32_t port;
    if (resolve_bind_port(vm, c, argv, argc, &port))
        return;
    char line[CTL_LINE_MAX];
    int fds[3];
    const char *why;
    int r = evtchn_ctl_bind(vm, c, port, fds, line, sizeof(line) - 1, &why);
    if (r == -EBUSY) {
        release_hung_up(vm, c);
        r = evtchn_ctl_bind(vm, c, port, fds, line, sizeof(line) - 1, &why);
    }
    if (r) {
        char msg[128];
        snprintf(msg, sizeof(msg), "port %u: %s", port, why);
        control_reply_err(c->h.fd, errno_name(-r), msg);
        return;
    }
    strcat(line, "\n");
    control_reply(c->h.fd, line, fds, 3);
}

static void op_evtchn_alloc(struct vm *vm, struct ctl_client *c, int argc)
{
    uint32_t d0;
    if (argc != 1) {
        control_reply_err(c->h.fd, "EINVAL", "usage: evtchn-alloc");
        return;
    }
    if (evtchn_ctl_alloc(vm, c, &d0)) {
        control_reply_err(c->h.fd, "ENOSPC", "no free dom0 port");
        return;
    }
    char line[64];
    snprintf(line, sizeof(line), "OK port=%u\n", d0);
    control_reply(c->h.fd, line, NULL, 0);
}

static void op_evtchn_unbind(struct vm *vm, struct ctl_client *c, char **argv, int argc)
{
    uint32_t port;
    if (parse_port(argv, argc, &port)) {
        control_reply_err(c->h.fd, "EINVAL", "usage: evtchn-unbind port=N");
        return;
    }
    if (evtchn_ctl_unbind(vm, c, port))
        control_reply_err(c->h.fd, "EINVAL", "port is not bound on this connection");
    else
        control_reply(c->h.fd, "OK\n", NULL, 0);
}

/* Where the guest put its grant-table frames, in frame order (only the
 * leading frames that are all placed). */
static void op_gnttab(struct vm *vm, int fd)
{
    char line[CTL_LINE_MAX + 1024];
    pthread_mutex_lock(&vm->lock);
    unsigned int n = 0;
    while (n < TANDEM_MAX_GRANT_FRAMES && vm->gnttab_gpa[n])
        n++;
    int len = snprintf(line, sizeof(line), "OK version=1 nr_frames=%u max_frames=%d", n,
                       TANDEM_MAX_GRANT_FRAMES);
    for (unsigned int i = 0; i < n; i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%#llx", i ? "," : " frames=",
                        (unsigned long long)vm->gnttab_gpa[i]);
    /* Where each frame is in the memfd (a frame outside RAM is an overlay
     * onto a page of the platform region). */
    for (unsigned int i = 0; i < n; i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%#llx", i ? "," : " offsets=",
                        (unsigned long long)gnttab_frame_offset(vm, i));
    pthread_mutex_unlock(&vm->lock);
    snprintf(line + len, sizeof(line) - (size_t)len, "\n");
    control_reply(fd, line, NULL, 0);
}

static void handle_line(struct vm *vm, struct ctl_client *c, char *line)
{
    int fd = c->h.fd;
    char *argv[CTL_MAX_ARGS];
    int argc = 0;
    for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (argc == CTL_MAX_ARGS) {
            control_reply_err(fd, "EINVAL", "too many arguments");
            return;
        }
        argv[argc++] = tok;
    }
    if (argc == 0) {
        control_reply_err(fd, "EINVAL", "empty request");
        return;
    }
    const char *op = argv[0];
    if (!strcmp(op, "shutdown")) {
        op_shutdown(vm, fd, argv, argc);
        return;
    }
    if (!strcmp(op, "save")) {
        op_save(vm, fd, argv, argc);
        return;
    }
    if (!strcmp(op, "evtchn-bind")) {
        op_evtchn_bind(vm, c, argv, argc);
        return;
    }
    if (!strcmp(op, "evtchn-alloc")) {
        op_evtchn_alloc(vm, c, argc);
        return;
    }
    if (!strcmp(op, "evtchn-unbind")) {
        op_evtchn_unbind(vm, c, argv, argc);
        return;
    }
    for (unsigned int i = 0; i < nr_requests; i++) {
        if (!strcmp(op, requests[i].name)) {
            requests[i].fn(vm, fd, argv, argc);
            return;
        }
    }
    if (argc != 1) {
        control_reply_err(fd, "EINVAL", "this request takes no arguments");
        return;
    }
    if (!strcmp(op, "info")) {
        op_info(vm, fd);
    } else if (!strcmp(op, "pause") || !strcmp(op, "unpause")) {
        vm_set_paused(vm, op[0] == 'p');
        control_reply(fd, "OK\n", NULL, 0);
    } else if (!strcmp(op, "resume")) {
        if (vm_resume_suspended(vm))
            control_reply_err(fd, "EINVAL", "the domain is not suspended");
        else
            control_reply(fd, "OK\n", NULL, 0);
    } else if (!strcmp(op, "destroy")) {
        control_reply(fd, "OK\n", NULL, 0);
        vm_stop(vm, TANDEM_EXIT_DESTROYED, "destroyed via control socket");
    } else if (!strcmp(op, "memory")) {
        op_memory(vm, fd);
    } else if (!strcmp(op, "gnttab")) {
        op_gnttab(vm, fd);
    } else {
        char msg[96];
        snprintf(msg, sizeof(msg), "unknown request '%.40s'", op);
        control_reply_err(fd, "EINVAL", msg);
    }
}

static void drop_client(struct vm *vm, struct ctl_client *c)
{
    evtchn_ctl_drop_owner(vm, c); /* its bindings die with it */
    loop_del(&c->h);
    close(c->h.fd);
    c->used = false;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
            return false;
    return true;
}

static void on_client(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    struct ctl_client *c = h->ctx;
    ssize_t n = read(h->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR) || (ev & (EPOLLHUP | EPOLLERR)))
            drop_client(vm, c);
        return;
    }
    c->len += (size_t)n;
    char *nl;
    while ((nl = memchr(c->buf, '\n', c->len))) {
        size_t linelen = (size_t)(nl - c->buf);
        *nl = 0;
        size_t textlen = linelen;
        if (textlen && c->buf[textlen - 1] == '\r')
            c->buf[--textlen] = 0;
        /* an embedded NUL or control character is not a request */
        if (strlen(c->buf) == textlen && printable(c->buf, textlen))
            handle_line(vm, c, c->buf);
        else
            control_reply_err(h->fd, "EINVAL", "request is not printable text");
        c->len -= linelen + 1;
        memmove(c->buf, nl + 1, c->len);
    }
    if (c->len == sizeof(c->buf)) {
        control_reply_err(h->fd, "EINVAL", "request line too long");
        drop_client(vm, c);
    }
}

static void on_accept(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        struct ctl_client *c = &clients[i];
        if (c->used)
            continue;
        c->used = true;
        c->len = 0;
        c->h = (struct loop_handler){ on_client, fd, c };
        if (loop_add(&c->h, EPOLLIN) == 0)
            return;
        c->used = false;
        break;
    }
    (void)vm;
    control_reply_err(fd, "EBUSY", "too many control connections");
    close(fd);
}

/* A live VMM already owns the path: refuse. A stale socket is replaced. */
static int claim_path(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int live = connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(s);
    if (live) {
        fprintf(stderr, "tandem-vmm: %s: a domain with this id is already running\n", path);
        return -1;
    }
    unlink(path);
    return 0;
}

int control_open(struct vm *vm)
{
    const char *dir = vm->cfg->run_dir;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "tandem-vmm: run directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int n = snprintf(sock_path, sizeof(sock_path), "%s/dom%u.ctl", dir, vm->cfg->domid);
    if (n < 0 || (size_t)n >= sizeof(sock_path)) {
        fprintf(stderr, "tandem-vmm: run directory path too long: %s\n", dir);
        sock_path[0] = 0;
        return -1;
    }
    if (claim_path(sock_path)) {
        sock_path[0] = 0;
        return -1;
    }
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
    mode_t old = umask(077); /* never a moment with a wider mode */
    int r = s < 0 ? -1 : bind(s, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || chmod(sock_path, 0600) < 0 || listen(s, 8) < 0) {
        fprintf(stderr, "tandem-vmm: control socket %s: %s\n", sock_path, strerror(errno));
        if (s >= 0)
            close(s);
        sock_path[0] = 0;
        return -1;
    }
    listen_h = (struct loop_handler){ on_accept, s, vm };
    return loop_add(&listen_h, EPOLLIN);
}

void control_close(struct vm *vm)
{
    (void)vm;
    if (!sock_path[0])
        return;
    unlink(sock_path);
    close(listen_h.fd);
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        if (clients[i].used)
            close(clients[i].h.fd);
    sock_path[0] = 0;
}

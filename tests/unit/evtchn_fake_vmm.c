/* Fake tandem-vmm control socket (see evtchn_fake_vmm.h). */
#include "evtchn_fake_vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 8
#define MAX_SCRIPTS 8
#define MAX_OPS 16

struct script {
    char op[32];
    char line[8192];
    unsigned nfds;
    int used;
};

struct fake_vmm {
    struct fake_vmm_config cfg;
    char dir[64], path[128];
    int listen_fd, stop_fd, memfd;
    uint8_t *mem;
    uint64_t mem_len;
    pthread_t thread;
    pthread_mutex_t lock;
    int conns[MAX_CONNS];
    unsigned nconns;
    unsigned char allowed[FAKE_MAX_PORTS];
    int kick[FAKE_MAX_PORTS], irq[FAKE_MAX_PORTS];
    struct script scripts[MAX_SCRIPTS];
    char ops[MAX_OPS][32];
    unsigned op_count[MAX_OPS];
    unsigned nr_grant_frames;
    unsigned bind_vcpu;
    char bind_extra[128];
};

static void die(const char *what)
{
    fprintf(stderr, "fake_vmm: %s: %s\n", what, strerror(errno));
    abort();                    /* test infrastructure failure, not code under test */
}

static void send_reply(int fd, const char *line, const int *fds, unsigned nfds)
{
    char buf[8200];
    union { char b[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr al; } cbuf;
    struct iovec iov;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    int n = snprintf(buf, sizeof(buf), "%s\n", line);

    iov.iov_base = buf;
    iov.iov_len = (size_t)n;
    if (nfds) {
        struct cmsghdr *cm;

        mh.msg_control = cbuf.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    (void)sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static void count_op(struct fake_vmm *f, const char *op)
{
    for (unsigned i = 0; i < MAX_OPS; i++) {
        if (f->ops[i][0] == '\0')
            snprintf(f->ops[i], sizeof(f->ops[i]), "%.31s", op);
        if (strcmp(f->ops[i], op) == 0) {
            f->op_count[i]++;
            return;
        }
    }
}

static int parse_port(const char *args)
{
    unsigned port;

    if (!args || sscanf(args, "port=%u", &port) != 1 || port >= FAKE_MAX_PORTS)
        return -1;
    return (int)port;
}

static void do_bind(struct fake_vmm *f, int fd, const char *args)
{
    int port = parse_port(args), fds[3];
    char line[256];

    if (port < 0)
        return send_reply(fd, "ERR EINVAL bad port", NULL, 0);
    if (!f->allowed[port])
        return send_reply(fd, "ERR ENOENT port is not unbound for dom0", NULL, 0);
    if (f->kick[port] >= 0)
        return send_reply(fd, "ERR EBUSY port already bound", NULL, 0);
    f->kick[port] = eventfd(0, EFD_CLOEXEC);
    f->irq[port] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    fds[0] = f->memfd;
    fds[1] = f->kick[port];
    fds[2] = f->irq[port];
    snprintf(line, sizeof(line), "OK port=%d vcpu=%u shared_info_offset=0x%llx %s", port,
             f->bind_vcpu, (unsigned long long)(f->cfg.ram_size + FAKE_SHINFO_GPA - FAKE_REGION_GPA),
             f->bind_extra);
    send_reply(fd, line, fds, 3);
}

static void do_unbind(struct fake_vmm *f, int fd, const char *args)
{
    int port = parse_port(args);

    if (port < 0 || f->kick[port] < 0)
        return send_reply(fd, "ERR EINVAL port not bound", NULL, 0);
    close(f->kick[port]);
    close(f->irq[port]);
    f->kick[port] = f->irq[port] = -1;
    send_reply(fd, "OK", NULL, 0);
}

static void do_memory(struct fake_vmm *f, int fd)
{
    char line[256];

    snprintf(line, sizeof(line),
             "OK ram_size=%llu region_gpa=0x%llx region_offset=0x%llx region_size=0x%llx shared_info_gpa=0x%llx",
             (unsigned long long)f->cfg.ram_size, FAKE_REGION_GPA,
             (unsigned long long)f->cfg.ram_size, FAKE_REGION_SIZE, FAKE_SHINFO_GPA);
    send_reply(fd, line, &f->memfd, 1);
}

static void do_gnttab(struct fake_vmm *f, int fd)
{
    char line[4096];
    int n = snprintf(line, sizeof(line), "OK version=1 nr_frames=%u max_frames=32",
                     f->nr_grant_frames);

    for (unsigned i = 0; i < f->nr_grant_frames; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s0x%llx", i ? "," : " frames=",
                      FAKE_GNT_GPA(i));
    send_reply(fd, line, NULL, 0);
}

static int run_script(struct fake_vmm *f, int fd, const char *op)
{
    for (unsigned i = 0; i < MAX_SCRIPTS; i++) {
        struct script *s = &f->scripts[i];
        int fds[8];

        if (!s->used || strcmp(s->op, op) != 0)
            continue;
        s->used = 0;
        for (unsigned k = 0; k < s->nfds; k++)
            fds[k] = f->memfd;
        if (strcmp(s->line, "<close>") == 0)
            return 2;
        send_reply(fd, s->line, fds, s->nfds);
        return 1;
    }
    return 0;
}

/* Serves one request line; returns -1 to drop the connection. */
static int handle(struct fake_vmm *f, int fd, char *line)
{
    char *args = strchr(line, ' ');
    int rc = 0;

    if (args)
        *args++ = '\0';
    pthread_mutex_lock(&f->lock);
    count_op(f, line);
    switch (run_script(f, fd, line)) {
    case 1: goto out;
    case 2: rc = -1; goto out;
    }
    if (strcmp(line, "evtchn-bind") == 0)
        do_bind(f, fd, args);
    else if (strcmp(line, "evtchn-unbind") == 0)
        do_unbind(f, fd, args);
    else if (strcmp(line, "memory") == 0)
        do_memory(f, fd);
    else if (strcmp(line, "gnttab") == 0)
        do_gnttab(f, fd);
    else
        send_reply(fd, "ERR EINVAL unknown request", NULL, 0);
out:
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* Reads one request line byte by byte (requests are short). */
static int serve_conn(struct fake_vmm *f, int fd)
{
    char line[512];
    size_t n = 0;

    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);

        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        if (n < sizeof(line) - 1)
            line[n++] = c;
    }
    line[n] = '\0';
    return handle(f, fd, line);
}

static void drop_conn(struct fake_vmm *f, unsigned i)
{
    close(f->conns[i]);
    f->conns[i] = f->conns[--f->nconns];
}

static void *server(void *arg)
{
    struct fake_vmm *f = arg;

    for (;;) {
        struct pollfd p[MAX_CONNS + 2];
        unsigned n = f->nconns;

        p[0] = (struct pollfd){ .fd = f->stop_fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = f->listen_fd, .events = POLLIN };
        for (unsigned i = 0; i < n; i++)
            p[i + 2] = (struct pollfd){ .fd = f->conns[i], .events = POLLIN };
        if (poll(p, n + 2, -1) < 0 && errno != EINTR)
            die("poll");
        if (p[0].revents)
            return NULL;
        for (unsigned i = n; i-- > 0;)
            if (p[i + 2].revents && serve_conn(f, f->conns[i]) < 0)
                drop_conn(f, i);
        if ((p[1].revents & POLLIN) && f->nconns < MAX_CONNS) {
            int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);

            if (c >= 0)
                f->conns[f->nconns++] = c;
        }
    }
}

static void setup_socket(struct fake_vmm *f)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    snprintf(f->dir, sizeof(f->dir), "/tmp/tandem-fakevmm.XXXXXX");
    if (!mkdtemp(f->dir))
        die("mkdtemp");
    snprintf(f->path, sizeof(f->path), "%s/dom%u.ctl", f->dir, f->cfg.domid);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(f->listen_fd, 8) < 0)
        die("listen");
}

struct fake_vmm *fake_vmm_start(const struct fake_vmm_config *cfg)
{
    struct fake_vmm *f = calloc(1, sizeof(*f));

    if (!f)
        die("calloc");
    f->cfg = *cfg;
    if (!f->cfg.ram_size)
        f->cfg.ram_size = 16 << 20;
    f->nr_grant_frames = cfg->nr_grant_frames;
    for (unsigned i = 0; i < FAKE_MAX_PORTS; i++)
        f->kick[i] = f->irq[i] = -1;
    pthread_mutex_init(&f->lock, NULL);
    f->mem_len = f->cfg.ram_size + FAKE_REGION_SIZE;
    if (cfg->mem_dir) {
        char path[256];

        snprintf(path, sizeof(path), "%s/fake-guest.XXXXXX", cfg->mem_dir);
        f->memfd = mkostemp(path, O_CLOEXEC);
        if (f->memfd >= 0)
            unlink(path);
        /* Allocated up front: a huge tmpfs then backs it with 2 MiB pages
         * (pages faulted in one by one through a mapping may be small). */
        if (f->memfd >= 0 && fallocate(f->memfd, 0, 0, (off_t)f->mem_len) < 0)
            die("fallocate");
    } else {
        f->memfd = memfd_create("fake-guest", MFD_CLOEXEC);
    }
    if (f->memfd < 0 || ftruncate(f->memfd, (off_t)f->mem_len) < 0)
        die("memfd");
    f->mem = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    if (f->mem == MAP_FAILED)
        die("mmap");
    f->stop_fd = eventfd(0, EFD_CLOEXEC);
    setup_socket(f);
    if (pthread_create(&f->thread, NULL, server, f) != 0)
        die("pthread_create");
    return f;
}

void fake_vmm_stop(struct fake_vmm *f)
{
    const uint64_t one = 1;

    (void)!write(f->stop_fd, &one, sizeof(one));
    pthread_join(f->thread, NULL);
    while (f->nconns)
        drop_conn(f, 0);
    for (unsigned i = 0; i < FAKE_MAX_PORTS; i++)
        if (f->kick[i] >= 0) {
            close(f->kick[i]);
            close(f->irq[i]);
        }
    close(f->listen_fd);
    close(f->stop_fd);
    close(f->memfd);
    munmap(f->mem, f->mem_len);
    unlink(f->path);
    rmdir(f->dir);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

const char *fake_vmm_run_dir(const struct fake_vmm *f) { return f->dir; }
int fake_vmm_memfd(const struct fake_vmm *f) { return f->memfd; }
uint8_t *fake_vmm_mem(const struct fake_vmm *f) { return f->mem; }
uint64_t fake_vmm_ram_size(const struct fake_vmm *f) { return f->cfg.ram_size; }

uint8_t *fake_vmm_gpa(const struct fake_vmm *f, uint64_t gpa)
{
    if (gpa < f->cfg.ram_size)
        return f->mem + gpa;
    if (gpa >= FAKE_REGION_GPA && gpa < FAKE_REGION_GPA + FAKE_REGION_SIZE)
        return f->mem + f->cfg.ram_size + (gpa - FAKE_REGION_GPA);
    return NULL;
}

static int port_fd(struct fake_vmm *f, unsigned port, int irq)
{
    int fd;

    if (port >= FAKE_MAX_PORTS)
        return -1;
    pthread_mutex_lock(&f->lock);
    fd = irq ? f->irq[port] : f->kick[port];
    pthread_mutex_unlock(&f->lock);
    return fd;
}

int fake_vmm_kick_fd(struct fake_vmm *f, unsigned port) { return port_fd(f, port, 0); }
int fake_vmm_irq_fd(struct fake_vmm *f, unsigned port) { return port_fd(f, port, 1); }
int fake_vmm_bound(struct fake_vmm *f, unsigned port) { return port_fd(f, port, 0) >= 0; }

void fake_vmm_allow_port(struct fake_vmm *f, unsigned port)
{
    pthread_mutex_lock(&f->lock);
    if (port < FAKE_MAX_PORTS)
        f->allowed[port] = 1;
    pthread_mutex_unlock(&f->lock);
}

void fake_vmm_script(struct fake_vmm *f, const char *op, const char *line, unsigned nfds)
{
    pthread_mutex_lock(&f->lock);
    for (unsigned i = 0; i < MAX_SCRIPTS; i++)
        if (!f->scripts[i].used) {
            struct script *s = &f->scripts[i];

            snprintf(s->op, sizeof(s->op), "%s", op);
            snprintf(s->line, sizeof(s->line), "%s", line);
            s->nfds = nfds > 8 ? 8 : nfds;
            s->used = 1;
            break;
        }
    pthread_mutex_unlock(&f->lock);
}

void fake_vmm_set_bind_vcpu(struct fake_vmm *f, unsigned vcpu, const char *extra)
{
    pthread_mutex_lock(&f->lock);
    f->bind_vcpu = vcpu;
    snprintf(f->bind_extra, sizeof(f->bind_extra), "%s", extra);
    pthread_mutex_unlock(&f->lock);
}

void fake_vmm_set_grant_frames(struct fake_vmm *f, unsigned n)
{
    pthread_mutex_lock(&f->lock);
    f->nr_grant_frames = n;
    pthread_mutex_unlock(&f->lock);
}

unsigned fake_vmm_count(struct fake_vmm *f, const char *op)
{
    unsigned n = 0;

    pthread_mutex_lock(&f->lock);
    for (unsigned i = 0; i < MAX_OPS; i++)
        if (strcmp(f->ops[i], op) == 0)
            n = f->op_count[i];
    pthread_mutex_unlock(&f->lock);
    return n;
}

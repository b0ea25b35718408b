/*
 * The guest's primary console, served in the VMM for now: the
 * xencons_interface ring at 0xFC002000 (port 2), console_io writes and port
 * 0xE9 all go to one destination (stdout, a pty or a file). Input (stdin or
 * the pty) goes to the ring's in[] side.
 *
 * A service of the platform's console port (evtchn_local_add): the guest's
 * sends signal its eventfd, which the main loop watches with the
 * destination and the input source (loop_add); a dom0 console service
 * (tandem-consoled) that binds the port takes it over.
 *
 * Output is never dropped: when the destination would block, the bytes stay
 * in the guest's ring (out_cons is not advanced) and the main loop retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guest_mem.h"
#include "public/io/console.h"
#include "vmm.h"

static struct xencons_interface *ring(struct vm *vm)
{
    return gpa_to_host(vm, TANDEM_CONSOLE_RING_GPA, sizeof(struct xencons_interface), true);
}

static int open_pty(struct vm *vm)
{
    struct console_state *c = &vm->con;
    c->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->pty_master < 0 || grantpt(c->pty_master) || unlockpt(c->pty_master)) {
        fprintf(stderr, "tandem-vmm: console pty: %s\n", strerror(errno));
        return -1;
    }
    const char *name = ptsname(c->pty_master);
    /* Holding the slave open keeps output buffered (not EIO) while nobody
     * is attached; raw mode passes bytes through untouched. */
    c->pty_slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (c->pty_slave < 0) {
        fprintf(stderr, "tandem-vmm: console pty slave: %s\n", strerror(errno));
        return -1;
    }
    struct termios t;
    if (tcgetattr(c->pty_slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(c->pty_slave, TCSANOW, &t);
    }
    fcntl(c->pty_master, F_SETFL, O_NONBLOCK);
    c->out_fd = c->pty_master;
    c->in_fd = vm->cfg->console_daemon ? -1 : c->pty_master;
    snprintf(c->pty_name, sizeof(c->pty_name), "%s", name);
    fprintf(stderr, "tandem-vmm: console on %s\n", name);
    return 0;
}

static int open_destination(struct vm *vm)
{
    struct console_state *c = &vm->con;
    const struct vmm_config *cfg = vm->cfg;
    switch (cfg->console) {
    case CONSOLE_STDIO:
        c->out_fd = STDOUT_FILENO;
        /* With a console daemon, input reaches the ring through it alone. */
        c->in_fd = !cfg->console_daemon &&
                   (isatty(STDIN_FILENO) || fcntl(STDIN_FILENO, F_GETFL) >= 0) ? STDIN_FILENO : -1;
        return 0;
    case CONSOLE_PTY:
        return open_pty(vm);
    case CONSOLE_FILE:
        c->out_fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (c->out_fd < 0) {
            fprintf(stderr, "tandem-vmm: console file %s: %s\n", cfg->console_path,
                    strerror(errno));
            return -1;
        }
        return 0;
    }
    return -1;
}

/* Writes everything, waiting for a blocked destination, but gives up when
 * the domain is stopping (a vCPU blocked here is kicked with a signal). */
static void write_all(struct vm *vm, int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (atomic_load(&vm->state) == VM_STOPPING)
                return;
            if (errno == EAGAIN) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                poll(&pfd, 1, 100);
            }
        } else {
            return; /* destination gone: nothing more we can do */
        }
    }
}

void console_write(struct vm *vm, const void *buf, size_t len)
{
    pthread_mutex_lock(&vm->con.out_lock);
    write_all(vm, vm->con.out_fd, buf, len);
    pthread_mutex_unlock(&vm->con.out_lock);
}

bool console_write_nowait(struct vm *vm, const void *buf, size_t len)
{
    pthread_mutex_lock(&vm->con.out_lock);
    ssize_t n;
    do
        n = write(vm->con.out_fd, buf, len);
    while (n < 0 && errno == EINTR);
    pthread_mutex_unlock(&vm->con.out_lock);
    return n == (ssize_t)len;
}

/* Can the destination take PIPE_BUF bytes without blocking? */
static bool writable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

/*
 * Guest output ring -> destination, without ever blocking the caller (the
 * main loop): chunks of at most PIPE_BUF go out while the destination is
 * writable; the rest stays in the guest's ring (nothing is lost, the guest
 * waits for room) and true is returned so the caller waits for POLLOUT.
 * Indices are read once and checked: a producer more than a ring ahead is
 * treated as a full ring.
 */
static bool drain(struct vm *vm, struct xencons_interface *r);

static bool drain_ring(struct vm *vm)
{
    struct xencons_interface *r = ring(vm);
    /* --console-daemon: the ring waits for tandem-consoled (evtchn-bind
     * port=2), as Xen's waits for xenconsoled; nothing is drained here. */
    if (!r || vm->cfg->console_daemon)
        return false;
    return drain(vm, r);
}

/*
 * At the end: a domain that stopped before tandem-consoled bound its
 * console port (a guest that crashes at once, under a slow host) would take
 * its last words with it. The VMM prints what is left in the ring then;
 * once consoled has the port, the ring stays its own.
 */
static void last_words(struct vm *vm)
{
    struct xencons_interface *r = ring(vm);
    if (!r || (vm->cfg->console_daemon && vm->dom0_ports[TANDEM_CONSOLE_PORT].state == D0_BOUND))
        return;
    drain(vm, r);
}

static bool drain(struct vm *vm, struct xencons_interface *r)
{
    bool blocked = false;
    pthread_mutex_lock(&vm->con.out_lock);
    XENCONS_RING_IDX cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX start = cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
    if (prod - cons > sizeof(r->out))
        cons = prod - (XENCONS_RING_IDX)sizeof(r->out);
    while (cons != prod) {
        if (!writable(vm->con.out_fd)) {
            blocked = true;
            break;
        }
        size_t off = MASK_XENCONS_IDX(cons, r->out);
        size_t chunk = sizeof(r->out) - off;
        if (chunk > prod - cons)
            chunk = prod - cons;
        if (chunk > PIPE_BUF)
            chunk = PIPE_BUF;
        ssize_t n = write(vm->con.out_fd, (const uint8_t *)r->out + off, chunk);
        if (n <= 0) {
            blocked = n < 0 && (errno == EAGAIN || errno == EINTR);
            if (!blocked)
                cons = prod; /* destination gone: drop, or the guest would stall */
            break;
        }
        cons += (XENCONS_RING_IDX)n;
    }
    __atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&vm->con.out_lock);
    if (cons != start)
        evtchn_raise(vm, TANDEM_CONSOLE_PORT); /* room in the ring again */
    return blocked;
}

/* Input source -> the sink (the PC's UART). Reads only what fits. 1: full. */
static int input_to_sink(struct vm *vm)
{
    struct console_input *s = &vm->con.sink;
    int fd = vm->con.in_fd;
    size_t room = s->room(s->opaque);
    if (fd < 0)
        return 0;
    if (room == 0)
        return 1;
    uint8_t buf[64];
    ssize_t n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            vm->con.in_fd = -1;
        return 0;
    }
    s->push(s->opaque, buf, (size_t)n);
    return 0;
}

/* Input source -> guest input ring. Reads only what fits. 1: ring full. */
static int input(struct vm *vm)
{
    if (vm->con.sink.push)
        return input_to_sink(vm);
    struct xencons_interface *r = ring(vm);
    int fd = vm->con.in_fd;
    if (!r || fd < 0)
        return 0;
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = r->in_prod;
    size_t used = prod - cons;
    if (used >= sizeof(r->in))
        return 1;
    char buf[sizeof(r->in)];
    ssize_t n = read(fd, buf, sizeof(r->in) - used);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            vm->con.in_fd = -1; /* EOF: no more input */
        return 0;
    }
    for (ssize_t i = 0; i < n; i++)
        r->in[MASK_XENCONS_IDX(prod++, r->in)] = buf[i];
    __atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
    evtchn_raise(vm, TANDEM_CONSOLE_PORT);
    return 0;
}

/* The main loop's side: the port's eventfd, the destination when it
 * blocked, the input source. */
static struct loop_handler kick_h, out_h, in_h;
static bool out_waiting;
static atomic_bool in_blocked;

/* The destination blocked: drain again when it can take more. */
static void drain_to_destination(struct vm *vm)
{
    bool blocked = drain_ring(vm);
    if (blocked && !out_waiting) {
        if (loop_add(&out_h, EPOLLOUT) == 0)
            out_waiting = true;
    } else if (!blocked && out_waiting) {
        loop_del(&out_h);
        out_waiting = false;
    }
}

static void on_writable(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)h;
    (void)ev;
    drain_to_destination(vm);
}

static void on_kick(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    loop_drain_eventfd(h->fd);
    drain_to_destination(vm);
    if (atomic_exchange(&in_blocked, false)) /* the guest consumed input: room again */
        loop_mod(&in_h, EPOLLIN);
}

static void on_input(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    if (input(vm) == 1) {
        atomic_store(&in_blocked, true);
        loop_mod(h, 0);
        /* the sink may have made room between its answer and now */
        if (vm->con.sink.room && vm->con.sink.room(vm->con.sink.opaque))
            console_input_room(vm);
    } else if (vm->con.in_fd < 0) {
        loop_del(h);
    }
}

static int start_service(struct vm *vm)
{
    struct console_state *c = &vm->con;
    c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int r = c->kick_fd < 0 ? -errno : evtchn_local_add(vm, TANDEM_CONSOLE_PORT, true);
    if (!r)
        r = evtchn_local_kick(vm, TANDEM_CONSOLE_PORT, c->kick_fd);
    if (r) {
        fprintf(stderr, "tandem-vmm: the console's event channel: %s\n", strerror(-r));
        return -1;
    }
    kick_h = (struct loop_handler){ on_kick, c->kick_fd, vm };
    out_h = (struct loop_handler){ on_writable, c->out_fd, vm };
    if (loop_add(&kick_h, EPOLLIN)) {
        fprintf(stderr, "tandem-vmm: console: %s\n", strerror(errno));
        return -1;
    }
    if (c->in_fd >= 0) {
        in_h = (struct loop_handler){ on_input, c->in_fd, vm };
        if (loop_add(&in_h, EPOLLIN)) /* e.g. /dev/null: no input */
            c->in_fd = -1;
    }
    return 0;
}

/* Without the ring (the PC): input only, to the sink set later. */
static int start_input(struct vm *vm)
{
    struct console_state *c = &vm->con;
    if (c->in_fd < 0)
        return 0;
    in_h = (struct loop_handler){ on_input, c->in_fd, vm };
    if (loop_add(&in_h, 0)) /* e.g. /dev/null: no input */
        c->in_fd = -1;
    else
        c->in_registered = true;
    return 0;
}

void console_set_input(struct vm *vm, const struct console_input *in)
{
    vm->con.sink = *in;
    if (vm->con.in_registered)
        loop_mod(&in_h, EPOLLIN);
}

void console_input_room(struct vm *vm)
{
    if (atomic_exchange(&in_blocked, false) && vm->con.in_fd >= 0)
        loop_mod(&in_h, EPOLLIN);
}

int console_init(struct vm *vm)
{
    struct console_state *c = &vm->con;
    pthread_mutex_init(&c->out_lock, NULL);
    c->pty_master = c->pty_slave = c->in_fd = c->kick_fd = c->out_fd = -1;
    if (open_destination(vm) || (vm->pc_platform ? start_input(vm) : start_service(vm))) {
        console_close(vm);
        return -1;
    }
    return 0;
}

/* After the vCPUs have stopped. */
void console_close(struct vm *vm)
{
    struct console_state *c = &vm->con;
    if (c->out_fd >= 0 && !vm->pc_platform)
        last_words(vm);
    if (!vm->pc_platform)
        evtchn_local_remove(vm, TANDEM_CONSOLE_PORT);
    if (c->kick_fd >= 0)
        close(c->kick_fd);
    c->kick_fd = -1;
    if (vm->cfg->console == CONSOLE_FILE && c->out_fd >= 0)
        close(c->out_fd);
    if (c->pty_slave >= 0)
        close(c->pty_slave);
    if (c->pty_master >= 0)
        close(c->pty_master);
}

/* Attaching to a domain's console pty (console.h). */
#include "console.h"
#include "rundir.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* dom0 wrote the path (consoled); still, only a pty device is opened. */
static int open_pty(unsigned domid, const char *tty, bool loud)
{
    if (strncmp(tty, "/dev/pts/", 9) || strstr(tty, "..")) {
        msg("domain %u: console/tty '%s' is not a pty", domid, tty);
        return -1;
    }
    int fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && loud)
        msg("domain %u: %s: %s", domid, tty, strerror(errno));
    return fd;
}

/* consoled's RUNDIR/consoled/domN.tty: the pty's path while consoled keeps
 * it open, also after the domain's xenstore directory is gone, and on its
 * second line the domain's /vm/UUID. vm, when given, must match: the file
 * may still be an ended domain's whose pty drains while a new domain has
 * its domid. */
static int open_published(unsigned domid, const char *vm)
{
    char name[48], buf[192] = "";
    snprintf(name, sizeof(name), "consoled/dom%u.tty", domid);
    char *path = rundir_file(name);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *owner = buf + strcspn(buf, "\n");
    if (*owner)
        *owner++ = '\0';
    owner[strcspn(owner, "\n")] = '\0';
    if (vm && strcmp(owner, vm))
        return -1;
    return buf[0] ? open_pty(domid, buf, false) : -1;
}

/* The PC (type = "hvm"): its /vm/UUID/image/ostype is "hvm", as libxl
 * writes it. */
static bool domain_is_hvm(struct xs_handle *xs, unsigned domid)
{
    char *vm = store_read(xs, "/local/domain/%u/vm", domid);
    char *os = vm && !strncmp(vm, "/vm/", 4) ? store_read(xs, "%s/image/ostype", vm) : NULL;
    bool hvm = os && !strcmp(os, "hvm");
    free(vm);
    free(os);
    return hvm;
}

/* Where the pty of a domain's console is published: the PV console's
 * (console/tty, tandem-consoled's) or the emulated serial port's
 * (serial/0/tty, the PC's COM1, which tandem-vmm serves: type = "hvm").
 * CONSOLE_ANY: the PV console if the domain has one, as xl picks; a PC
 * without one has only COM1 (on a pty unless its serial = says else). */
static void tty_key(struct xs_handle *xs, unsigned domid, enum console_type type, char *path,
                    size_t len)
{
    if (type == CONSOLE_ANY)
        type = !store_exists(xs, "/local/domain/%u/console", domid) &&
               (store_exists(xs, "/local/domain/%u/serial/0/tty", domid) || domain_is_hvm(xs, domid))
               ? CONSOLE_SERIAL : CONSOLE_PV;
    snprintf(path, len, "/local/domain/%u/%s", domid,
             type == CONSOLE_SERIAL ? "serial/0/tty" : "console/tty");
}

int console_open(struct xs_handle *xs, unsigned domid, enum console_type type, int timeout_ms)
{
    char path[96];
    tty_key(xs, domid, type, path, sizeof(path));
    if (store_wait_state(xs, path, true, timeout_ms) < 0) {
        if (strstr(path, "serial"))
            msg("domain %u has no serial console (no %s after %d s%s)", domid, path,
                timeout_ms / 1000, domain_is_hvm(xs, domid) ? ": its COM1 is not on a pty, "
                "see serial = in its configuration" : "");
        else
            msg("domain %u has no console (no %s after %d s: is tandem-consoled running? "
                "see 'tandem services status')", domid, path, timeout_ms / 1000);
        return -1;
    }
    char *tty = store_read(xs, "%s", path);
    if (!tty) {
        msg("domain %u is gone", domid);
        return -1;
    }
    int fd = open_pty(domid, tty, true);
    free(tty);
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* pty -> out; false when the pty hung up. */
static bool copy_out(const struct console_relay *r)
{
    char buf[4096];
    ssize_t n = read(r->pty, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;   /* EIO: the other end closed */
    write_all(r->out_fd, buf, (size_t)n);
    return true;
}

/* in -> pty, stopping at the escape. -1 escape seen, 0 in ended, 1 go on. */
static int copy_in(const struct console_relay *r)
{
    char buf[1024];
    ssize_t n = read(r->in_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (n <= 0)
        return 0;
    size_t len = (size_t)n;
    char *esc = r->escape ? memchr(buf, CONSOLE_ESCAPE, len) : NULL;
    if (esc)
        len = (size_t)(esc - buf);
    write_all(r->pty, buf, len);
    return esc ? -1 : 1;
}

enum relay_end console_relay_run(const struct console_relay *r)
{
    bool in_open = r->in_fd >= 0;
    for (;;) {
        struct pollfd p[3] = {
            { .fd = r->pty, .events = POLLIN },
            { .fd = in_open ? r->in_fd : -1, .events = POLLIN },
            { .fd = r->stop_fd, .events = POLLIN },
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return RELAY_ERROR;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!copy_out(r))
                return RELAY_HANGUP;
            continue;   /* output first: a stop request drains it */
        }
        if (p[1].revents) {
            int c = copy_in(r);
            if (c < 0)
                return RELAY_DETACHED;
            if (c == 0)
                in_open = false;
        }
        if (p[2].revents)
            return RELAY_STOPPED;
    }
}

int console_attach(struct xs_handle *xs, unsigned domid, enum console_type type)
{
    /* consoled publishes console/tty a moment after the domain appears;
     * the VMM registers serial/0/tty with the domain itself */
    int pty = console_open(xs, domid, type, type == CONSOLE_SERIAL ? 1000 : 10000);
    if (pty < 0)
        return 1;
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    struct console_relay r = { .pty = pty, .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
                               .stop_fd = -1, .escape = true };
    enum relay_end end = console_relay_run(&r);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(pty);
    if (end == RELAY_HANGUP)
        fprintf(stderr, "\r\ntandem: domain %u's console closed (the domain ended)\n", domid);
    return end == RELAY_ERROR ? 1 : 0;
}

struct console_follow {
    pthread_t thread;
    unsigned domid;
    char vm[48];               /* /vm/UUID, "" for any */
    int stop[2];               /* written by console_follow_stop */
    atomic_bool vmm_gone;
};

#define FOLLOW_SLICE_MS 100

static void *follow_thread(void *arg)
{
    struct console_follow *f = arg;
    struct xs_handle *xs = store_open(false);   /* a handle of its own */
    char path[96];
    int pty = -1;
    snprintf(path, sizeof(path), "/local/domain/%u/console/tty", f->domid);
    /* Until consoled published the pty (in xenstore, or in its directory,
     * where it stays after the domain's end until consoled closes it), or
     * the VMM is gone without one. */
    char serial[96];
    snprintf(serial, sizeof(serial), "/local/domain/%u/serial/0/tty", f->domid);
    for (;;) {
        bool gone = atomic_load(&f->vmm_gone);   /* before looking: then one last look */
        char *tty = xs ? store_read(xs, "%s", path) : NULL;
        if (!tty && xs)
            tty = store_read(xs, "%s", serial);   /* type = "hvm": COM1's pty, tandem-vmm's */
        pty = tty ? open_pty(f->domid, tty, false) : -1;
        free(tty);
        if (pty < 0)
            pty = open_published(f->domid, f->vm[0] ? f->vm : NULL);
        if (pty >= 0 || gone)
            break;
        if (!xs || store_wait_state(xs, path, true, FOLLOW_SLICE_MS) < 0) {
            struct pollfd none = { .fd = -1 };
            poll(&none, 0, xs ? 0 : FOLLOW_SLICE_MS);
        }
    }
    store_close(xs);
    if (pty >= 0) {
        struct console_relay r = { .pty = pty, .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
                                   .stop_fd = f->stop[0], .escape = false };
        console_relay_run(&r);
        close(pty);
    }
    return NULL;
}

struct console_follow *console_follow_start(unsigned domid, const char *uuid)
{
    struct console_follow *f = calloc(1, sizeof(*f));
    if (!f || pipe2(f->stop, O_CLOEXEC) < 0) {
        free(f);
        return NULL;
    }
    f->domid = domid;
    if (uuid && uuid[0])
        snprintf(f->vm, sizeof(f->vm), "/vm/%s", uuid);
    if (pthread_create(&f->thread, NULL, follow_thread, f) != 0) {
        close(f->stop[0]);
        close(f->stop[1]);
        free(f);
        return NULL;
    }
    return f;
}

void console_follow_stop(struct console_follow *f, int grace_ms)
{
    if (!f)
        return;
    atomic_store(&f->vmm_gone, true);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += grace_ms / 1000;
    until.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(f->thread, NULL, &until) != 0) {
        if (write(f->stop[1], "x", 1) < 0)
            msg("console relay: %s", strerror(errno));
        pthread_join(f->thread, NULL);
    }
    close(f->stop[0]);
    close(f->stop[1]);
    free(f);
}

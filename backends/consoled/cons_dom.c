/* One domain's console (cons_dom.h). */
#include "cons_dom.h"
#include "cons_ring.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "ctl_client.h"
#include "tdm_evtchn.h"

#define PAGE 4096u
#define CTL_TIMEOUT_MS 2000         /* a single-threaded daemon: short bounds */
#define BIND_DELAY_FIRST_MS 5
#define BIND_DELAY_MAX_MS 500
#define DRAIN_TICKS_MAX 200         /* ~10 s at the daemon's 50 ms tick */

static void say(const struct cons_dom *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct cons_dom *d, const char *fmt, ...)
{
    va_list ap;
    if (d->quiet)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "tandem-consoled: dom%u: ", d->domid);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The memfd offset of the ring's page, from the VMM's `memory` reply:
 * inside guest RAM, or inside the platform region after it. */
static int ring_offset(const struct cons_dom *d, const struct tdm_ctl_reply *r, uint64_t *off)
{
    uint64_t ram, rgpa, roff, rsize, gpa = d->ring_gpa;
    if (tdm_ctl_get_u64(r, "ram_size", UINT64_MAX, &ram) < 0 ||
        tdm_ctl_get_u64(r, "region_gpa", UINT64_MAX, &rgpa) < 0 ||
        tdm_ctl_get_u64(r, "region_offset", UINT64_MAX, &roff) < 0 ||
        tdm_ctl_get_u64(r, "region_size", UINT64_MAX, &rsize) < 0)
        return -1;
    if (gpa % PAGE)
        return -1;
    if (gpa >= rgpa && gpa - rgpa < rsize && rsize - (gpa - rgpa) >= PAGE) {
        *off = roff + (gpa - rgpa);
        return 0;
    }
    if (gpa < ram && ram - gpa >= PAGE) {
        *off = gpa;
        return 0;
    }
    return -1;
}

static int map_ring(struct cons_dom *d, const struct cons_env *env)
{
    struct tdm_ctl_reply r;
    struct tdm_ctl *c = tdm_ctl_connect(env->run_dir, d->domid);
    uint64_t off;
    if (!c) {
        say(d, "control socket: %s", tdm_last_error());
        return -1;
    }
    tdm_ctl_set_timeout(c, CTL_TIMEOUT_MS);
    if (tdm_ctl_request(c, "memory", 1, &r) < 0) {
        say(d, "memory: %s", tdm_last_error());
        tdm_ctl_close(c);
        return -1;
    }
    if (ring_offset(d, &r, &off) < 0) {
        say(d, "console ring gpa 0x%llx is not a page of this domain",
            (unsigned long long)d->ring_gpa);
        close(r.fds[0]);
        tdm_ctl_close(c);
        return -1;
    }
    d->ring_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, r.fds[0], (off_t)off);
    close(r.fds[0]);
    if (d->ring_page == MAP_FAILED) {
        d->ring_page = NULL;
        say(d, "mmap console ring: %s", strerror(errno));
        tdm_ctl_close(c);
        return -1;
    }
    d->ring = d->ring_page;
    d->ctl_fd = tdm_ctl_release_fd(c);   /* its hang-up says the VMM is gone */
    return d->ctl_fd < 0 ? -1 : 0;
}

static int open_pty(struct cons_dom *d)
{
    d->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (d->pty_master < 0 || grantpt(d->pty_master) || unlockpt(d->pty_master) ||
        ptsname_r(d->pty_master, d->tty, sizeof(d->tty))) {
        say(d, "pty: %s", strerror(errno));
        return -1;
    }
    /* Our own slave fd keeps the pty up (writes buffer, no EIO) while
     * nobody is attached; raw mode passes the guest's bytes untouched. */
    d->pty_slave = open(d->tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (d->pty_slave < 0) {
        say(d, "%s: %s", d->tty, strerror(errno));
        return -1;
    }
    struct termios t;
    if (tcgetattr(d->pty_slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(d->pty_slave, TCSANOW, &t);
    }
    return 0;
}

/* guest-NAME.log as xenconsoled names them; the name is dom0-written but
 * is made a safe file name anyway. */
static int open_log(struct cons_dom *d, const struct cons_env *env)
{
    char safe[CONS_NAME_MAX + 1], path[4096];
    size_t i;
    for (i = 0; d->name[i] && i < CONS_NAME_MAX; i++)
        safe[i] = isalnum((unsigned char)d->name[i]) || strchr("-_.", d->name[i]) ? d->name[i] : '_';
    safe[i] = '\0';
    snprintf(path, sizeof(path), "%s/guest-%s.log", env->log_dir, safe);
    d->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (d->log_fd < 0) {
        say(d, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* LOG_DIR/domN.tty holds the pty's path for as long as the pty is open:
 * xenstore's console/tty goes with the domain's directory when the VMM
 * exits, but `tandem run` may still need to find the pty to read the last
 * output (docs/consoled.md). Its second line is the domain's /vm/UUID: a
 * domid is reused while an ended domain's pty drains, and a reader must
 * not take that pty for its own domain's. Written whole (rename), removed
 * at close if it is still ours (a reboot's next incarnation, or the next
 * domain with this domid, may have replaced it). */
static void publish_tty(struct cons_dom *d, const struct cons_env *env)
{
    char tmp[4200];
    snprintf(d->tty_file, sizeof(d->tty_file), "%s/dom%u.tty", env->log_dir, d->domid);
    snprintf(tmp, sizeof(tmp), "%s.%s", d->tty_file, d->tty + 5);   /* pts/N */
    for (char *p = tmp + strlen(d->tty_file); *p; p++)
        if (*p == '/')
            *p = '-';
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || dprintf(fd, "%s\n%s\n", d->tty, d->vm) < 0 || rename(tmp, d->tty_file) < 0)
        say(d, "%s: %s", d->tty_file, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void unpublish_tty(struct cons_dom *d)
{
    char cur[80] = "";
    int fd = d->tty_file[0] ? open(d->tty_file, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    ssize_t n = read(fd, cur, sizeof(cur) - 1);
    close(fd);
    cur[n > 0 ? n : 0] = '\0';
    cur[strcspn(cur, "\n")] = '\0';
    if (!strcmp(cur, d->tty))
        unlink(d->tty_file);
}

int cons_dom_open(struct cons_dom *d, const struct cons_env *env, unsigned domid,
                  const char *name, const char *vm, uint64_t ring_gpa, uint32_t port)
{
    bool quiet = d->quiet;
    memset(d, 0, sizeof(*d));
    d->quiet = quiet;
    d->domid = domid;
    d->ring_gpa = ring_gpa;
    d->guest_port = port;
    d->ctl_fd = d->pty_master = d->pty_slave = d->log_fd = d->kick_fd = -1;
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->vm, sizeof(d->vm), "%s", vm);
    d->pending = malloc(CONS_PENDING_MAX);
    if (!d->pending || map_ring(d, env) < 0 || open_pty(d) < 0 || open_log(d, env) < 0) {
        cons_dom_close(d, env);
        return -1;
    }
    d->quiet = false;
    publish_tty(d, env);
    d->bind_delay_ms = BIND_DELAY_FIRST_MS;
    return 0;
}

int cons_dom_try_bind(struct cons_dom *d, const struct cons_env *env, int64_t now_ms)
{
    if (d->local_port > 0)
        return 1;
    if (now_ms < d->next_bind_ms)
        return 0;
    int lp = tdm_evtchn_bind_interdomain(env->evtchn, d->domid, d->guest_port);
    if (lp < 0) {
        if (errno != EAGAIN) {
            say(d, "console event channel %u: %s", d->guest_port, tdm_last_error());
            return -1;
        }
        d->next_bind_ms = now_ms + d->bind_delay_ms;   /* no shared_info yet */
        if (d->bind_delay_ms < BIND_DELAY_MAX_MS)
            d->bind_delay_ms *= 2;
        return 0;
    }
    d->local_port = lp;
    d->kick_fd = tdm_evtchn_port_fd(env->evtchn, lp);
    return 1;
}

static void log_write(struct cons_dom *d, const char *p, size_t n)
{
    while (n && d->log_fd >= 0) {
        ssize_t w = write(d->log_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            say(d, "log: %s; no more logging for this domain", w < 0 ? strerror(errno) : "short write");
            close(d->log_fd);
            d->log_fd = -1;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Keeps the newest CONS_PENDING_MAX bytes. */
static void pend(struct cons_dom *d, const char *p, size_t n)
{
    if (n >= CONS_PENDING_MAX) {
        d->dropped += d->npending + (n - CONS_PENDING_MAX);
        p += n - CONS_PENDING_MAX;
        n = CONS_PENDING_MAX;
        d->npending = 0;
    } else if (d->npending + n > CONS_PENDING_MAX) {
        size_t drop = d->npending + n - CONS_PENDING_MAX;
        memmove(d->pending, d->pending + drop, d->npending - drop);
        d->npending -= drop;
        d->dropped += drop;
    }
    memcpy(d->pending + d->npending, p, n);
    d->npending += n;
}

void cons_dom_flush(struct cons_dom *d)
{
    size_t done = 0;
    while (done < d->npending) {
        ssize_t w = write(d->pty_master, d->pending + done, d->npending - done);
        if (w <= 0)
            break;   /* EAGAIN: the reader is behind; try on EPOLLOUT */
        done += (size_t)w;
    }
    memmove(d->pending, d->pending + done, d->npending - done);
    d->npending -= done;
}

static void to_pty(struct cons_dom *d, const char *p, size_t n)
{
    if (!d->npending) {
        while (n) {
            ssize_t w = write(d->pty_master, p, n);
            if (w <= 0)
                break;
            p += w;
            n -= (size_t)w;
        }
    }
    if (n)
        pend(d, p, n);
}

void cons_dom_pump(struct cons_dom *d, const struct cons_env *env)
{
    char buf[sizeof(d->ring->out)];
    bool notify = false;
    size_t n;
    if (!d->ring)
        return;
    while ((n = cons_ring_read_out(d->ring, buf, sizeof(buf))) > 0) {
        log_write(d, buf, n);
        to_pty(d, buf, n);
        notify = true;
    }
    /* Input: only what fits, so nothing typed is lost. */
    size_t room = cons_ring_in_room(d->ring);
    d->input_stalled = room == 0;
    if (room && !d->ended) {
        ssize_t r = read(d->pty_master, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (r > 0 && cons_ring_write_in(d->ring, buf, (size_t)r) > 0)
            notify = true;
    }
    if (notify && d->local_port > 0)
        tdm_evtchn_notify(env->evtchn, d->local_port);
}

void cons_dom_end(struct cons_dom *d, const struct cons_env *env)
{
    if (d->ended)
        return;
    cons_dom_pump(d, env);
    d->ended = true;
    if (d->dropped)
        say(d, "%llu bytes of output were not shown on the pty (nobody read it); "
            "the log has them", (unsigned long long)d->dropped);
}

bool cons_dom_drained(struct cons_dom *d)
{
    int queued = 0;
    if (!d->ended)
        return false;
    cons_dom_flush(d);
    if (ioctl(d->pty_slave, FIONREAD, &queued) < 0)
        queued = 0;
    if (d->npending || queued > 0) {
        d->idle_ticks = 0;
        return ++d->drain_ticks >= DRAIN_TICKS_MAX;
    }
    return ++d->idle_ticks >= 2;
}

void cons_dom_close(struct cons_dom *d, const struct cons_env *env)
{
    if (d->local_port > 0)
        tdm_evtchn_unbind(env->evtchn, d->local_port);
    unpublish_tty(d);
    if (d->ring_page)
        munmap(d->ring_page, PAGE);
    if (d->ctl_fd >= 0)
        close(d->ctl_fd);
    if (d->pty_slave >= 0)
        close(d->pty_slave);
    if (d->pty_master >= 0)
        close(d->pty_master);
    if (d->log_fd >= 0)
        close(d->log_fd);
    free(d->pending);
    memset(d, 0, sizeof(*d));
    d->ctl_fd = d->pty_master = d->pty_slave = d->log_fd = d->kick_fd = -1;
}

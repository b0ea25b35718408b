/* The one epoll loop: listener, socket clients, domain kick eventfds. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "tdm_poll.h"
#include "xenstored.h"

static int epfd = -1;
/* The idle poll's window (ceiling poll_us, set up by ev_init). */
static unsigned poll_us = XSD_POLL_US_DEFAULT;
static struct tdm_poll idle_poll;
static struct evsrc *graveyard;
volatile int xsd_stop;

static void ev_noop(struct evsrc *s, uint32_t events)
{
    (void)s; (void)events;
}

static void bury(void)
{
    while (graveyard) {
        struct evsrc *s = graveyard;
        graveyard = s->dead_next;
        free(s);
    }
}

void ev_release(struct evsrc *s)
{
    ev_del(s);
    s->cb = ev_noop;
    s->arg = NULL;
    s->dead_next = graveyard;
    graveyard = s;
}

int ev_init(void)
{
    if (epfd >= 0)
        return 0;
    tdm_poll_init(&idle_poll, poll_us);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    return epfd < 0 ? errno : 0;
}

void ev_fini(void)
{
    bury();
    if (epfd >= 0)
        close(epfd);
    epfd = -1;
}

int ev_add(struct evsrc *s, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = s };

    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0)
        return -1;
    s->events = events;
    return 0;
}

/* Connections re-arm after every request: only a change costs a call. */
int ev_mod(struct evsrc *s, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = s };

    if (events == s->events)
        return 0;
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev) != 0)
        return -1;
    s->events = events;
    return 0;
}

void ev_del(struct evsrc *s)
{
    if (epfd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

void ev_set_poll_us(unsigned us)
{
    poll_us = us;
    tdm_poll_init(&idle_poll, us);
}

static sigset_t wait_mask;
static bool have_wait_mask;

void ev_set_wait_sigmask(const sigset_t *mask)
{
    wait_mask = *mask;
    have_wait_mask = true;
}

struct ev_batch {
    struct epoll_event *evs;
    int n;
};

static bool ev_ready(void *ctx)
{
    struct ev_batch *b = ctx;

    b->n = epoll_wait(epfd, b->evs, 64, 0);
    return b->n > 0;
}

int ev_run_once(int timeout_ms)
{
    static uint64_t stalls_checked_ms, rings_checked_ms;
    struct epoll_event evs[64];
    uint64_t now_ms;
    int n;
    /* Nothing here walks every connection unless it has to: with
     * thousands of idle clients a walk costs more than a request. */
    bool pending = conn_out_total() != 0;

    if (socket_accept_paused(xsd_now_ms()))
        pending = true; /* to retry accepting */
    if (pending && (timeout_ms < 0 || timeout_ms > 1000))
        timeout_ms = 1000; /* to notice stalled clients */
    if (domain_count() && (timeout_ms < 0 || timeout_ms > XSD_RING_CHECK_MS))
        timeout_ms = XSD_RING_CHECK_MS; /* to serve a ring whose kick was lost */
    if (conn_backlogged())
        timeout_ms = 0; /* requests wait: look for others, then serve them */
    conn_next_round();
    n = 0;
    if (timeout_ms != 0 && xsd_now_ns() - xsd_half_message_ns < XSD_SPIN_NS) {
        /* A payload is on its way: going to sleep would cost a wake-up
         * (tens of microseconds) for a system call's worth of waiting.
         * Poll everybody without sleeping for a moment instead. */
        while ((n = epoll_wait(epfd, evs, 64, 0)) == 0 &&
               xsd_now_ns() - xsd_half_message_ns < XSD_SPIN_NS)
            ;
    }
    if (n == 0 && timeout_ms != 0) {
        /* Most requests follow a reply within microseconds (a client's
         * next read, a guest's next ring request): poll a moment before
         * paying a sleep and a wake-up. */
        struct ev_batch b = { evs, 0 };

        if (tdm_poll_spin(&idle_poll, NULL, ev_ready, &b))
            n = b.n;
    }
    if (n == 0 && !xsd_stop)
        n = epoll_pwait(epfd, evs, 64, timeout_ms, have_wait_mask ? &wait_mask : NULL);
    if (n < 0)
        n = 0;
    for (int i = 0; i < n; i++) {
        struct evsrc *s = evs[i].data.ptr;
        s->cb(s, evs[i].events);
    }
    conn_serve_backlog();
    domain_check_faults();
    bury();
    now_ms = xsd_now_ms();
    if (now_ms - rings_checked_ms >= XSD_RING_CHECK_MS && domain_count()) {
        ring_check_unkicked(now_ms);
        rings_checked_ms = now_ms;
    }
    if (pending && now_ms - stalls_checked_ms >= 1000) { /* 20 s matter, not 1 */
        conn_check_stalls(now_ms);
        stalls_checked_ms = now_ms;
    }
    conn_reap();
    return n;
}

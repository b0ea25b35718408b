/* The bare event link to the bounce guest (bounce_link.h). */
#include "bounce_link.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <tandem/ctl_client.h>
#include <tandem/tdm_error.h>
#include <unistd.h>

#include "stats_util.h"

#define KICK_MS 2000

static bool get_kick(int fd, uint64_t *v)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, KICK_MS) == 1 && read(fd, v, sizeof(*v)) == sizeof(*v);
}

bool bounce_link_open(struct bounce_link *l, const char *run_dir, unsigned domid, uint32_t port,
                      uint64_t doorbells)
{
    struct tdm_ctl_reply r;
    char req[64];
    *l = (struct bounce_link){ .kick = -1, .irq = -1 };
    l->ctl = tdm_ctl_connect(run_dir, domid);
    snprintf(req, sizeof(req), "evtchn-bind port=%" PRIu32, port);
    if (!l->ctl || tdm_ctl_request(l->ctl, req, 3, &r) < 0) {
        fprintf(stderr, "bounce: dom%u: bind: %s\n", domid, tdm_last_error());
        return false;
    }
    close(r.fds[0]);
    l->kick = r.fds[1];
    l->irq = r.fds[2];
    uint64_t got = 0, v;
    while (got < doorbells && get_kick(l->kick, &v)) /* (none expected when 0) */
        got += v;
    if (got != doorbells)
        fprintf(stderr, "bounce: doorbell burst: got %" PRIu64 " of %" PRIu64 "\n", got, doorbells);
    return got == doorbells;
}

void bounce_link_close(struct bounce_link *l)
{
    if (l->kick >= 0)
        close(l->kick);
    if (l->irq >= 0)
        close(l->irq);
    tdm_ctl_close(l->ctl);
    *l = (struct bounce_link){ .kick = -1, .irq = -1 };
}

bool bounce_link_rtt(struct bounce_link *l, uint64_t n, uint64_t *rtt)
{
    static const uint64_t one = 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = 0, t0 = stats_now_ns();
        if (write(l->irq, &one, sizeof(one)) != sizeof(one) || !get_kick(l->kick, &v) || v != 1) {
            fprintf(stderr, "bounce: round %" PRIu64 ": %s\n", i,
                    v > 1 ? "duplicate doorbell" : "lost (timeout)");
            return false;
        }
        rtt[i] = stats_now_ns() - t0;
    }
    return true;
}

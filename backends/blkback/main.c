/* tandem-blkback: the dom0 PV block backend daemon. Serves every vbd
 * under /local/domain/0/backend/vbd; one thread runs xenstore (device
 * watch + frontend state watches), each connected queue has its own
 * io_uring thread. SIGTERM/SIGINT: complete what is in flight, switch
 * every device to Closed, exit 0. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "blk_device.h"
#include "blk_frontend.h"
#include "blk_ringmap.h"

#define MAX_DEVICES 1024

struct daemon {
    struct blk_ctx ctx;
    struct tdm_xenbus_watch *watch;
    struct blk_device *dev[MAX_DEVICES];
    unsigned ndev;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-blkback [--run-dir DIR] [--no-direct] [--poll-us N]\n"
               "                      [--busy-poll-us N] [--max-queues N] [--max-ring-order N]\n"
               "Serves /local/domain/0/backend/vbd (xenstored at $XENSTORED_PATH,\n"
               "VMM control sockets in DIR, default $TANDEM_RUNDIR or /run/tandem).\n");
}

static int opt_uint(const char *name, const char *arg, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (blk_parse_uint(arg, strlen(arg), max, &v) < 0 || v < min) {
        fprintf(stderr, "tandem-blkback: --%s: \"%s\" is not a number in %u..%u\n", name, arg,
                min, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* Command line: the one place it is parsed. 0 ok, 1 help, -1 bad. */
static int parse_args(int argc, char **argv, struct blk_options *o, const char **run_dir)
{
    static const struct option opts[] = {
        { "run-dir", required_argument, NULL, 'r' }, { "no-direct", no_argument, NULL, 'n' },
        { "poll-us", required_argument, NULL, 'p' }, { "max-queues", required_argument, NULL, 'q' },
        { "busy-poll-us", required_argument, NULL, 'b' },
        { "max-ring-order", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;

    *o = (struct blk_options){ .allow_direct = true, .poll_us = 50, .busy_poll_us = 1000,
                               .max_queues = 4,
                               .max_ring_order = BLK_MAX_RING_ORDER };
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;

        switch (c) {
        case 'r': *run_dir = optarg; break;
        case 'n': o->allow_direct = false; break;
        case 'p': rc = opt_uint("poll-us", optarg, 0, 10000, &o->poll_us); break;
        case 'b': rc = opt_uint("busy-poll-us", optarg, 0, 10000, &o->busy_poll_us); break;
        case 'q': rc = opt_uint("max-queues", optarg, 1, BLK_MAX_QUEUES, &o->max_queues); break;
        case 'o': rc = opt_uint("max-ring-order", optarg, 0, BLK_MAX_RING_ORDER, &o->max_ring_order); break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int find_dev(struct daemon *dm, const char *token)
{
    for (unsigned i = 0; i < dm->ndev; i++)
        if (strcmp(blk_device_token(dm->dev[i]), token) == 0)
            return (int)i;
    return -1;
}

/* Drops the domain's memory mapping when its last device goes. */
static void remove_dev(struct daemon *dm, unsigned i)
{
    unsigned domid = blk_device_domid(dm->dev[i]);
    bool others = false;

    blk_device_free(dm->dev[i], false);
    dm->dev[i] = dm->dev[--dm->ndev];
    for (unsigned k = 0; k < dm->ndev; k++)
        others |= blk_device_domid(dm->dev[k]) == domid;
    if (!others && domid)
        tdm_gnttab_detach(dm->ctx.gnt, domid);
}

static void device_events(struct daemon *dm)
{
    struct tdm_xenbus_dev_event ev;
    int rc;

    while ((rc = tdm_xenbus_watch_next(dm->watch, &ev)) == 1) {
        char token[112];
        int i;

        snprintf(token, sizeof(token), "blkback:%s", ev.dir);
        i = find_dev(dm, token);
        if (ev.kind == TDM_XENBUS_DEV_REMOVED) {
            if (i >= 0)
                remove_dev(dm, (unsigned)i);
        } else if (i < 0) {
            struct blk_device *d;

            if (dm->ndev == MAX_DEVICES) {
                fprintf(stderr, "tandem-blkback: %s: more than %u devices\n", ev.dir, MAX_DEVICES);
                continue;
            }
            d = blk_device_new(&dm->ctx, &ev);
            if (d)
                dm->dev[dm->ndev++] = d;
        }
    }
    if (rc < 0)
        fprintf(stderr, "tandem-blkback: device watch: %s\n", tdm_last_error());
}

static void state_events(struct daemon *dm)
{
    char **w;

    while ((w = xs_check_watch(dm->ctx.xs)) != NULL) {
        int i = find_dev(dm, w[XS_WATCH_TOKEN]);

        if (i >= 0)
            blk_device_update(dm->dev[i]);
        free(w);
    }
}

static int signal_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

static int serve(struct daemon *dm, int sfd)
{
    struct pollfd p[3] = {
        { .fd = sfd, .events = POLLIN },
        { .fd = tdm_xenbus_watch_fd(dm->watch), .events = POLLIN },
        { .fd = xs_fileno(dm->ctx.xs), .events = POLLIN },
    };

    device_events(dm);
    fprintf(stderr, "tandem-blkback: ready\n");
    for (;;) {
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("tandem-blkback: poll");
            return -1;
        }
        if (p[0].revents)
            return 0;
        if (p[1].revents & (POLLERR | POLLHUP) || p[2].revents & (POLLERR | POLLHUP)) {
            fprintf(stderr, "tandem-blkback: lost the xenstored connection\n");
            return -1;
        }
        if (p[1].revents)
            device_events(dm);
        if (p[2].revents)
            state_events(dm);
    }
}

int main(int argc, char **argv)
{
    struct daemon dm = { 0 };
    const char *run_dir = NULL;
    int sfd, rc;

    rc = parse_args(argc, argv, &dm.ctx.opt, &run_dir);
    if (rc)
        return rc > 0 ? 0 : 2;
    sfd = signal_fd();
    dm.ctx.xs = xs_open(0);
    dm.ctx.gnt = tdm_gnttab_open(run_dir);
    dm.ctx.evh = tdm_evtchn_open(run_dir);
    dm.watch = tdm_xenbus_watch_backends("vbd");
    if (sfd < 0 || !dm.ctx.xs || !dm.ctx.gnt || !dm.ctx.evh || !dm.watch) {
        fprintf(stderr, "tandem-blkback: startup: %s%s\n",
                !dm.ctx.xs ? "cannot reach xenstored: " : "",
                !dm.ctx.xs ? strerror(errno) : tdm_last_error());
        return 1;
    }
    rc = serve(&dm, sfd);
    while (dm.ndev) {
        blk_device_free(dm.dev[dm.ndev - 1], true);
        dm.ndev--;
    }
    tdm_xenbus_watch_close(dm.watch);
    tdm_evtchn_close(dm.ctx.evh);
    tdm_gnttab_close(dm.ctx.gnt);
    xs_close(dm.ctx.xs);
    return rc < 0 ? 1 : 0;
}

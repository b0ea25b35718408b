/* tandem-netback: the dom0 PV network backend daemon. Serves every vif
 * under /local/domain/0/backend/vif on the backend framework
 * (backends/common/tdm_xbback.h); each connected queue has its own
 * io_uring thread. SIGTERM/SIGINT: answer what is in flight, switch every
 * device to Closed, remove the taps, exit 0. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net_device.h"
#include "net_queue.h"
#include "tdm_xskeys.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-netback [--run-dir DIR] [--stats-dir DIR] [--poll-us N]\n"
               "                      [--max-queues N]\n"
               "Serves /local/domain/0/backend/vif (xenstored at $XENSTORED_PATH,\n"
               "VMM control sockets in DIR, default $TANDEM_RUNDIR or /run/tandem;\n"
               "per-vif counters in --stats-dir, default DIR/netback).\n");
}

static int opt(const char *name, const char *arg, unsigned min, unsigned max, unsigned *out)
{
    return tdm_opt_uint("tandem-netback", name, arg, min, max, out);
}

/* Command line: the one place it is parsed. 0 ok, 1 help, -1 bad. */
static int parse_args(int argc, char **argv, struct net_options *o, const char **run_dir)
{
    static const struct option opts[] = {
        { "run-dir", required_argument, NULL, 'r' }, { "stats-dir", required_argument, NULL, 's' },
        { "poll-us", required_argument, NULL, 'p' }, { "max-queues", required_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { 0 },
    };
    int c;

    *o = (struct net_options){ .max_queues = 2, .poll_us = 50 };
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;

        switch (c) {
        case 'r': *run_dir = optarg; break;
        case 's': o->stats_dir = optarg; break;
        case 'p': rc = opt("poll-us", optarg, 0, 10000, &o->poll_us); break;
        case 'q': rc = opt("max-queues", optarg, 1, NET_MAX_QUEUES, &o->max_queues); break;
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

int main(int argc, char **argv)
{
    struct net_options opt;
    const char *run_dir = NULL;
    char stats[4096];
    int rc;

    rc = parse_args(argc, argv, &opt, &run_dir);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!opt.stats_dir) {
        const char *base = run_dir ? run_dir : getenv("TANDEM_RUNDIR");

        snprintf(stats, sizeof(stats), "%s/netback", base && *base ? base : "/run/tandem");
        opt.stats_dir = stats;
    }
    if (mkdir(opt.stats_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "tandem-netback: %s: %s\n", opt.stats_dir, strerror(errno));
        return 1;
    }
    return tdm_xbback_run(&net_driver, run_dir, &opt);
}

/* tandem-netback: the dom0 PV network backend daemon. Serves every vif
 * under /local/domain/0/backend/vif on the backend framework
 * (backends/common/tdm_xbback.h); each connected queue has its own
 * io_uring thread. SIGTERM/SIGINT: answer what is in flight, switch every
 * device to Closed, remove the taps, exit 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net_device.h"
#include "net_queue.h"
#include "tdm_opts.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-netback [--run-dir DIR] [--stats-dir DIR] [--poll-us N]\n"
               "                      [--max-queues N]\n"
               "Serves /local/domain/0/backend/vif (xenstored at $XENSTORED_PATH,\n"
               "VMM control sockets in DIR, default $TANDEM_RUNDIR or /run/tandem;\n"
               "per-vif counters in --stats-dir, default DIR/netback).\n");
}

/* Command line: the one place it is parsed. 0 ok, 1 help, -1 bad. */
static int parse_args(int argc, char **argv, struct net_options *o, const char **run_dir)
{
    const struct tdm_opt opts[] = {
        { "run-dir", TDM_OPT_STR, run_dir, 0, 0 },
        { "stats-dir", TDM_OPT_STR, &o->stats_dir, 0, 0 },
        { "poll-us", TDM_OPT_UINT, &o->poll_us, 0, 10000 },
        { "max-queues", TDM_OPT_UINT, &o->max_queues, 1, NET_MAX_QUEUES },
        { NULL, 0, NULL, 0, 0 },
    };

    *o = (struct net_options){ .max_queues = 2, .poll_us = 50 };
    return tdm_opts_parse("tandem-netback", usage, opts, argc, argv);
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

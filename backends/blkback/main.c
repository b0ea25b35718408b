/* tandem-blkback: the dom0 PV block backend daemon. Serves every vbd
 * under /local/domain/0/backend/vbd; one thread runs xenstore (the
 * backend framework, backends/common/tdm_xbback.h), each connected queue has its own
 * io_uring thread. SIGTERM/SIGINT: complete what is in flight, switch
 * every device to Closed, exit 0. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_device.h"
#include "blk_frontend.h"
#include "blk_ringmap.h"
#include "tdm_xskeys.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-blkback [--run-dir DIR] [--no-direct] [--poll-us N]\n"
               "                      [--busy-poll-us N] [--max-queues N] [--max-ring-order N]\n"
               "Serves /local/domain/0/backend/vbd (xenstored at $XENSTORED_PATH,\n"
               "VMM control sockets in DIR, default $TANDEM_RUNDIR or /run/tandem).\n");
}

static int opt(const char *name, const char *arg, unsigned min, unsigned max, unsigned *out)
{
    return tdm_opt_uint("tandem-blkback", name, arg, min, max, out);
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
        case 'p': rc = opt("poll-us", optarg, 0, 10000, &o->poll_us); break;
        case 'b': rc = opt("busy-poll-us", optarg, 0, 10000, &o->busy_poll_us); break;
        case 'q': rc = opt("max-queues", optarg, 1, BLK_MAX_QUEUES, &o->max_queues); break;
        case 'o': rc = opt("max-ring-order", optarg, 0, BLK_MAX_RING_ORDER, &o->max_ring_order); break;
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
    struct blk_options opt;
    const char *run_dir = NULL;
    int rc;

    rc = parse_args(argc, argv, &opt, &run_dir);
    if (rc)
        return rc > 0 ? 0 : 2;
    return tdm_xbback_run(&blk_driver, run_dir, &opt);
}

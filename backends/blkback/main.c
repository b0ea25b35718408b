/* tandem-blkback: the dom0 PV block backend daemon. Serves every vbd
 * under /local/domain/0/backend/vbd; one thread runs xenstore (the
 * backend framework, backends/common/tdm_xbback.h), each connected queue has its own
 * io_uring thread. SIGTERM/SIGINT: complete what is in flight, switch
 * every device to Closed, exit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_device.h"
#include "blk_frontend.h"
#include "blk_ringmap.h"
#include "tdm_opts.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem-blkback [--run-dir DIR] [--no-direct] [--poll-us N]\n"
               "                      [--busy-poll-us N] [--max-queues N] [--max-ring-order N]\n"
               "Serves /local/domain/0/backend/vbd (xenstored at $XENSTORED_PATH,\n"
               "VMM control sockets in DIR, default $TANDEM_RUNDIR or /run/tandem).\n");
}

/* Command line: the one place it is parsed. 0 ok, 1 help, -1 bad. */
static int parse_args(int argc, char **argv, struct blk_options *o, const char **run_dir)
{
    const struct tdm_opt opts[] = {
        { "run-dir", TDM_OPT_STR, run_dir, 0, 0 },
        { "no-direct", TDM_OPT_CLEAR, &o->allow_direct, 0, 0 },
        { "poll-us", TDM_OPT_UINT, &o->poll_us, 0, 10000 },
        { "busy-poll-us", TDM_OPT_UINT, &o->busy_poll_us, 0, 10000 },
        { "max-queues", TDM_OPT_UINT, &o->max_queues, 1, BLK_MAX_QUEUES },
        { "max-ring-order", TDM_OPT_UINT, &o->max_ring_order, 0, BLK_MAX_RING_ORDER },
        { NULL, 0, NULL, 0, 0 },
    };

    *o = (struct blk_options){ .allow_direct = true, .poll_us = 50, .busy_poll_us = 1000,
                               .max_queues = 4, .max_ring_order = BLK_MAX_RING_ORDER };
    return tdm_opts_parse("tandem-blkback", usage, opts, argc, argv);
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

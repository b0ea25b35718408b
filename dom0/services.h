/* The host services under the run directory (xenstored, tandem-blkback,
 * tandem-consoled; tandem-netback when it lands): each has a directory
 * RUNDIR/NAME with its `pid` file. Here: starting consoled on first need,
 * and `tandem services status|stop` for all of them. xenstored and blkback
 * are started by xsd.c and vbd.c. */
#ifndef TANDEM_DOM0_SERVICES_H
#define TANDEM_DOM0_SERVICES_H

#include <stdbool.h>
#include <sys/types.h>

enum service_state { SVC_STOPPED, SVC_RUNNING, SVC_CRASHED };

struct service_status {
    const char *name;        /* "xenstored", ... */
    enum service_state state;
    pid_t pid;               /* running: its pid; crashed: the pid that is gone */
    char log[512];           /* where its messages went */
};

/* Starts tandem-consoled if none runs for this run directory (under
 * consoled/start.lock, so concurrent callers start one). 0 or -1. */
int consoled_ensure(void);

/* Fills st[] for every service (at most max); returns how many. */
int services_status(struct service_status *st, int max);

/* SIGTERM to every running service (consoled, blkback, netback, then
 * xenstored), waiting for each to exit. 0, or -1 if one would not stop. */
int services_stop(void);


#endif

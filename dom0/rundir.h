/* The run directory ($TANDEM_RUNDIR, default /run/tandem) and the names of
 * what lives in it:
 *   domN.ctl          tandem-vmm's control socket (created by the VMM)
 *   domN.lock         held (flock) by the `tandem run` that owns domid N
 *   create.lock       serialises domid choice between concurrent runs
 *   xenstored/socket  xenstored's socket (pid, log, stderr next to it)  */
#ifndef TANDEM_DOM0_RUNDIR_H
#define TANDEM_DOM0_RUNDIR_H

#include <stdbool.h>

const char *rundir(void);
/* Creates the run directory (and xenstored/) if missing. */
int rundir_ensure(void);

/* Paths; caller frees. */
char *rundir_ctl_path(unsigned domid);
char *rundir_lock_path(unsigned domid);
char *rundir_file(const char *name);

/* Takes an exclusive flock on rundir/name (created if needed); blocks.
 * Returns the fd (close to release) or -1. */
int rundir_lock(const char *name);

#endif

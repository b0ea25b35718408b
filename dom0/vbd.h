/* Virtual block devices of a domain, the toolstack side (as libxl): the
 * backing files are checked before anything starts, the backend and
 * frontend directories are written to xenstore, and one tandem-blkback per
 * run directory serves them (started on demand, pid in rundir/blkback/pid,
 * log in rundir/blkback/log; it outlives the run, like xencommons'
 * daemons). */
#ifndef TANDEM_DOM0_VBD_H
#define TANDEM_DOM0_VBD_H

#include <stddef.h>

struct tandem_config;
struct xs_handle;

#define VBD_MIN_BYTES 4096   /* a disk smaller than one 4 KiB block is refused */

/* Every disk's target must exist, be a regular file or block device of at
 * least VBD_MIN_BYTES, readable (and writable for access=rw). Replaces each
 * target by its absolute path (the daemon has another working directory).
 * 0, or -1 with a message naming the config line. */
int vbd_check_disks(struct tandem_config *c);

/* Makes sure a tandem-blkback serves this run directory. 0 or -1 (message). */
int vbd_backend_ensure(void);

/* Writes the frontend (/local/domain/N/device/vbd/D) and backend
 * (/local/domain/0/backend/vbd/N/D) directories of every disk, then waits
 * until the backend reached InitWait; a backend that reports an error
 * fails the call with its message. 0 or -1 (message printed). */
int vbd_add_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c);

/* Removes the backend directories of domid (the frontend ones go with
 * /local/domain/N). */
void vbd_remove_all(struct xs_handle *h, unsigned domid);

#endif

/* Virtual block devices of a domain, the toolstack side (as libxl): the
 * backing files are checked before anything starts; the directories are
 * written and tandem-blkback started through the device-type table
 * (devtype.h), one daemon per run directory (started on demand, pid in
 * rundir/blkback/pid, log in rundir/blkback/log; it outlives the run,
 * like xencommons' daemons). */
#ifndef TANDEM_DOM0_VBD_H
#define TANDEM_DOM0_VBD_H

#include <stddef.h>

struct tandem_config;

#define VBD_MIN_BYTES 4096   /* a disk smaller than one 4 KiB block is refused */

/* Every disk's target must exist, be a regular file or block device of at
 * least VBD_MIN_BYTES, readable (and writable for access=rw). Replaces each
 * target by its absolute path (the daemon has another working directory).
 * 0, or -1 with a message naming the config line. */
int vbd_check_disks(struct tandem_config *c);

#endif

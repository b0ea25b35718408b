/* A domain's record: RUNDIR/domN.cfg, the configuration domain N runs
 * with, as libxl keeps a domain's configuration beside it. The supervisor
 * writes it at every start; block-attach and network-attach add the device
 * they attached, the detach verbs take it out; a restart (on_reboot =
 * "restart", "rename-restart") starts the domain from it again, and `save`
 * puts it into the save file, so restore brings the same devices back. It
 * is xl.cfg text (config_print), read back by the one config parser. */
#ifndef TANDEM_DOM0_RECORD_H
#define TANDEM_DOM0_RECORD_H

#include <stddef.h>

struct tandem_config;
struct devtype;

/* RUNDIR/domN.cfg; caller frees. */
char *record_path(unsigned domid);

/* Writes c as domid's record (under RUNDIR/record.lock, to a temporary
 * file renamed into place, so a reader never sees half of it). 0, or -1
 * (message printed). */
int record_write(unsigned domid, const struct tandem_config *c);

/* Parses domid's record into c (config_init-ed) and finishes it. 0, or -1
 * with "RUNDIR/domN.cfg:LINE: ..." in err (errno ENOENT: there is none). */
int record_read(unsigned domid, struct tandem_config *c, char *err, size_t errlen);

/* Device i of `dev` (just attached) added to domid's record, or device
 * devid of type dt taken out of it, under RUNDIR/record.lock. A domain
 * without a record (a VMM not started by tandem) is left alone. 0, or -1
 * (message printed: the device will not, or will again, come back at a
 * restart). */
int record_add_device(unsigned domid, const struct devtype *dt, const struct tandem_config *dev,
                      size_t i);
int record_remove_device(unsigned domid, const struct devtype *dt, unsigned devid);

/* `tandem rename`: the record's name too (what a restore starts it as). */
int record_rename(unsigned domid, const char *name);

/* Removes domid's record (the domain ended). */
void record_remove(unsigned domid);

#endif

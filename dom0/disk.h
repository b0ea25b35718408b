/* A `disk = [ ... ]` item in xl's disk syntax (xl-disk-configuration):
 * key=value pairs (target=, vdev=, access=, format=, devtype=,
 * backendtype=) and/or the positional form TARGET,FORMAT,VDEV,ACCESS, plus
 * the legacy three-field form [PREFIX:]TARGET,VDEV,ACCESS. Parsed and
 * checked here, once; pure code (no files, no xenstore), shared with the
 * config unit tests. */
#ifndef TANDEM_DOM0_DISK_H
#define TANDEM_DOM0_DISK_H

#include <stdbool.h>
#include <stddef.h>

#define DISK_VDEV_MAX 16

struct disk_spec {
    char *target;              /* backing file or block device, as written (owned) */
    char vdev[DISK_VDEV_MAX];  /* "xvda", "sdb", "d3" ... */
    unsigned devid;            /* Xen's device number for vdev (xvda = 51712) */
    bool readonly;             /* access=r */
};

/* Parses one item. 0, or -1 with a message (no prefix) in err. */
int disk_parse(const char *spec, struct disk_spec *out, char *err, size_t errlen);
void disk_spec_free(struct disk_spec *d);

/* Xen's vbd number for a virtual device name (docs/misc/vbd-interface):
 * xvdX[N] (202<<8 | disk<<4 | part for disks < 16 and parts < 16, else
 * 1<<28 | disk<<8 | part), sdX[N] (8<<8 | disk<<4 | part, disks < 16),
 * hdX[N] (3<<8 / 22<<8 | (disk%2)<<6 | part, disks < 4), dN[pM]
 * (1<<28 | N<<8 | M), or a plain decimal number. -1 if not a vdev. */
long disk_vdev_devid(const char *vdev);

#endif

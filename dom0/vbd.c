/* The toolstack's part of virtual block devices (vbd.h). */
#include "vbd.h"
#include "config.h"
#include "devtype.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- the backing files ---- */

static long long backing_size(const char *path, const struct stat *st)
{
    if (S_ISREG(st->st_mode))
        return (long long)st->st_size;
    unsigned long long bytes = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = ioctl(fd, BLKGETSIZE64, &bytes);
    close(fd);
    return rc < 0 ? -1 : (long long)bytes;
}

static int check_one(const char *where, struct disk_spec *d)
{
    struct stat st;
    char abs[PATH_MAX];
    if (stat(d->target, &st) < 0 || !realpath(d->target, abs)) {
        msg("%sdisk %s: '%s': %s", where, d->vdev, d->target, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        msg("%sdisk %s: '%s' is not a regular file or block device", where, d->vdev, d->target);
        return -1;
    }
    if (access(abs, d->readonly ? R_OK : R_OK | W_OK) < 0) {
        msg("%sdisk %s: '%s': %s (access=%s)", where, d->vdev, d->target, strerror(errno),
            d->readonly ? "r" : "rw");
        return -1;
    }
    long long size = backing_size(abs, &st);
    if (size < VBD_MIN_BYTES) {
        msg("%sdisk %s: '%s' is too small: %lld bytes (a disk needs at least %d)", where, d->vdev,
            d->target, size < 0 ? 0 : size, VBD_MIN_BYTES);
        return -1;
    }
    char *copy = strdup(abs);
    if (!copy) {
        msg("out of memory");
        return -1;
    }
    free(d->target);
    d->target = copy;
    return 0;
}

int vbd_check_disks(struct tandem_config *c)
{
    char where[512];
    config_where(c, KEY_DISK, where, sizeof(where));
    for (size_t i = 0; i < c->ndisks; i++)
        if (check_one(where, &c->disks[i]) < 0)
            return -1;
    return 0;
}

/* ---- the device type ---- */

static const struct daemon_spec blkback_daemon = {
    .dir = "blkback", .env = "TANDEM_BLKBACK", .bin = "tandem-blkback",
    .comm = "tandem-blkback", .log = "log", .lock = "lock",
};

/* A type = "hvm" domain's disks are the VMM's NVMe namespaces: no blkback. */
static size_t vbd_count(const struct tandem_config *c) { return config_is_hvm(c) ? 0 : c->ndisks; }
static unsigned vbd_devid(const struct tandem_config *c, size_t i) { return c->disks[i].devid; }
static const char *vbd_label(const struct tandem_config *c, size_t i) { return c->disks[i].vdev; }

/* The keys libxl writes for a phy disk. */
static bool vbd_write(struct devtype_tx *x, const struct tandem_config *c, size_t i)
{
    const struct disk_spec *d = &c->disks[i];
    char num[16];
    snprintf(num, sizeof(num), "%u", d->devid);
    return devtype_put(x, x->be, "params", d->target) && devtype_put(x, x->be, "type", "phy") &&
           devtype_put(x, x->be, "mode", d->readonly ? "r" : "w") &&
           devtype_put(x, x->be, "removable", "0") && devtype_put(x, x->be, "bootable", "1") &&
           devtype_put(x, x->be, "dev", d->vdev) && devtype_put(x, x->be, "device-type", "disk") &&
           devtype_put(x, x->be, "discard-enable", d->readonly ? "0" : "1") &&
           devtype_put(x, x->fe, "virtual-device", num) &&
           devtype_put(x, x->fe, "device-type", "disk");
}

static bool vbd_record_add(struct tandem_config *rec, const struct tandem_config *c, size_t i)
{
    struct disk_spec *more = realloc(rec->disks, (rec->ndisks + 1) * sizeof(*more));
    if (!more)
        return false;
    rec->disks = more;
    struct disk_spec *d = &more[rec->ndisks];
    *d = c->disks[i];
    d->target = strdup(c->disks[i].target);
    if (!d->target)
        return false;
    rec->ndisks++;
    return true;
}

static void vbd_record_remove(struct tandem_config *rec, unsigned devid)
{
    for (size_t i = 0; i < rec->ndisks; i++)
        if (rec->disks[i].devid == devid) {
            disk_spec_free(&rec->disks[i]);
            memmove(&rec->disks[i], &rec->disks[i + 1],
                    (rec->ndisks - i - 1) * sizeof(rec->disks[0]));
            rec->ndisks--;
            break;
        }
    if (!rec->ndisks)
        config_strlist_free(&rec->disk);   /* config_print would fall back to it */
}

const struct devtype vbd_devtype = {
    .kind = "vbd", .what = "disk", .backend = &blkback_daemon, .count = vbd_count,
    .devid = vbd_devid, .label = vbd_label, .write = vbd_write,
    .record_add = vbd_record_add, .record_remove = vbd_record_remove,
};

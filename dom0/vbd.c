/* The toolstack's part of virtual block devices (vbd.h). */
#include "vbd.h"
#include "config.h"
#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#define VBD_CONNECT_TIMEOUT_MS 10000
#define XENBUS_INITWAIT 2
#define XENBUS_CLOSING 5
#define XENBUS_CLOSED 6

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

/* ---- the daemon ---- */

/* A live tandem-blkback: the name matches and the process is not a
 * zombie or dying (kill(pid, 0) succeeds for those too, and then no one
 * would serve the new devices). */
static bool is_blkback(pid_t pid)
{
    char path[64], stat[512] = "";
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *close = strrchr(stat, ')');
    return !strncmp(stat + strcspn(stat, "("), "(tandem-blkback)", 16) && close &&
           close[1] == ' ' && close[2] != 'Z' && close[2] != 'X' && close[2] != 'x';
}

static pid_t read_pid_file(const char *pidf)
{
    FILE *f = fopen(pidf, "re");
    int pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%d", &pid) != 1 || pid <= 0)
        pid = 0;
    fclose(f);
    return pid;
}

static pid_t spawn_blkback(const char *bin, const char *logf)
{
    char *argv[] = { (char *)bin, "--run-dir", (char *)rundir(), NULL };
    return spawn_detached(argv, logf);
}

static int write_pid_file(const char *pidf, pid_t pid)
{
    char *tmp = xasprintf("%s.tmp", pidf);
    FILE *f = tmp ? fopen(tmp, "we") : NULL;
    int rc = -1;
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        rc = fclose(f) == 0 && rename(tmp, pidf) == 0 ? 0 : -1;
    }
    if (rc < 0)
        msg("cannot write %s: %s", pidf, strerror(errno));
    free(tmp);
    return rc;
}

int vbd_backend_ensure(void)
{
    char *dir = rundir_file("blkback");
    char *pidf = rundir_file("blkback/pid");
    char *logf = rundir_file("blkback/log");
    int rc = -1;
    int lock = -1;
    if (!dir || !pidf || !logf || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        msg("cannot create %s: %s", dir ? dir : "the blkback directory", strerror(errno));
        goto out;
    }
    lock = rundir_lock("blkback/lock");   /* two runs never start two daemons */
    if (lock < 0)
        goto out;
    pid_t pid = read_pid_file(pidf);
    if (pid > 0 && kill(pid, 0) == 0 && is_blkback(pid)) {
        rc = 0;
        goto out;
    }
    char *bin = helper_path("TANDEM_BLKBACK", "tandem-blkback");
    pid = bin ? spawn_blkback(bin, logf) : -1;
    if (pid <= 0)
        msg("cannot start %s: %s", bin ? bin : "tandem-blkback", strerror(errno));
    else
        rc = write_pid_file(pidf, pid);
    free(bin);
out:
    if (lock >= 0)
        close(lock);
    free(dir);
    free(pidf);
    free(logf);
    return rc;
}

/* ---- xenstore ---- */

struct vbd_tx {
    struct xs_handle *h;
    xs_transaction_t t;
    unsigned domid;
};

static bool put(struct vbd_tx *x, const char *dir, const char *key, const char *val)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write(x->h, x->t, path, val, (unsigned)strlen(val));
}

/* libxl's permissions: the owner first (no access for others), then who
 * else may read. */
static bool perm(struct vbd_tx *x, const char *path, unsigned owner, unsigned reader)
{
    struct xs_permissions p[2] = { { owner, XS_PERM_NONE }, { reader, XS_PERM_READ } };
    return xs_set_permissions(x->h, x->t, path, p, 2);
}

static bool write_disk(struct vbd_tx *x, const struct disk_spec *d)
{
    char fe[128], be[128], id[16], num[16];
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%u", x->domid, d->devid);
    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%u", x->domid, d->devid);
    snprintf(id, sizeof(id), "%u", x->domid);
    snprintf(num, sizeof(num), "%u", d->devid);
    /* Leftovers of an earlier run (a backend that wrote into a removed
     * directory, say) must not keep their permissions. */
    xs_rm(x->h, x->t, be);
    xs_rm(x->h, x->t, fe);
    bool ok = xs_mkdir(x->h, x->t, be) && perm(x, be, 0, x->domid) &&
              put(x, be, "frontend", fe) && put(x, be, "frontend-id", id) &&
              put(x, be, "params", d->target) && put(x, be, "type", "phy") &&
              put(x, be, "mode", d->readonly ? "r" : "w") && put(x, be, "online", "1") &&
              put(x, be, "removable", "0") && put(x, be, "bootable", "1") &&
              put(x, be, "dev", d->vdev) && put(x, be, "device-type", "disk") &&
              put(x, be, "discard-enable", d->readonly ? "0" : "1") && put(x, be, "state", "1");
    ok = ok && xs_mkdir(x->h, x->t, fe) && perm(x, fe, x->domid, 0) &&
         put(x, fe, "backend", be) && put(x, fe, "backend-id", "0") &&
         put(x, fe, "virtual-device", num) && put(x, fe, "device-type", "disk") &&
         put(x, fe, "state", "1");
    return ok;
}

/* The frontend's parents exist before tandem-vmm writes the domain; the
 * guest must be able to list them (read-only). */
static bool write_parents(struct vbd_tx *x)
{
    char p[96];
    snprintf(p, sizeof(p), "/local/domain/%u/device", x->domid);
    bool ok = xs_mkdir(x->h, x->t, p) && perm(x, p, 0, x->domid);
    snprintf(p, sizeof(p), "/local/domain/%u/device/vbd", x->domid);
    return ok && xs_mkdir(x->h, x->t, p) && perm(x, p, 0, x->domid);
}

static int write_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c)
{
    for (int tries = 0; tries < 16; tries++) {
        struct vbd_tx x = { h, xs_transaction_start(h), domid };
        if (x.t == XBT_NULL)
            break;
        bool ok = write_parents(&x);
        for (size_t i = 0; ok && i < c->ndisks; i++)
            ok = write_disk(&x, &c->disks[i]);
        if (!ok) {
            int e = errno;
            xs_transaction_end(h, x.t, true);
            errno = e;
            break;
        }
        if (xs_transaction_end(h, x.t, false))
            return 0;
        if (errno != EAGAIN)
            break;
    }
    msg("cannot write the vbd devices of domain %u to xenstore: %s", domid, strerror(errno));
    return -1;
}

static int read_state(struct xs_handle *h, const char *be)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/state", be);
    char *v = xs_read(h, XBT_NULL, path, &len);
    int s = v ? atoi(v) : 0;
    free(v);
    return s;
}

static void report_backend_error(struct xs_handle *h, const char *be, const char *vdev)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/error", be);
    char *e = xs_read(h, XBT_NULL, path, &len);
    msg("disk %s: the block backend refused it: %s", vdev, e ? e : "(no reason given)");
    free(e);
}

/* Waits (on a watch) until the backend leaves Initialising. */
static int wait_initwait(struct xs_handle *h, const char *be, const struct disk_spec *d)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/state", be);
    if (!xs_watch(h, path, "vbd-wait")) {
        msg("disk %s: cannot watch %s: %s", d->vdev, path, strerror(errno));
        return -1;
    }
    int64_t deadline = now_ms() + VBD_CONNECT_TIMEOUT_MS;
    int rc = -1;
    for (;;) {
        int s = read_state(h, be);
        if (s == XENBUS_INITWAIT || (s > XENBUS_INITWAIT && s < XENBUS_CLOSING)) {
            rc = 0;
            break;
        }
        if (s == XENBUS_CLOSING || s == XENBUS_CLOSED) {
            report_backend_error(h, be, d->vdev);
            break;
        }
        int64_t left = deadline - now_ms();
        struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            char *logf = rundir_file("blkback/log");
            msg("disk %s: tandem-blkback did not take the device within %d ms (see %s)",
                d->vdev, VBD_CONNECT_TIMEOUT_MS, logf ? logf : "its log");
            free(logf);
            break;
        }
        char **w;
        while ((w = xs_check_watch(h)) != NULL)
            free(w);
    }
    xs_unwatch(h, path, "vbd-wait");
    return rc;
}

int vbd_add_all(struct xs_handle *h, unsigned domid, const struct tandem_config *c)
{
    if (!c->ndisks)
        return 0;
    if (write_all(h, domid, c) < 0)
        return -1;
    for (size_t i = 0; i < c->ndisks; i++) {
        char be[128];
        snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%u", domid, c->disks[i].devid);
        if (wait_initwait(h, be, &c->disks[i]) < 0)
            return -1;
    }
    return 0;
}

void vbd_remove_all(struct xs_handle *h, unsigned domid)
{
    char be[96];
    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u", domid);
    xs_rm(h, XBT_NULL, be);
}

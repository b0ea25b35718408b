/* A domain's record (record.h). */
#include "record.h"
#include "config.h"
#include "devtype.h"
#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *record_path(unsigned domid)
{
    char *name = xasprintf("dom%u.cfg", domid);
    char *path = name ? rundir_file(name) : NULL;
    free(name);
    return path;
}

static int write_locked(unsigned domid, const struct tandem_config *c)
{
    char *path = record_path(domid);
    char *tmp = path ? xasprintf("%s.new", path) : NULL;
    FILE *f = tmp ? fopen(tmp, "we") : NULL;
    int rc = -1;
    if (f) {
        config_print(f, c);
        if (fflush(f) == 0 && !ferror(f) && fclose(f) == 0)
            rc = rename(tmp, path);
        else
            fclose(f);
    }
    if (rc < 0) {
        msg("cannot write domain %u's record %s: %s", domid, path ? path : "", strerror(errno));
        if (tmp)
            unlink(tmp);
    }
    free(tmp);
    free(path);
    return rc;
}

int record_write(unsigned domid, const struct tandem_config *c)
{
    int lock = rundir_lock("record.lock");   /* one writer of domN.cfg.new at a time */
    int rc = write_locked(domid, c);
    if (lock >= 0)
        close(lock);
    return rc;
}

int record_read(unsigned domid, struct tandem_config *c, char *err, size_t errlen)
{
    char *path = record_path(domid);
    int rc = -1;
    if (!path) {
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
    } else if (access(path, R_OK) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
    } else if (config_parse_file(c, path, err, errlen) == 0 && config_finish(c, err, errlen) == 0) {
        rc = 0;
    } else {
        errno = EINVAL;
    }
    free(path);
    return rc;
}

typedef bool (*record_edit_fn)(struct tandem_config *rec, const void *arg);

/* Read, edit, write back, under the lock every editor takes. */
static int edit(unsigned domid, record_edit_fn fn, const void *arg, const char *what)
{
    char err[CFG_ERR_MAX + 256];
    struct tandem_config rec;
    int lock = rundir_lock("record.lock");
    int rc = -1;
    config_init(&rec);
    if (lock < 0) {
        msg("cannot lock %s/record.lock: %s", rundir(), strerror(errno));
    } else if (record_read(domid, &rec, err, sizeof(err)) < 0) {
        if (errno == ENOENT)
            rc = 0;   /* not a domain tandem started: nothing to keep */
        else
            msg("%s", err);
    } else if (!fn(&rec, arg)) {
        msg("out of memory");
    } else {
        rc = write_locked(domid, &rec);
    }
    if (rc < 0)
        msg("warning: domain %u's record does not show this: %s", domid, what);
    if (lock >= 0)
        close(lock);
    config_free(&rec);
    return rc;
}

struct add_arg {
    const struct devtype *dt;
    const struct tandem_config *dev;
    size_t i;
};

static bool add_edit(struct tandem_config *rec, const void *arg)
{
    const struct add_arg *a = arg;
    return a->dt->record_add(rec, a->dev, a->i);
}

int record_add_device(unsigned domid, const struct devtype *dt, const struct tandem_config *dev,
                      size_t i)
{
    struct add_arg a = { dt, dev, i };
    return edit(domid, add_edit, &a, "a restart or restore will not bring the device back");
}

struct remove_arg {
    const struct devtype *dt;
    unsigned devid;
};

static bool remove_edit(struct tandem_config *rec, const void *arg)
{
    const struct remove_arg *a = arg;
    a->dt->record_remove(rec, a->devid);
    return true;
}

int record_remove_device(unsigned domid, const struct devtype *dt, unsigned devid)
{
    struct remove_arg a = { dt, devid };
    return edit(domid, remove_edit, &a, "a restart or restore will bring the device back");
}

static bool rename_edit(struct tandem_config *rec, const void *arg)
{
    char *name = strdup(arg);
    if (!name)
        return false;
    free(rec->name);
    rec->name = name;
    return true;
}

int record_rename(unsigned domid, const char *name)
{
    return edit(domid, rename_edit, name, "a restore will start it under its old name");
}

void record_remove(unsigned domid)
{
    char *path = record_path(domid);
    if (path)
        unlink(path);
    free(path);
}

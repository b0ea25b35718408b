#include "domid.h"
#include "rundir.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* "domN.lock" -> N, or 0 if the name is something else. */
static unsigned lock_name_domid(const char *name)
{
    unsigned id;
    char tail[8];
    if (sscanf(name, "dom%u%7s", &id, tail) != 2 || strcmp(tail, ".lock"))
        return 0;
    char *canon = xasprintf("dom%u.lock", id);
    bool same = !strcmp(canon, name);
    free(canon);
    return same && id >= 1 && id <= DOMID_MAX_GUEST ? id : 0;
}

/* Looks at one lock file: a held lock marks a live domain (and its name);
 * an unheld one was left by a run that was killed, and is removed. */
static int scan_lock(unsigned id, const char *name, bool *live,
                     char *err, size_t errlen)
{
    char *path = rundir_lock_path(id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0)
        goto out;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        unlink(path);
        goto out;
    }
    live[id] = true;
    char owner[80] = "";
    ssize_t n = read(fd, owner, sizeof(owner) - 1);
    if (n > 0) {
        owner[n] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        if (!strcmp(owner, name)) {
            snprintf(err, errlen, "a domain named '%s' already exists (domid %u)", name, id);
            rc = -1;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int scan_locks(const char *name, bool *live, char *err, size_t errlen)
{
    DIR *d = opendir(rundir());
    struct dirent *e;
    int rc = 0;
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", rundir(), strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        unsigned id = lock_name_domid(e->d_name);
        if (id)
            rc = scan_lock(id, name, live, err, errlen);
    }
    closedir(d);
    return rc;
}

static int take_lock(unsigned id, const char *name, struct domid_lease *lease)
{
    char *path = rundir_lock_path(id);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return -1;
    }
    char *line = xasprintf("%s\n", name);
    ssize_t w = write(fd, line, strlen(line));
    free(line);
    if (w < 0) {
        close(fd);
        return -1;
    }
    lease->domid = id;
    lease->fd = fd;
    return 0;
}

/* Under create.lock (returned in *cl: close it to release), which domids
 * are live; an error if a live one is named `name`. NULL on error (the lock
 * released, err set). */
static bool *scan_under_lock(const char *name, int *cl, char *err, size_t errlen)
{
    *cl = rundir_lock("create.lock");
    if (*cl < 0) {
        snprintf(err, errlen, "cannot lock the run directory %s", rundir());
        return NULL;
    }
    bool *live = calloc(DOMID_MAX_GUEST + 1, sizeof(bool));
    if (!live)
        snprintf(err, errlen, "out of memory");
    if (!live || scan_locks(name, live, err, errlen) < 0) {
        free(live);
        close(*cl);
        return NULL;
    }
    return live;
}

int domid_acquire(const char *name, domid_in_use_fn in_use, void *ctx,
                  struct domid_lease *lease, char *err, size_t errlen)
{
    int cl, rc = -1;
    lease->fd = -1;
    bool *live = scan_under_lock(name, &cl, err, errlen);
    if (!live)
        return -1;
    for (unsigned id = 1; id <= DOMID_MAX_GUEST; id++) {
        if (live[id] || (in_use && in_use(id, ctx)))
            continue;
        if (take_lock(id, name, lease) == 0) {
            rc = 0;
            goto out;
        }
    }
    snprintf(err, errlen, "no free domid");
out:
    free(live);
    close(cl);
    return rc;
}

void domid_release(struct domid_lease *lease)
{
    if (lease->fd < 0)
        return;
    int cl = rundir_lock("create.lock");
    char *path = rundir_lock_path(lease->domid);
    unlink(path);
    free(path);
    close(lease->fd);
    lease->fd = -1;
    if (cl >= 0)
        close(cl);
}

int domid_rename(unsigned domid, const char *name, char *err, size_t errlen)
{
    int cl, rc = -1;
    bool *live = scan_under_lock(name, &cl, err, errlen);
    if (!live)
        return -1;
    if (!live[domid]) {
        rc = 0;   /* not ours to rename (a VMM started by hand): xenstore is enough */
    } else {
        char *path = rundir_lock_path(domid);
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        rc = fd >= 0 && dprintf(fd, "%s\n", name) > 0 ? 0 : -1;
        if (rc < 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
    }
    free(live);
    close(cl);
    return rc;
}

int domid_lease_name(const struct domid_lease *lease, char *buf, size_t len)
{
    char *path = rundir_lock_path(lease->domid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0 || len == 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return buf[0] ? 0 : -1;
}

bool domid_held(unsigned domid)
{
    char *path = rundir_lock_path(domid);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    bool held = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0;
    if (fd >= 0)
        close(fd);
    free(path);
    return held;
}

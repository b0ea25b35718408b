#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *rundir(void)
{
    const char *d = getenv("TANDEM_RUNDIR");
    return d && *d ? d : "/run/tandem";
}

static int mkdir_p(const char *path, mode_t mode)
{
    char *p = xasprintf("%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

int rundir_ensure(void)
{
    char *x = rundir_file("xenstored");
    int rc = 0;
    if (mkdir_p(rundir(), 0700) < 0 || mkdir_p(x, 0700) < 0) {
        msg("cannot create run directory %s: %s", x, strerror(errno));
        rc = -1;
    }
    free(x);
    return rc;
}

char *rundir_ctl_path(unsigned domid)
{
    return xasprintf("%s/dom%u.ctl", rundir(), domid);
}

char *rundir_lock_path(unsigned domid)
{
    return xasprintf("%s/dom%u.lock", rundir(), domid);
}

char *rundir_file(const char *name)
{
    return xasprintf("%s/%s", rundir(), name);
}

int rundir_lock(const char *name)
{
    char *p = rundir_file(name);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        msg("cannot open %s: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            msg("cannot lock %s: %s", p, strerror(errno));
            close(fd);
            free(p);
            return -1;
        }
    }
    free(p);
    return fd;
}

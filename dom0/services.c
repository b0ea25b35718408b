/* Host services: status, stop, and starting consoled (services.h). */
#include "services.h"
#include "daemon.h"
#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS 5000

struct service {
    const char *name;        /* directory under the run directory */
    const char *comm;        /* the process's command name (15 chars at most) */
    const char *log;         /* its messages, relative to the directory */
};

/* Stop order: the backends first, xenstored (which they use) last. */
static const struct service services[] = {
    { "consoled", "tandem-consoled", "stderr" },
    { "blkback", "tandem-blkback", "log" },
    { "netback", "tandem-netback", "log" },
    { "xenstored", "xenstored", "stderr" },
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

static pid_t read_pid(const char *dir, const char *file)
{
    char *path = xasprintf("%s/%s/%s", rundir(), dir, file);
    pid_t pid = daemon_read_pid(path);
    free(path);
    return pid;
}

static void service_state(const struct service *s, struct service_status *st)
{
    memset(st, 0, sizeof(*st));
    st->name = s->name;
    st->pid = read_pid(s->name, "pid");
    snprintf(st->log, sizeof(st->log), "%s/%s/%s", rundir(), s->name, s->log);
    if (!st->pid)
        st->state = SVC_STOPPED;
    else
        st->state = daemon_pid_is(st->pid, s->comm) ? SVC_RUNNING : SVC_CRASHED;
}

int services_status(struct service_status *st, int max)
{
    int n = 0;
    for (size_t i = 0; i < NSERVICES && n < max; i++)
        service_state(&services[i], &st[n++]);
    return n;
}

static void remove_pid_file(const char *name)
{
    char *path = xasprintf("%s/%s/pid", rundir(), name);
    if (path)
        unlink(path);
    free(path);
}

int services_stop(void)
{
    int rc = 0;
    for (size_t i = 0; i < NSERVICES; i++) {
        struct service_status st;
        service_state(&services[i], &st);
        if (st.state == SVC_RUNNING) {
            kill(st.pid, SIGTERM);
            if (wait_pid_gone(st.pid, STOP_TIMEOUT_MS) < 0) {
                msg("%s (pid %d) did not stop within %d s", st.name, (int)st.pid,
                    STOP_TIMEOUT_MS / 1000);
                rc = -1;
                continue;
            }
        }
        if (st.state != SVC_STOPPED)
            remove_pid_file(st.name);   /* a crashed one's pid file too */
    }
    return rc;
}

static int write_pid(const char *name, pid_t pid)
{
    char *path = xasprintf("%s/%s/pid", rundir(), name);
    char *tmp = xasprintf("%s/%s/pid.tmp", rundir(), name);
    FILE *f = tmp ? fopen(tmp, "we") : NULL;
    int rc = -1;
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        rc = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    }
    if (rc < 0)
        msg("cannot write %s: %s", path ? path : "a pid file", strerror(errno));
    free(path);
    free(tmp);
    return rc;
}

int consoled_ensure(void)
{
    char *dir = rundir_file("consoled");
    char *errf = rundir_file("consoled/stderr");
    int rc = -1, lock = -1;
    if (!dir || !errf || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        msg("cannot create %s: %s", dir ? dir : "the consoled directory", strerror(errno));
        goto out;
    }
    lock = rundir_lock("consoled/start.lock");
    if (lock < 0)
        goto out;
    if (daemon_pid_is(read_pid("consoled", "pid"), "tandem-consoled")) {
        rc = 0;
        goto out;
    }
    char *bin = helper_path("TANDEM_CONSOLED", "tandem-consoled");
    char *argv[] = { bin, "--run-dir", (char *)rundir(), NULL };
    pid_t pid = bin ? spawn_detached(argv, errf) : -1;
    if (pid <= 0)
        msg("cannot start %s: %s", bin ? bin : "tandem-consoled", strerror(errno));
    else
        rc = write_pid("consoled", pid);
    free(bin);
out:
    if (lock >= 0)
        close(lock);
    free(dir);
    free(errf);
    return rc;
}

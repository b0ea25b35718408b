/* Host daemons: start once, find again (daemon.h). */
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

char *daemon_file(const struct daemon_spec *s, const char *name)
{
    return xasprintf("%s/%s/%s", rundir(), s->dir, name);
}

/* A live process called comm: the name matches and the process is not a
 * zombie or dying (kill(pid, 0) succeeds for those too, and then no one
 * would serve). */
bool daemon_pid_is(pid_t pid, const char *comm)
{
    char path[64], stat[512] = "", want[40];
    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    snprintf(want, sizeof(want), "(%.15s)", comm);   /* the kernel keeps 15 characters */
    const char *close = strrchr(stat, ')');
    return !strncmp(stat + strcspn(stat, "("), want, strlen(want)) && close &&
           close[1] == ' ' && close[2] != 'Z' && close[2] != 'X' && close[2] != 'x';
}

pid_t daemon_read_pid(const char *path)
{
    FILE *f = path ? fopen(path, "re") : NULL;
    int pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%d", &pid) != 1 || pid <= 0)
        pid = 0;
    fclose(f);
    return pid;
}

pid_t daemon_pid(const struct daemon_spec *s)
{
    char *pidf = daemon_file(s, "pid");
    pid_t pid = daemon_read_pid(pidf);
    free(pidf);
    return pid > 0 && kill(pid, 0) == 0 && daemon_pid_is(pid, s->comm) ? pid : 0;
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

static bool running(const struct daemon_spec *s)
{
    return s->running ? s->running(s) : daemon_pid(s) > 0;
}

static int start(const struct daemon_spec *s, char *const args[])
{
    char *argv[16];
    size_t n = 0;
    char *bin = helper_path(s->env, s->bin);
    char *logf = daemon_file(s, s->log);
    char *pidf = daemon_file(s, "pid");
    int rc = -1;

    if (s->before_start)
        s->before_start(s);
    argv[n++] = bin;
    for (size_t i = 0; args && args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = bin && logf && pidf ? spawn_detached(argv, logf) : -1;
    if (pid <= 0)
        msg("cannot start %s: %s", bin ? bin : s->bin, strerror(errno));
    else if (s->ready && s->ready(s, pid) < 0)
        msg("could not start %s; see %s", bin, logf);
    else
        rc = write_pid_file(pidf, pid);
    free(bin);
    free(logf);
    free(pidf);
    return rc;
}

int daemon_ensure(const struct daemon_spec *s, char *const args[])
{
    char *dir = xasprintf("%s/%s", rundir(), s->dir);
    int rc = -1, lock = -1;
    if (!dir || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        msg("cannot create %s: %s", dir ? dir : s->dir, strerror(errno));
        goto out;
    }
    if (running(s)) {
        rc = 0;
        goto out;
    }
    char *lockname = xasprintf("%s/%s", s->dir, s->lock);
    lock = lockname ? rundir_lock(lockname) : -1;   /* two runs never start two daemons */
    free(lockname);
    if (lock < 0)
        goto out;
    rc = running(s) ? 0 : start(s, args);  /* another run may have started it meanwhile */
out:
    if (lock >= 0)
        close(lock);
    free(dir);
    return rc;
}

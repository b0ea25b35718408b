/* The one spawner of the host's daemons (xenstored, tandem-blkback,
 * tandem-netback): each lives in rundir/<dir>/ with its pid file, its
 * stderr log and a start lock, is started detached (not our child; it
 * outlives the run, like xencommons' daemons) when none answers, and is
 * found again by the pid file or by a readiness check of its own. */
#ifndef TANDEM_DOM0_DAEMON_H
#define TANDEM_DOM0_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

struct daemon_spec {
    const char *dir;           /* under the run directory: "blkback" */
    const char *env, *bin;     /* helper_path(): "TANDEM_BLKBACK", "tandem-blkback" */
    const char *comm;          /* its name in /proc/PID/stat: "tandem-blkback" */
    const char *log;           /* stderr goes to rundir/<dir>/<log> */
    const char *lock;          /* rundir/<dir>/<lock> serialises starts */
    /* Already serving? NULL: the pid file names a live process called comm. */
    bool (*running)(const struct daemon_spec *s);
    /* Under the lock, just before the spawn (e.g. remove a stale socket). */
    void (*before_start)(const struct daemon_spec *s);
    /* After the spawn: 0 once it serves, -1 if it died or timed out.
     * NULL: serving from the start. */
    int (*ready)(const struct daemon_spec *s, pid_t pid);
};

/* Makes sure the daemon runs, starting `bin args...` if not; its pid goes
 * to rundir/<dir>/pid. 0, or -1 with a message printed. */
int daemon_ensure(const struct daemon_spec *s, char *const args[]);

/* rundir/<dir>/<name> (caller frees). */
char *daemon_file(const struct daemon_spec *s, const char *name);

/* The pid in rundir/<dir>/pid if it is a live (not zombie) process named
 * comm, else 0. */
pid_t daemon_pid(const struct daemon_spec *s);

/* A live process called comm (/proc/PID/stat: the name, and not a zombie
 * or dying). */
bool daemon_pid_is(pid_t pid, const char *comm);
/* The pid a pid file holds, 0 if none. */
pid_t daemon_read_pid(const char *path);

#endif

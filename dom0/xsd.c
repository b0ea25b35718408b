#include "xsd.h"
#include "rundir.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XSD_START_TIMEOUT_MS 5000

char *xsd_socket_path(void)
{
    const char *env = getenv("XENSTORED_PATH");
    if (env && *env)
        return xasprintf("%s", env);
    return xasprintf("%s/xenstored/socket", rundir());
}

static bool socket_answers(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return false;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

bool xsd_available(void)
{
    char *path = xsd_socket_path();
    setenv("XENSTORED_PATH", path, 1);
    bool ok = socket_answers(path);
    free(path);
    return ok;
}

/* xenstored in the foreground (we detach it ourselves, so that we learn
 * its pid), stderr to a file in the run directory. */
static pid_t spawn_daemon(const char *bin, const char *sock)
{
    char *pidf = rundir_file("xenstored/pid");
    char *logf = rundir_file("xenstored/log");
    char *errf = rundir_file("xenstored/stderr");
    pid_t pid = -1;
    if (pidf && logf && errf) {
        char *argv[] = { (char *)bin, "--foreground", "--socket", (char *)sock,
                         "--pid-file", pidf, "--log-file", logf,
                         "--vmm-dir", (char *)rundir(), NULL };
        pid = spawn_detached(argv, errf);
    }
    free(pidf);
    free(logf);
    free(errf);
    return pid;
}

/* The daemon needs a moment to bind and listen; retry the connect with a
 * short back-off, and give up early if it died. */
static int wait_ready(const char *sock, pid_t pid)
{
    int64_t deadline = now_ms() + XSD_START_TIMEOUT_MS;
    long delay_us = 200;
    while (now_ms() < deadline) {
        if (socket_answers(sock))
            return 0;
        if (kill(pid, 0) < 0 && errno == ESRCH)
            return -1;
        struct timespec ts = { 0, delay_us * 1000 };
        nanosleep(&ts, NULL);
        if (delay_us < 20000)
            delay_us *= 2;
    }
    return -1;
}

/* If the daemon did not write its pid file, write it: tests and users stop
 * the daemon by the pid in that file. */
static void ensure_pid_file(pid_t pid)
{
    char *pidf = rundir_file("xenstored/pid");
    if (access(pidf, F_OK) < 0) {
        FILE *f = fopen(pidf, "we");
        if (f) {
            fprintf(f, "%d\n", (int)pid);
            fclose(f);
        }
    }
    free(pidf);
}

int xsd_ensure(void)
{
    if (xsd_available())
        return 0;
    int lock = rundir_lock("xenstored/start.lock");
    if (lock < 0)
        return -1;
    char *sock = xsd_socket_path();
    int rc = 0;
    if (!socket_answers(sock)) {   /* another run may have started it meanwhile */
        char *bin = helper_path("TANDEM_XENSTORED", "xenstored");
        unlink(sock);
        pid_t pid = spawn_daemon(bin, sock);
        if (pid <= 0 || wait_ready(sock, pid) < 0) {
            char *errf = rundir_file("xenstored/stderr");
            msg("could not start %s (socket %s); see %s", bin, sock, errf);
            free(errf);
            rc = -1;
        } else {
            ensure_pid_file(pid);
        }
        free(bin);
    }
    free(sock);
    close(lock);
    return rc;
}

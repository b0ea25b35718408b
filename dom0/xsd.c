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

/* In the grandchild: detach from our terminal and session, log stderr to a
 * file in the run directory, exec the daemon in the foreground (we do the
 * detaching ourselves so that we learn its pid). */
static void exec_daemon(const char *bin, const char *sock)
{
    char *pidf = rundir_file("xenstored/pid");
    char *logf = rundir_file("xenstored/log");
    char *errf = rundir_file("xenstored/stderr");
    int null = open("/dev/null", O_RDWR);
    int errfd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
    }
    if (errfd >= 0)
        dup2(errfd, 2);
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execl(bin, bin, "--foreground", "--socket", sock, "--pid-file", pidf,
          "--log-file", logf, "--vmm-dir", rundir(), (char *)NULL);
    fprintf(stderr, "tandem: cannot run %s: %s\n", bin, strerror(errno));
    _exit(127);
}

/* Double fork so the daemon is not our child; the middle process reports
 * the daemon's pid through a pipe. */
static pid_t spawn_daemon(const char *bin, const char *sock)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t mid = fork();
    if (mid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (mid == 0) {
        pid_t d = fork();
        if (d == 0)
            exec_daemon(bin, sock);
        ssize_t w = write(p[1], &d, sizeof(d));
        _exit(w == sizeof(d) && d > 0 ? 0 : 1);
    }
    close(p[1]);
    pid_t daemon = -1;
    if (read(p[0], &daemon, sizeof(daemon)) != sizeof(daemon))
        daemon = -1;
    close(p[0]);
    waitpid(mid, NULL, 0);
    return daemon;
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

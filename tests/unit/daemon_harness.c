/* Daemons in unit tests (see daemon_harness.h). */
#include "daemon_harness.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long th_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *th_bin_dir(void)
{
    const char *b = getenv("TANDEM_BIN");

    return b ? b : "build/bin";
}

pid_t th_spawn(const char *dir, const char *log, char *const argv[])
{
    char path[200];
    pid_t pid;

    ck_assert_msg(access(argv[0], X_OK) == 0, "no %s (build it first)", argv[0]);
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* no orphan if the test dies */
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static bool can_connect(const char *sock)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", sock);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

pid_t th_start_xenstored(const char *dir, const char *sock, int timeout_ms)
{
    char exe[256];
    char *argv[] = { exe, "--foreground", "--socket", (char *)sock, NULL };
    long deadline = th_now_ms() + timeout_ms;
    pid_t pid;

    snprintf(exe, sizeof(exe), "%s/xenstored", th_bin_dir());
    pid = th_spawn(dir, "xenstored.log", argv);
    while (!can_connect(sock)) {
        struct pollfd none;
        int st;

        ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "xenstored exited");
        ck_assert_msg(th_now_ms() < deadline, "xenstored not listening on %s", sock);
        poll(&none, 0, 5);          /* interval between connection attempts */
    }
    setenv("XENSTORED_PATH", sock, 1);
    return pid;
}

int th_stop(pid_t *pid, int sig)
{
    int st = -1;

    if (*pid > 0) {
        kill(*pid, sig);
        waitpid(*pid, &st, 0);
        *pid = 0;
    }
    return st;
}

#include "xsd.h"
#include "daemon.h"
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

/* The daemon needs a moment to bind and listen; retry the connect with a
 * short back-off, and give up early if it died. */
static int wait_ready(const struct daemon_spec *s, pid_t pid)
{
    char *sock = xsd_socket_path();
    int64_t deadline = now_ms() + XSD_START_TIMEOUT_MS;
    long delay_us = 200;
    int rc = -1;
    (void)s;
    while (sock && now_ms() < deadline) {
        if (socket_answers(sock)) {
            rc = 0;
            break;
        }
        if (kill(pid, 0) < 0 && errno == ESRCH)
            break;
        struct timespec ts = { 0, delay_us * 1000 };
        nanosleep(&ts, NULL);
        if (delay_us < 20000)
            delay_us *= 2;
    }
    free(sock);
    return rc;
}

static bool answers(const struct daemon_spec *s)
{
    char *sock = xsd_socket_path();
    bool ok = sock && socket_answers(sock);
    (void)s;
    free(sock);
    return ok;
}

static void remove_stale_socket(const struct daemon_spec *s)
{
    char *sock = xsd_socket_path();
    (void)s;
    if (sock)
        unlink(sock);
    free(sock);
}

static const struct daemon_spec xenstored_daemon = {
    .dir = "xenstored", .env = "TANDEM_XENSTORED", .bin = "xenstored", .comm = "xenstored",
    .log = "stderr", .lock = "start.lock", .running = answers,
    .before_start = remove_stale_socket, .ready = wait_ready,
};

/* xenstored in the foreground (we detach it ourselves, so that we learn
 * its pid); it writes its pid file too. */
int xsd_ensure(void)
{
    if (xsd_available())
        return 0;
    char *sock = xsd_socket_path();
    char *pidf = daemon_file(&xenstored_daemon, "pid");
    char *logf = daemon_file(&xenstored_daemon, "log");
    int rc = -1;
    if (sock && pidf && logf) {
        char *args[] = { "--foreground", "--socket", sock, "--pid-file", pidf,
                         "--log-file", logf, "--vmm-dir", (char *)rundir(), NULL };
        rc = daemon_ensure(&xenstored_daemon, args);
    }
    free(sock);
    free(pidf);
    free(logf);
    return rc;
}

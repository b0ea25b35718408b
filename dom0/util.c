#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void msg(const char *fmt, ...)
{
    va_list ap;
    fputs("tandem: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg("out of memory");
        exit(EXIT_RUNTIME);
    }
    return s;
}

char *helper_path(const char *env, const char *name)
{
    const char *e = env ? getenv(env) : NULL;
    if (e && *e)
        return xasprintf("%s", e);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            char *p = xasprintf("%s/%s", self, name);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    return xasprintf("%s", name);
}

bool parse_domid(const char *s, unsigned *out, bool allow_zero)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
        return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > DOMID_MAX_GUEST || (v == 0 && !allow_zero))
        return false;
    *out = (unsigned)v;
    return true;
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pidfd becomes readable when the process exits: no polling loop. */
int wait_pid_gone(pid_t pid, int timeout_ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH ? 0 : -1;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    int rc = -1;
    for (;;) {
        int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
        if (deadline >= 0 && left < 0)
            left = 0;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, left);
        if (n > 0) {
            rc = 0;
            break;
        }
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    close(fd);
    return rc;
}

int make_uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
    return 0;
}

long host_memory_mib(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    long kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib / 1024;
}

/* In the grandchild: detach from our terminal and session, stderr to the
 * log, exec the daemon in the foreground. */
static void exec_detached(char *const argv[], const char *stderr_path)
{
    int null = open("/dev/null", O_RDWR);
    int errfd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
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
    execv(argv[0], argv);
    fprintf(stderr, "tandem: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

pid_t spawn_detached(char *const argv[], const char *stderr_path)
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
            exec_detached(argv, stderr_path);
        ssize_t w = write(p[1], &d, sizeof(d));
        _exit(w == sizeof(d) && d > 0 ? 0 : 1);
    }
    close(p[1]);
    pid_t pid = -1;
    if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
        pid = -1;
    close(p[0]);
    waitpid(mid, NULL, 0);
    return pid;
}

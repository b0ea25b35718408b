/* A network namespace of a test's own (tests/unit/netback_e2e.c,
 * neteng.c): the taps it makes are private to it and vanish with it.
 * Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and /dev/net/tun. Also the
 * test frames both tests send and check. */
#ifndef TANDEM_TESTS_TEST_NETNS_H
#define TANDEM_TESTS_TEST_NETNS_H

#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Enters a new network namespace (IPv6 off, so no autoconfiguration
 * chatter on the taps); NULL, or why it cannot. */
static inline const char *test_netns_enter(void)
{
    const char *off = "1";
    int fd;

    if (unshare(CLONE_NEWNET) < 0)
        return "cannot make a network namespace (needs root / CAP_SYS_ADMIN)";
    fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, off, strlen(off)) < 0) {
            /* best effort: IPv6 may be absent */
        }
        close(fd);
    }
    return NULL;
}

/* Whether a test could: /dev/net/tun and a namespace, tried in a child;
 * NULL, or the reason to skip. */
static inline const char *test_netns_probe(void)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), st;
    pid_t pid;

    if (fd < 0)
        return "/dev/net/tun cannot be opened";
    close(fd);
    pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return "cannot make a network namespace (needs root / CAP_SYS_ADMIN)";
    return NULL;
}

#define TEST_ETHERTYPE 0x88B5        /* IEEE local experimental: only our frames */

/* A test frame: broadcast, from 00:16:3e:00:00:00, TEST_ETHERTYPE, a
 * pattern from seed. Returns len. */
static inline size_t test_frame(uint8_t *f, size_t len, unsigned seed)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x00\x16\x3e\x00\x00\x00", 6);
    f[12] = TEST_ETHERTYPE >> 8;
    f[13] = TEST_ETHERTYPE & 0xff;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed * 7 + i * 13);
    return len;
}

/* Whether f (n bytes) is one of ours. */
static inline int test_frame_ours(const uint8_t *f, size_t n)
{
    return n >= 14 && f[12] == (TEST_ETHERTYPE >> 8) && f[13] == (TEST_ETHERTYPE & 0xff);
}

#endif

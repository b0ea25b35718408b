/* Check suite for the control-socket client as the tandem CLI uses it
 * (tdm_ctl in dom0/evtchn/ctl_client.c: run dir from $TANDEM_RUNDIR, fds
 * that come with a reply tolerated and closed, the VMM's pid): reply
 * parsing, ERR replies, a VMM that hangs up, sends garbage, an overlong
 * line or nothing at all is an error, never a hang or a crash. The "VMM" is
 * a child process serving <mktemp dir>/dom7.ctl for one request. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_client.h"
#include "tdm_error.h"

#define DOMID 7

enum vmm_mode { REPLY, REPLY_WITH_FD, SILENT };

struct vmm {
    char dir[32];
    char path[64];
    pid_t pid;
};

/* Sends `reply` (raw bytes), with an fd riding on it if asked. */
static void send_reply(int s, const char *reply, size_t len, bool pass_fd)
{
    struct iovec iov = { .iov_base = (void *)reply, .iov_len = len };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr al; } cbuf;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (pass_fd) {
        int fd = open("/dev/null", O_RDONLY);
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = sizeof(cbuf.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    if (len && sendmsg(s, &mh, 0) < 0)
        _exit(2);
}

/* The child: one connection, one request line (exit 1 unless it is exactly
 * "info\n"), then the scripted answer. SILENT waits for the client to give
 * up and close. Exiting closes the socket: a VMM that hangs up. */
static void serve(int lfd, enum vmm_mode mode, const char *reply, size_t len)
{
    char req[64];
    size_t n = 0;
    int s = accept(lfd, NULL, NULL);

    if (s < 0)
        _exit(2);
    while (n < sizeof(req) - 1 && (n == 0 || req[n - 1] != '\n')) {
        ssize_t r = read(s, req + n, sizeof(req) - 1 - n);
        if (r <= 0)
            _exit(1);
        n += (size_t)r;
    }
    req[n] = '\0';
    if (strcmp(req, "info\n") != 0)
        _exit(1);
    if (mode == SILENT) {
        while (read(s, req, sizeof(req)) > 0)
            ;
        _exit(0);
    }
    send_reply(s, reply, len, mode == REPLY_WITH_FD);
    _exit(0);
}

/* Serves <tmpdir>/dom7.ctl and points $TANDEM_RUNDIR at it. The child
 * calls listen() itself (SO_PEERCRED names the listener) and says so on a
 * pipe, so the client's connect cannot race it. */
static void vmm_start(struct vmm *v, enum vmm_mode mode, const char *reply, size_t len)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int lfd, ready[2];
    char byte;

    snprintf(v->dir, sizeof(v->dir), "/tmp/dom0-ctl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(v->dir));
    snprintf(v->path, sizeof(v->path), "%s/dom%d.ctl", v->dir, DOMID);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", v->path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(pipe(ready), 0);
    setenv("TANDEM_RUNDIR", v->dir, 1);
    v->pid = fork();
    ck_assert_int_ge(v->pid, 0);
    if (v->pid == 0) {
        if (listen(lfd, 1) < 0 || write(ready[1], "", 1) != 1)
            _exit(2);
        serve(lfd, mode, reply, len);
    }
    close(lfd);
    close(ready[1]);
    ck_assert_int_eq(read(ready[0], &byte, 1), 1);
    close(ready[0]);
}

/* Reaps the child; its exit status says whether the request was right. */
static void vmm_stop(struct vmm *v)
{
    int st;

    ck_assert_int_eq(waitpid(v->pid, &st, 0), v->pid);
    unlink(v->path);
    rmdir(v->dir);
    unsetenv("TANDEM_RUNDIR");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake VMM saw a bad request");
}

/* One "info" request the way the CLI makes it; returns its result. */
static int exchange(const char *reply, size_t len, bool pass_fd, struct tdm_ctl_reply *r)
{
    struct vmm v;
    struct tdm_ctl *c;
    int rc, err;

    vmm_start(&v, pass_fd ? REPLY_WITH_FD : REPLY, reply, len);
    c = tdm_ctl_connect(NULL, DOMID);
    ck_assert_ptr_nonnull(c);
    rc = tdm_ctl_request(c, "info", TDM_CTL_ANY_FDS, r);
    err = errno;
    tdm_ctl_close(c);
    vmm_stop(&v);
    errno = err;
    return rc;
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

START_TEST(test_ok_reply_and_get)
{
    struct tdm_ctl_reply r;
    const char *s = "OK domid=3 name=web state=paused vcpus=2 memory_kib=65536\n";
    uint64_t v;

    ck_assert_int_eq(exchange(s, strlen(s), false, &r), 0);
    ck_assert_str_eq(tdm_ctl_get(&r, "name"), "web");
    ck_assert_int_eq(tdm_ctl_get_u64(&r, "memory_kib", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 65536);
    ck_assert_ptr_null(tdm_ctl_get(&r, "uuid"));
    ck_assert_ptr_null(tdm_ctl_get(&r, "dom"));      /* a prefix is not a key */
    ck_assert_str_eq(tdm_ctl_get(&r, "state"), "paused");   /* ends at the space */
}
END_TEST

START_TEST(test_bare_ok)
{
    struct tdm_ctl_reply r;

    ck_assert_int_eq(exchange("OK\n", 3, false, &r), 0);
    ck_assert_uint_eq(r.nkv, 0);
}
END_TEST

START_TEST(test_err_reply)
{
    struct tdm_ctl_reply r;
    const char *s = "ERR EINVAL unknown op\n";

    ck_assert_int_eq(exchange(s, strlen(s), false, &r), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_str_eq(tdm_last_error(), "dom7: info: EINVAL: unknown op");
}
END_TEST

START_TEST(test_not_ok)
{
    struct tdm_ctl_reply r;

    ck_assert_int_eq(exchange("OKAY\n", 5, false, &r), -1);
    ck_assert_int_eq(errno, EPROTO);
}
END_TEST

START_TEST(test_hang_up)
{
    struct tdm_ctl_reply r;

    ck_assert_int_eq(exchange("", 0, false, &r), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    ck_assert_str_eq(tdm_last_error(), "dom7: VMM closed the control socket");
    ck_assert_int_eq(exchange("OK dom", 6, false, &r), -1);   /* no newline */
    ck_assert_int_eq(errno, ECONNRESET);
}
END_TEST

START_TEST(test_line_too_long)
{
    struct tdm_ctl_reply r;
    char big[TDM_CTL_LINE_MAX + 200];

    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(exchange(big, sizeof(big), false, &r), -1);
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "reply longer than"));
}
END_TEST

START_TEST(test_passed_fds_closed)
{
    struct tdm_ctl_reply r;
    int before = count_fds();

    ck_assert_int_eq(exchange("OK gpa=0x1000\n", 14, true, &r), 0);
    ck_assert_uint_eq(r.nfds, 0);
    ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* The CLI waits for (or kills) the VMM process behind the socket. */
START_TEST(test_peer_pid)
{
    struct tdm_ctl_reply r;
    struct vmm v;
    struct tdm_ctl *c;

    vmm_start(&v, REPLY, "OK\n", 3);
    c = tdm_ctl_connect(NULL, DOMID);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(tdm_ctl_peer_pid(c), v.pid);
    ck_assert_int_eq(tdm_ctl_request(c, "info", TDM_CTL_ANY_FDS, &r), 0);
    tdm_ctl_close(c);
    vmm_stop(&v);
}
END_TEST

/* A VMM that never answers: the request gives up after the timeout. */
START_TEST(test_silent_vmm_times_out)
{
    struct tdm_ctl_reply r;
    struct vmm v;
    struct tdm_ctl *c;

    vmm_start(&v, SILENT, NULL, 0);
    c = tdm_ctl_connect(NULL, DOMID);
    ck_assert_ptr_nonnull(c);
    tdm_ctl_set_timeout(c, 200);
    ck_assert_int_eq(tdm_ctl_request(c, "info", TDM_CTL_ANY_FDS, &r), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    tdm_ctl_close(c);           /* the child sees EOF and exits */
    vmm_stop(&v);
}
END_TEST

/* xenstored keeps the connection to notice the VMM's exit. */
START_TEST(test_release_fd_keeps_connection)
{
    struct tdm_ctl_reply r;
    struct vmm v;
    struct tdm_ctl *c;
    char buf[8];
    int fd;

    vmm_start(&v, REPLY, "OK\n", 3);
    c = tdm_ctl_connect(NULL, DOMID);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(tdm_ctl_request(c, "info", 0, &r), 0);
    fd = tdm_ctl_release_fd(c);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);   /* the VMM exited: EOF */
    close(fd);
    vmm_stop(&v);
}
END_TEST

START_TEST(test_no_socket)
{
    setenv("TANDEM_RUNDIR", "/nonexistent-tandem-dir", 1);
    ck_assert_ptr_null(tdm_ctl_connect(NULL, DOMID));
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "/nonexistent-tandem-dir/dom7.ctl"));
    unsetenv("TANDEM_RUNDIR");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dom0_ctl");
    TCase *tc = tcase_create("ctl");
    tcase_add_test(tc, test_ok_reply_and_get);
    tcase_add_test(tc, test_bare_ok);
    tcase_add_test(tc, test_err_reply);
    tcase_add_test(tc, test_not_ok);
    tcase_add_test(tc, test_hang_up);
    tcase_add_test(tc, test_line_too_long);
    tcase_add_test(tc, test_passed_fds_closed);
    tcase_add_test(tc, test_peer_pid);
    tcase_add_test(tc, test_silent_vmm_times_out);
    tcase_add_test(tc, test_release_fd_keeps_connection);
    tcase_add_test(tc, test_no_socket);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

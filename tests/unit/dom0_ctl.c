/* Check suite for the control-socket client (dom0/ctl.c): reply parsing,
 * ERR replies, fds that come with a reply are closed, a VMM that hangs up
 * or sends garbage is an error, never a hang or a crash. The "VMM" is the
 * other end of a socketpair, driven from a child process. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

/* Runs `reply` (raw bytes, optionally with an fd) as the VMM's answer to
 * one request line; returns ctl_call's result and the reply text. */
static int exchange(const char *reply, size_t len, bool pass_fd, char *out, size_t outlen)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        char req[256];
        if (read(sv[1], req, sizeof(req)) <= 0)
            _exit(1);
        struct iovec iov = { .iov_base = (void *)reply, .iov_len = len };
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (pass_fd) {
            int fd = open("/dev/null", O_RDONLY);
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof(cbuf);
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (len && sendmsg(sv[1], &mh, 0) < 0)
            _exit(1);
        _exit(0);   /* closing the socket: a VMM that hangs up */
    }
    close(sv[1]);
    int rc = ctl_call(sv[0], "info", out, outlen);
    close(sv[0]);
    int st;
    waitpid(pid, &st, 0);
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
    char out[CTL_REPLY_MAX], v[64];
    const char *r = "OK domid=3 name=web state=paused vcpus=2 memory_kib=65536\n";
    ck_assert_int_eq(exchange(r, strlen(r), false, out, sizeof(out)), 0);
    ck_assert(ctl_get(out, "name", v, sizeof(v)));
    ck_assert_str_eq(v, "web");
    ck_assert(ctl_get(out, "memory_kib", v, sizeof(v)));
    ck_assert_str_eq(v, "65536");
    ck_assert(!ctl_get(out, "uuid", v, sizeof(v)));
    ck_assert(!ctl_get(out, "dom", v, sizeof(v)));   /* a prefix is not a key */
    char small[3];
    ck_assert(ctl_get(out, "state", small, sizeof(small)));
    ck_assert_str_eq(small, "pa");                 /* truncated, terminated */
}
END_TEST

START_TEST(test_bare_ok)
{
    char out[CTL_REPLY_MAX];
    ck_assert_int_eq(exchange("OK\n", 3, false, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "OK");
}
END_TEST

START_TEST(test_err_reply)
{
    char out[CTL_REPLY_MAX];
    const char *r = "ERR EINVAL unknown op\n";
    ck_assert_int_eq(exchange(r, strlen(r), false, out, sizeof(out)), -1);
    ck_assert_str_eq(out, "EINVAL unknown op");
}
END_TEST

START_TEST(test_not_ok)
{
    char out[CTL_REPLY_MAX];
    ck_assert_int_eq(exchange("OKAY\n", 5, false, out, sizeof(out)), -1);
}
END_TEST

START_TEST(test_hang_up)
{
    char out[CTL_REPLY_MAX];
    ck_assert_int_eq(exchange("", 0, false, out, sizeof(out)), -1);
    ck_assert_str_eq(out, "connection closed by the VMM");
    ck_assert_int_eq(exchange("OK dom", 6, false, out, sizeof(out)), -1);   /* no newline */
}
END_TEST

START_TEST(test_line_too_long)
{
    char out[64];
    char big[200];
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(exchange(big, sizeof(big), false, out, sizeof(out)), -1);
    ck_assert_str_eq(out, "reply line too long");
}
END_TEST

START_TEST(test_passed_fds_closed)
{
    char out[CTL_REPLY_MAX];
    int before = count_fds();
    ck_assert_int_eq(exchange("OK gpa=0x1000\n", 14, true, out, sizeof(out)), 0);
    ck_assert_int_eq(count_fds(), before);
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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

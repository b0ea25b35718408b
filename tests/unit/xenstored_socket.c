/*
 * xenstored: the unix-socket transport driven through the real epoll loop
 * (ev_run_once(0)) with real client sockets in this process: running out
 * of descriptors does not spin the loop, and one connection's pipelined
 * requests do not hold the loop for the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstored_test.h"

static char dir[64], sock[128];

static void setup(void)
{
    xt_setup();
    snprintf(dir, sizeof(dir), "/tmp/xsd-sock-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/sock", dir);
    ck_assert_int_ge(socket_listen(sock), 0);
}

static void teardown(void)
{
    xt_teardown();
    unlink(sock);
    rmdir(dir);
}

static int client(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    strcpy(sa.sun_path, sock);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static unsigned int nconns(void)
{
    unsigned int n = 0;

    for (struct conn *c = xsd_conns; c; c = c->next)
        n += !c->dead;
    return n;
}

/* Runs rounds until cond holds (at most max rounds); false on timeout. */
#define run_until(cond, max) ({ bool ok_ = false; \
    for (int r_ = 0; r_ < (max) && !(ok_ = (cond)); r_++) ev_run_once(0); ok_ || (cond); })

static void send_read(int fd, const char *path)
{
    char buf[64];
    struct xsd_sockmsg h = { XS_READ, 1, 0, (uint32_t)strlen(path) + 1 };

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), path, h.len);
    ck_assert_int_eq(send(fd, buf, sizeof(h) + h.len, 0), (ssize_t)(sizeof(h) + h.len));
}

/* True if a reply (or anything) is waiting on the client socket fd. */
static bool answered(int fd)
{
    char b;
    return recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 1;
}

START_TEST(out_of_descriptors_does_not_spin)
{
    struct rlimit old, low;
    int first = client(), pending[3], fill[256], nfill = 0, busy = 0;

    ck_assert(run_until(nconns() == 1, 100));
    for (int i = 0; i < 3; i++) {
        pending[i] = client();
        send_read(pending[i], "/");
    }
    /* Use up every descriptor below a low limit. */
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nfill < 256) {
        int fd = dup(0);
        if (fd < 0)
            break;
        fill[nfill++] = fd;
    }
    ck_assert_int_eq(errno, EMFILE);
    /* The listener stays readable (three clients wait), but after the
     * first failed accept the loop has nothing to do. */
    ev_run_once(0);
    for (int i = 0; i < 20; i++)
        busy += ev_run_once(0);
    ck_assert_int_eq(busy, 0);
    ck_assert_uint_eq(nconns(), 1);
    /* A connection goes: its descriptor lets one waiting client in. */
    close(first);
    fill[nfill] = dup(0); /* this process is the client too: take its slot back */
    ck_assert_int_ge(fill[nfill++], 0);
    ck_assert(run_until(answered(pending[0]) || answered(pending[1]) || answered(pending[2]), 100));
    ck_assert_uint_eq(nconns(), 1);
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    /* With descriptors back, the others get in too (at the latest when the
     * daemon retries, within a second or two). */
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 50 && !answered(pending[i]); r++)
            ev_run_once(100);
        ck_assert_msg(answered(pending[i]), "client %d not served", i);
    }
    ck_assert_uint_eq(nconns(), 3);
    for (int i = 0; i < 3; i++)
        close(pending[i]);
}
END_TEST

/* Replies waiting on a client socket (reads them all). */
static unsigned int drain_replies(int fd, char *buf, size_t *have, size_t size)
{
    unsigned int n = 0;
    ssize_t r;

    while ((r = recv(fd, buf + *have, size - *have, MSG_DONTWAIT)) > 0)
        *have += (size_t)r;
    while (*have >= sizeof(struct xsd_sockmsg)) {
        struct xsd_sockmsg h;
        memcpy(&h, buf, sizeof(h));
        if (*have < sizeof(h) + h.len)
            break;
        memmove(buf, buf + sizeof(h) + h.len, *have - sizeof(h) - h.len);
        *have -= sizeof(h) + h.len;
        n++;
    }
    return n;
}

/* A client pipelining 300 requests gets one batch a round; another
 * client's request is answered in the first round all the same. */
START_TEST(pipelining_client_shares_the_loop)
{
    int flood = client(), other = client();
    char req[300 * 18], buf[1 << 16];
    size_t len = 0, have = 0, ohave = 0;
    unsigned int got = 0, rounds = 0, most = 0;

    ck_assert(run_until(nconns() == 2, 100));
    for (int i = 0; i < 300; i++) {
        struct xsd_sockmsg h = { XS_READ, (uint32_t)i, 0, 2 };
        memcpy(req + len, &h, sizeof(h));
        memcpy(req + len + sizeof(h), "/", 2);
        len += sizeof(h) + 2;
    }
    ck_assert_int_eq(send(flood, req, len, 0), (ssize_t)len);
    send_read(other, "/");
    ev_run_once(0);
    ck_assert_msg(drain_replies(other, buf, &ohave, sizeof(buf)) == 1, "other client not served");
    got = drain_replies(flood, buf, &have, sizeof(buf));
    ck_assert_uint_le(got, XSD_BATCH);
    while (got < 300 && rounds++ < 1000) {
        unsigned int n;
        ev_run_once(0);
        n = drain_replies(flood, buf, &have, sizeof(buf));
        most = n > most ? n : most;
        got += n;
    }
    ck_assert_uint_eq(got, 300);   /* the backlog was served without a new event */
    ck_assert_uint_le(most, XSD_BATCH);
    ev_run_once(0); /* finds nothing left */
    ck_assert(!conn_backlogged());
    close(flood);
    close(other);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_socket");
    TCase *tc = tcase_create("socket");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, out_of_descriptors_does_not_spin);
    tcase_add_test(tc, pipelining_client_shares_the_loop);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

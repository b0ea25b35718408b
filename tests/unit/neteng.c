/* The network engine (backends/engine/neteng.h) driven from the host
 * side, with no ring and no guest: a tap made by the engine's own tap
 * code in a network namespace of the test's own (unshare, per test: the
 * tap goes with it), and a packet socket on that tap as the far end.
 * Frames sent through the engine arrive at the socket byte for byte;
 * frames the socket sends are read by the engine in order and wait for
 * the front door; depth is backpressure; a header the tap refuses is an
 * error for that frame only; the engine is driven by polling its fd.
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and /dev/net/tun: without
 * them the tap tests are skipped with the reason (exit 77) after the
 * name checks ran. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "neteng.h"
#include "tdm_uring.h"
#include "test_netns.h"

#define TAP "tdmeng0"

static int tap_fd = -1, pkt_fd = -1;
static struct neteng *eng;

struct sent {                       /* one send seen by the callback */
    struct neteng_tx tx;
    int calls, res;
};

static void on_sent(void *ctx, struct neteng_tx *t, int res)
{
    struct sent *s = (struct sent *)((char *)t - offsetof(struct sent, tx));

    (void)ctx;
    s->calls++;
    s->res = res;
}

static struct neteng *engine(unsigned depth, unsigned rx_bufs)
{
    char err[256];
    struct neteng *e = neteng_create(&(struct neteng_config){
                                         .tap_fd = tap_fd, .tx_depth = depth, .rx_bufs = rx_bufs,
                                         .name = "neteng test" },
                                     err, sizeof(err));

    ck_assert_msg(e != NULL, "%s", err);
    neteng_start_rx(e);
    return e;
}

static void setup(void)
{
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
    char err[256];
    const char *why = test_netns_enter();

    ck_assert_msg(!why, "%s", why ? why : "");
    tap_fd = neteng_tap_open(TAP, err, sizeof(err));
    ck_assert_msg(tap_fd >= 0, "%s", err);
    ck_assert_msg(neteng_tap_offload(tap_fd, true, true, true, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(neteng_tap_up(TAP, NULL, err, sizeof(err)) == 0, "%s", err);
    pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    ck_assert_int_ge(pkt_fd, 0);
    a.sll_ifindex = (int)if_nametoindex(TAP);
    ck_assert_int_ne(a.sll_ifindex, 0);
    ck_assert_int_eq(bind(pkt_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    eng = engine(4, 8);
}

static void teardown(void)
{
    neteng_destroy(eng);
    eng = NULL;
    if (pkt_fd >= 0)
        close(pkt_fd);
    if (tap_fd >= 0)
        close(tap_fd);
    pkt_fd = tap_fd = -1;
}

/* The next of our frames the socket sees (others, if any, skipped). */
static ssize_t recv_ours(uint8_t *buf, size_t len)
{
    for (int tries = 0; tries < 100; tries++) {
        struct pollfd p = { .fd = pkt_fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 2000) <= 0)
            return -1;
        n = recv(pkt_fd, buf, len, 0);
        if (test_frame_ours(buf, (size_t)(n < 0 ? 0 : n)))
            return n;
    }
    return -1;
}

/* One turn of a host loop: hand queued work over, sleep on the engine's
 * fd until something completes (or 50 ms), reap. */
static void turn(void)
{
    struct pollfd p = { .fd = neteng_fd(eng), .events = POLLIN };

    neteng_flush(eng);
    if (!neteng_cq_ready(eng) && poll(&p, 1, 50) < 0)
        ck_assert_int_eq(errno, EINTR);
    neteng_reap(eng);
}

START_TEST(send_reaches_the_tap)
{
    uint8_t f[600], got[2048];
    struct sent s = { .tx = { .nfrag = 3, .done = on_sent } };
    struct neteng_stats st;

    test_frame(f, sizeof(f), 1);
    /* the frame in three pieces, as a guest's pages would be */
    s.tx.iov[1] = (struct iovec){ f, 14 };
    s.tx.iov[2] = (struct iovec){ f + 14, 100 };
    s.tx.iov[3] = (struct iovec){ f + 114, sizeof(f) - 114 };
    ck_assert_int_eq(neteng_send(eng, &s.tx), 0);
    ck_assert_uint_eq(neteng_tx_inflight(eng), 1);
    for (int i = 0; i < 100 && !s.calls; i++)
        turn();
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.res, 0);
    ck_assert_int_eq(recv_ours(got, sizeof(got)), (ssize_t)sizeof(f));
    ck_assert(memcmp(got, f, sizeof(f)) == 0);
    neteng_get_stats(eng, &st);
    ck_assert_uint_eq(st.tx_sent, 1);
    ck_assert_uint_eq(neteng_tx_inflight(eng), 0);
}
END_TEST

/* Frames from the host wait in the engine, oldest first, until the
 * front door takes them; a released buffer is read into again. */
START_TEST(receive_in_order_and_wait)
{
    uint8_t f[300];
    struct neteng_frame fr;
    unsigned seen = 0;

    for (unsigned k = 0; k < 12; k++)  /* more than the 8 buffers */
        ck_assert_int_eq(send(pkt_fd, f, test_frame(f, sizeof(f), k), 0), (ssize_t)sizeof(f));
    /* take none: the engine holds what its 8 reads got */
    for (int i = 0; i < 100 && neteng_rx_ready(eng) < 8; i++)
        turn();
    ck_assert_uint_eq(neteng_rx_ready(eng), 8);
    for (int i = 0; i < 200 && seen < 12; i++) {
        while (neteng_rx_peek(eng, &fr)) {
            if (fr.len == sizeof(f) && test_frame_ours(fr.data, fr.len)) {
                test_frame(f, sizeof(f), seen);
                ck_assert_msg(memcmp(fr.data, f, sizeof(f)) == 0, "frame %u out of order", seen);
                ck_assert_uint_eq(fr.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
                seen++;
            }
            neteng_rx_release(eng);
        }
        turn();
    }
    ck_assert_uint_eq(seen, 12);
    ck_assert(!neteng_rx_peek(eng, &fr));
    neteng_rx_release(eng);            /* nothing to release: harmless */
}
END_TEST

START_TEST(depth_is_backpressure)
{
    uint8_t f[64];
    struct sent s[5];

    test_frame(f, sizeof(f), 9);
    for (unsigned i = 0; i < 5; i++) {
        s[i] = (struct sent){ .tx = { .nfrag = 1, .done = on_sent } };
        s[i].tx.iov[1] = (struct iovec){ f, sizeof(f) };
    }
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(neteng_send(eng, &s[i].tx), 0);
    ck_assert_int_eq(neteng_send(eng, &s[4].tx), -EBUSY);
    for (int i = 0; i < 100 && neteng_tx_inflight(eng); i++)
        turn();
    ck_assert_uint_eq(neteng_tx_inflight(eng), 0);
    ck_assert_int_eq(neteng_send(eng, &s[4].tx), 0);
    for (int i = 0; i < 100 && !s[4].calls; i++)
        turn();
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(s[i].calls, 1);
    s[0].tx.nfrag = 0;
    ck_assert_int_eq(neteng_send(eng, &s[0].tx), -EINVAL);
    s[0].tx.nfrag = NETENG_TX_MAX_FRAGS + 1;
    ck_assert_int_eq(neteng_send(eng, &s[0].tx), -EINVAL);
}
END_TEST

/* An offload header the tap refuses (an unknown GSO type) fails that
 * frame, with the tap's error; the next frame goes through. */
START_TEST(refused_header_fails_one_frame)
{
    uint8_t f[200], got[512];
    struct sent bad = { .tx = { .nfrag = 1, .done = on_sent } }, good = bad;
    struct neteng_stats st;

    test_frame(f, sizeof(f), 3);
    bad.tx.iov[1] = good.tx.iov[1] = (struct iovec){ f, sizeof(f) };
    bad.tx.hdr.gso_type = 0x7f;
    bad.tx.hdr.gso_size = 100;
    ck_assert_int_eq(neteng_send(eng, &bad.tx), 0);
    ck_assert_int_eq(neteng_send(eng, &good.tx), 0);
    for (int i = 0; i < 100 && !(bad.calls && good.calls); i++)
        turn();
    ck_assert_int_eq(bad.calls, 1);
    ck_assert_int_lt(bad.res, 0);
    ck_assert_int_eq(good.res, 0);
    ck_assert_int_eq(recv_ours(got, sizeof(got)), (ssize_t)sizeof(f));
    neteng_get_stats(eng, &st);
    ck_assert_uint_eq(st.tx_errors, 1);
    ck_assert_uint_eq(st.tx_sent, 1);
}
END_TEST

START_TEST(tap_names)
{
    ck_assert(neteng_tap_name_ok("vif3.0"));
    ck_assert(neteng_tap_name_ok("a-b_c.D9"));
    ck_assert(neteng_tap_name_ok("123456789012345"));
    ck_assert(!neteng_tap_name_ok("1234567890123456"));    /* 16: beyond IFNAMSIZ - 1 */
    ck_assert(!neteng_tap_name_ok(""));
    ck_assert(!neteng_tap_name_ok("."));
    ck_assert(!neteng_tap_name_ok(".."));
    ck_assert(!neteng_tap_name_ok("a/b"));
    ck_assert(!neteng_tap_name_ok("a b"));
    ck_assert(!neteng_tap_name_ok("vif%d"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("neteng");
    TCase *names = tcase_create("names"), *tap = tcase_create("tap");
    const char *why = test_netns_probe();
    SRunner *sr;
    int failed;

    tcase_add_test(names, tap_names);
    suite_add_tcase(s, names);
    if (!why) {
        tcase_add_checked_fixture(tap, setup, teardown);
        tcase_add_test(tap, send_reaches_the_tap);
        tcase_add_test(tap, receive_in_order_and_wait);
        tcase_add_test(tap, depth_is_backpressure);
        tcase_add_test(tap, refused_header_fails_one_frame);
        suite_add_tcase(s, tap);
    }
    sr = srunner_create(s);
    /* Without a tap the result is given as PASS/FAIL/SKIP lines (counted
     * by tests/run.sh, which then shows the skip and its reason). */
    srunner_run_all(sr, why ? CK_SILENT : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (why) {
        printf(failed ? "FAIL: neteng tap_names\n" : "PASS: neteng tap_names\n");
        printf("SKIP: neteng tap tests: %s\n", why);
        return failed ? 1 : 77;
    }
    return failed ? 1 : 0;
}

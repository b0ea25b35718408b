/* tandem-netback end to end: the real daemon ($TANDEM_BIN/tandem-netback)
 * and a real xenstored (both started in a temporary directory, stopped by
 * pid), the fake VMM control socket, and a fake netfront
 * (netback_fakefront.c) playing domain 3. Each test runs in a network
 * namespace of its own (unshare), so the taps it makes are private to it
 * and vanish with it; the host side of a vif is an AF_PACKET socket on
 * the tap. Needs root (CAP_NET_ADMIN) and /dev/net/tun: without them
 * every test is skipped with the reason.
 *
 * Checks: the published features; frames of every size and slot count
 * both ways, byte for byte; checksum offload reaching the host kernel as
 * a virtio-net header; multi-slot RX; every non-fatal malformed request
 * answered XEN_NETIF_RSP_ERROR with good traffic flowing on; every fatal
 * one disabling only its vif (error node, stats file) until the frontend
 * reconnects; split event channels with two queues; bad frontend keys;
 * counters; SIGKILL + restart (the frontend reconnects, traffic resumes);
 * SIGTERM (exit 0, tap and stats file gone). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "netback_fakefront.h"
#include "test_netns.h"

#define WAIT_MS 5000
#define VIF "vif3.0"

static char dir[64], sock[128], stats_dir[128];
static pid_t xsd_pid, nb_pid;
static struct fake_vmm *vmm;
static struct xs_handle *xs;
static struct nf N;
static int pkt_fd = -1;
static const char *skip_reason;

/* ---- environment ---- */

static void start_netback(void)
{
    char exe[256];
    char *argv[] = { exe, "--run-dir", (char *)fake_vmm_run_dir(vmm), "--stats-dir", stats_dir,
                     NULL };

    snprintf(exe, sizeof(exe), "%s/tandem-netback", th_bin_dir());
    nb_pid = th_spawn(dir, "netback.log", argv);
}

static void cleanup(void)
{
    char path[200];

    th_stop(&nb_pid, SIGKILL);
    if (pkt_fd >= 0)
        close(pkt_fd);
    pkt_fd = -1;
    if (xs)
        xs_close(xs);
    xs = NULL;
    th_stop(&xsd_pid, SIGTERM);
    if (vmm)
        fake_vmm_stop(vmm);
    vmm = NULL;
    if (!dir[0])
        return;
    unlink(sock);
    snprintf(path, sizeof(path), "%s/xenstored.log", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/netback.log", dir);
    if (getenv("NETBACK_TEST_LOG"))
        fprintf(stderr, "netback log kept: %s\n", path);
    else
        unlink(path);
    rmdir(stats_dir);
    rmdir(dir);
    dir[0] = '\0';
}

static void setup(void)
{
    struct fake_vmm_config cfg = { .domid = 3, .nr_grant_frames = 4 };

    skip_reason = test_netns_enter();
    ck_assert_msg(!skip_reason, "%s", skip_reason ? skip_reason : "");
    atexit(cleanup);
    snprintf(dir, sizeof(dir), "/tmp/tandem-netback.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/xs.sock", dir);
    snprintf(stats_dir, sizeof(stats_dir), "%s/stats", dir);
    xsd_pid = th_start_xenstored(dir, sock, WAIT_MS);
    xs = xs_open(0);
    ck_assert_ptr_nonnull(xs);
    vmm = fake_vmm_start(&cfg);
    start_netback();
}

static void teardown(void)
{
    int st = nb_pid > 0 ? th_stop(&nb_pid, SIGTERM) : 0;

    cleanup();
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "tandem-netback stopped with 0x%x", st);
}


/* ---- the host side: a packet socket on the tap ---- */

static int wait_ifindex(const char *name)
{
    long deadline = th_now_ms() + WAIT_MS;
    unsigned idx;

    while ((idx = if_nametoindex(name)) == 0 && th_now_ms() < deadline) {
        struct pollfd none;

        poll(&none, 0, 10);         /* the tap appears when the backend probes */
    }
    ck_assert_msg(idx != 0, "no interface %s", name);
    return (int)idx;
}

static int open_packet(const char *name)
{
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
    int on = 1, fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

    ck_assert_int_ge(fd, 0);
    a.sll_ifindex = wait_ifindex(name);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)), 0);
    return fd;
}

static void set_mtu(const char *name, int mtu)
{
    struct ifreq ifr = { 0 };
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_mtu = mtu;
    ck_assert_int_eq(ioctl(s, SIOCSIFMTU, &ifr), 0);
    close(s);
}

/* The next frame of ours the host saw on the tap (length, -1 on timeout);
 * *csum_partial: the kernel got it with a checksum still to compute. */
static int host_recv(int fd, uint8_t *buf, size_t cap, bool *csum_partial, int timeout_ms)
{
    long deadline = th_now_ms() + timeout_ms;

    for (;;) {
        union { char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))]; struct cmsghdr al; } cb;
        struct iovec iov = { buf, cap };
        struct sockaddr_ll from;
        struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
                             .msg_iovlen = 1, .msg_control = cb.b,
                             .msg_controllen = sizeof(cb.b) };
        struct pollfd p = { .fd = fd, .events = POLLIN };
        long left = deadline - th_now_ms();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 14 || from.sll_pkttype == PACKET_OUTGOING)   /* our own sends */
            continue;
        if (csum_partial) {
            *csum_partial = false;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                    struct tpacket_auxdata aux;

                    memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                    *csum_partial = aux.tp_status & TP_STATUS_CSUMNOTREADY;
                }
        }
        if ((buf[12] == TEST_ETHERTYPE >> 8 && buf[13] == (TEST_ETHERTYPE & 0xff)) ||
            (buf[12] == 0x08 && buf[13] == 0x00))
            return (int)n;
    }
}

static void host_send(int fd, const uint8_t *f, size_t len)
{
    ck_assert_int_eq(send(fd, f, len, 0), (ssize_t)len);
}

/* ---- frontend helpers ---- */

static void create_vif(struct nf *n, unsigned devid, const char *vifname)
{
    ck_assert(nf_create(n, vmm, xs, devid, vifname, NULL));
    ck_assert_msg(ff_wait_backend(&n->ff, 2, WAIT_MS), "InitWait: %s", ff_error());
}

static void connect_vif(unsigned nq, bool split)
{
    create_vif(&N, 0, NULL);
    ck_assert_msg(nf_connect(&N, nq, split, 10, true), "connect: %s", nf_error());
    pkt_fd = open_packet(VIF);
}

/* Sends one frame from the guest and checks the host got exactly it. */
static void guest_to_host(struct nf *n, int fd, unsigned qi, size_t len, unsigned nslots,
                          unsigned seed)
{
    static uint8_t f[65536], got[65536];
    struct netif_tx_response rsp[24];
    int r;

    test_frame(f, len, seed);
    ck_assert(nf_tx_frame(n, qi, f, len, nslots, 0));
    nf_tx_push(n, qi);
    ck_assert_msg(nf_tx_collect(n, qi, rsp, nslots, WAIT_MS) == nslots, "%s", nf_error());
    for (unsigned s = 0; s < nslots; s++)
        ck_assert_int_eq(rsp[s].status, XEN_NETIF_RSP_OKAY);
    r = host_recv(fd, got, sizeof(got), NULL, WAIT_MS);
    ck_assert_int_eq(r, (int)len);
    ck_assert_msg(memcmp(f, got, len) == 0, "frame of %zu bytes in %u slots differs", len,
                  nslots);
}

/* Sends one frame from the host and checks the guest got exactly it. */
static void host_to_guest(struct nf *n, int fd, unsigned qi, size_t len, unsigned seed)
{
    static uint8_t f[16384], got[16384];
    uint16_t flags;
    int16_t status = 0;
    int r;

    nf_rx_post(n, qi, 64);
    test_frame(f, len, seed);
    host_send(fd, f, len);
    r = nf_rx_recv(n, qi, got, sizeof(got), &flags, &status, WAIT_MS);
    ck_assert_msg(r == (int)len, "received %d of %zu bytes (status %d): %s", r, len, status,
                  nf_error());
    ck_assert_msg(memcmp(f, got, len) == 0, "frame of %zu bytes differs", len);
    ck_assert_uint_eq(n->misplaced, 0);
}

static char *stats_of(unsigned devid)
{
    static char buf[2048];
    char path[200];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/3.%u", stats_dir, devid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Waits (the stats file is rewritten every second) for a line. */
static bool stats_has(unsigned devid, const char *line)
{
    long deadline = th_now_ms() + WAIT_MS;

    do {
        char *s = stats_of(devid);

        if (s && strstr(s, line))
            return true;
        poll(NULL, 0, 50);          /* re-read interval; the file changes once a second */
    } while (th_now_ms() < deadline);
    return false;
}

static void expect_key(struct nf *n, const char *key, const char *want)
{
    char *v = ff_backend_key(&n->ff, key);

    ck_assert_msg(v != NULL, "backend key %s missing", key);
    ck_assert_str_eq(v, want);
    free(v);
}

/* ---- tests ---- */

START_TEST(features_and_handshake)
{
    create_vif(&N, 0, NULL);
    expect_key(&N, "feature-rx-copy", "1");
    expect_key(&N, "feature-sg", "1");
    expect_key(&N, "feature-gso-tcpv4", "1");
    expect_key(&N, "feature-gso-tcpv6", "1");
    expect_key(&N, "feature-ipv6-csum-offload", "1");
    expect_key(&N, "feature-split-event-channels", "1");
    expect_key(&N, "multi-queue-max-queues", "2");
    ck_assert_int_ne(if_nametoindex(VIF), 0);
    ck_assert(nf_connect(&N, 1, false, 10, true));
    ck_assert(stats_has(0, "state connected"));
    ck_assert(stats_has(0, "ifname " VIF));
    ck_assert(stats_has(0, "mac 00:16:3e:00:00:00"));
}
END_TEST

START_TEST(frames_guest_to_host)
{
    static const struct { size_t len; unsigned slots; } c[] = {
        { 14, 1 }, { 60, 1 }, { 1514, 1 }, { 3000, 2 }, { 1514, 3 }, { 9000, 3 }, { 16000, 5 },
    };

    connect_vif(1, false);
    set_mtu(VIF, 16000);
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        guest_to_host(&N, pkt_fd, 0, c[i].len, c[i].slots, i);
    for (unsigned i = 0; i < 300; i++)  /* more than a ring's worth */
        guest_to_host(&N, pkt_fd, 0, 60 + i, 1, i);
    /* 16 slots for the seven above, 300 more: all taken and answered. */
    ck_assert(stats_has(0, "queue 0 tx req_prod 316 req_cons 316 rsp_prod 316 "));
}
END_TEST

START_TEST(frames_host_to_guest)
{
    connect_vif(1, false);
    set_mtu(VIF, 9000);
    host_to_guest(&N, pkt_fd, 0, 60, 1);
    host_to_guest(&N, pkt_fd, 0, 1514, 2);
    host_to_guest(&N, pkt_fd, 0, 5000, 3);          /* two slots (feature-sg) */
    host_to_guest(&N, pkt_fd, 0, 9014, 4);          /* three */
    for (unsigned i = 0; i < 300; i++)
        host_to_guest(&N, pkt_fd, 0, 60 + i * 4, i);
}
END_TEST

/* A UDP/IPv4 frame whose checksum the guest left to the backend. */
START_TEST(checksum_offload_reaches_the_kernel)
{
    uint8_t f[128] = { 0 }, got[256];
    struct netif_tx_response rsp;
    bool partial = false;

    connect_vif(1, false);
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x00\x16\x3e\x00\x00\x00", 6);
    f[12] = 0x08;
    f[14] = 0x45;                   /* IPv4, 20-byte header */
    f[17] = 100 - 14;               /* total length */
    f[22] = 64;                     /* TTL */
    f[23] = 17;                     /* UDP */
    memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    f[35] = 7;                      /* dst port 7 */
    f[39] = 100 - 34;               /* UDP length */
    ck_assert(nf_tx_frame(&N, 0, f, 100, 1, XEN_NETTXF_csum_blank | XEN_NETTXF_data_validated));
    nf_tx_push(&N, 0);
    ck_assert_uint_eq(nf_tx_collect(&N, 0, &rsp, 1, WAIT_MS), 1);
    ck_assert_int_eq(rsp.status, XEN_NETIF_RSP_OKAY);
    ck_assert_int_eq(host_recv(pkt_fd, got, sizeof(got), &partial, WAIT_MS), 100);
    ck_assert_msg(partial, "the kernel did not get the packet as CHECKSUM_PARTIAL");
    /* csum_blank on something that is not IP: dropped, not fatal */
    test_frame(f, 60, 1);
    ck_assert(nf_tx_frame(&N, 0, f, 60, 1, XEN_NETTXF_csum_blank));
    nf_tx_push(&N, 0);
    ck_assert_uint_eq(nf_tx_collect(&N, 0, &rsp, 1, WAIT_MS), 1);
    ck_assert_int_eq(rsp.status, XEN_NETIF_RSP_ERROR);
    guest_to_host(&N, pkt_fd, 0, 60, 1, 2);
}
END_TEST

static union netif_tx_slot req(uint32_t gref, uint16_t off, uint16_t size, uint16_t flags,
                               uint16_t id)
{
    union netif_tx_slot s = { .req = { .gref = gref, .offset = off, .flags = flags, .id = id,
                                       .size = size } };

    return s;
}

/* A TCP/IPv4 segment of 3000 bytes with a GSO extra (MSS 1400): the host
 * kernel gets it as one GSO packet with a partial checksum. */
START_TEST(gso_reaches_the_kernel)
{
    static uint8_t f[3000], got[4096];
    struct netif_tx_response rsp[4];
    union netif_tx_slot s[4] = { 0 };
    struct nf_queue *q;
    bool partial = false;
    unsigned slot;

    connect_vif(1, false);
    set_mtu(VIF, 1500);
    memset(f, 0xab, sizeof(f));
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x00\x16\x3e\x00\x00\x00", 6);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x45;
    f[16] = (sizeof(f) - 14) >> 8;
    f[17] = (sizeof(f) - 14) & 0xff;
    f[20] = 0x40;                   /* DF */
    f[22] = 64;
    f[23] = 6;                      /* TCP */
    f[24] = f[25] = 0;
    memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    memset(f + 34, 0, 20);
    f[35] = 80;
    f[37] = 81;
    f[46] = 0x50;                   /* data offset 5 */
    f[47] = 0x18;                   /* PSH ACK */
    f[48] = 0xff;
    /* the IPv4 header checksum */
    {
        uint32_t sum = 0;

        for (unsigned i = 14; i < 34; i += 2)
            sum += (uint32_t)(f[i] << 8 | f[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        f[24] = (uint8_t)(~sum >> 8);
        f[25] = (uint8_t)~sum;
    }
    q = &N.q[0];
    slot = q->tx.req_prod_pvt % NF_SLOTS;
    memcpy(ff_addr(&N.ff, q->tx_frame[slot]), f, 1500);
    memcpy(ff_addr(&N.ff, q->tx_frame[(slot + 2) % NF_SLOTS]), f + 1500, 1500);
    s[0] = req(q->tx_gref[slot], 0, sizeof(f),
               XEN_NETTXF_csum_blank | XEN_NETTXF_extra_info | XEN_NETTXF_more_data, 0);
    s[1].extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
    s[1].extra.u.gso.size = 1400;
    s[1].extra.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    s[2] = req(q->tx_gref[(slot + 2) % NF_SLOTS], 0, 1500, 0, 2);
    for (unsigned i = 0; i < 3; i++)
        nf_tx_raw(&N, 0, &s[i]);
    nf_tx_push(&N, 0);
    ck_assert_msg(nf_tx_collect(&N, 0, rsp, 3, WAIT_MS) == 3, "%s", nf_error());
    ck_assert_int_eq(rsp[0].status, XEN_NETIF_RSP_OKAY);
    ck_assert_int_eq(rsp[1].status, XEN_NETIF_RSP_NULL);
    ck_assert_int_eq(rsp[2].status, XEN_NETIF_RSP_OKAY);
    /* larger than the MTU: it reached the stack as one GSO packet */
    ck_assert_int_eq(host_recv(pkt_fd, got, sizeof(got), &partial, WAIT_MS), (int)sizeof(f));
    ck_assert(partial);
    ck_assert(memcmp(got + 54, f + 54, sizeof(f) - 54) == 0);
}
END_TEST

/* Puts n raw slots, pushes, expects n responses all `status`. */
static void expect_answer(union netif_tx_slot *s, unsigned n, int16_t status)
{
    struct netif_tx_response rsp[32];

    for (unsigned i = 0; i < n; i++)
        nf_tx_raw(&N, 0, &s[i]);
    nf_tx_push(&N, 0);
    ck_assert_uint_eq(nf_tx_collect(&N, 0, rsp, n, WAIT_MS), n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_msg(rsp[i].status == status, "slot %u of %u: status %d, wanted %d", i, n,
                      rsp[i].status, status);
}

START_TEST(nonfatal_requests_are_answered_error)
{
    union netif_tx_slot s[24];
    uint32_t g;

    connect_vif(1, false);
    g = nf_tx_next_gref(&N, 0);
    /* 19 and 20 slots after the first: dropped */
    for (unsigned n = 20; n <= 21; n++) {
        for (unsigned i = 0; i < n; i++)
            s[i] = req(g, 0, (uint16_t)(i == 0 ? n * 10 : 10), i + 1 < n ? XEN_NETTXF_more_data : 0,
                       (uint16_t)i);
        expect_answer(s, n, XEN_NETIF_RSP_ERROR);
        guest_to_host(&N, pkt_fd, 0, 60, 1, n);
    }
    /* 18 after the first (XEN_NETIF_NR_SLOTS_MIN + the first) is served */
    guest_to_host(&N, pkt_fd, 0, 19 * 60, 19, 1);
    /* a later slot larger than what remains */
    s[0] = req(g, 0, 100, XEN_NETTXF_more_data, 0);
    s[1] = req(g, 0, 200, 0, 1);
    expect_answer(s, 2, XEN_NETIF_RSP_ERROR);
    guest_to_host(&N, pkt_fd, 0, 60, 1, 2);
    /* under 14 bytes */
    s[0] = req(g, 0, 10, 0, 0);
    expect_answer(s, 1, XEN_NETIF_RSP_ERROR);
    guest_to_host(&N, pkt_fd, 0, 60, 1, 3);
    /* a grant that does not check out */
    s[0] = req(ff_ungranted_ref(&N.ff), 0, 60, 0, 0);
    expect_answer(s, 1, XEN_NETIF_RSP_ERROR);
    guest_to_host(&N, pkt_fd, 0, 60, 1, 4);
    ck_assert(stats_has(0, "tx_drops 5"));
    ck_assert(stats_has(0, "fatal -"));
}
END_TEST

/* Each fatal case disables the vif (and only it) until it reconnects. */
START_TEST(fatal_requests_disable_only_their_vif)
{
    static const char *const reasons[] = {
        "producer index more than a ring ahead", "packet claims more slots than are posted",
        "more than 20 slots after the first", "a slot crosses its page", "missing extra info",
        "unknown extra info type", "GSO size 0", "unknown GSO type",
    };
    struct nf other;
    int other_fd;

    connect_vif(1, false);
    create_vif(&other, 1, "vif3.1");
    ck_assert(nf_connect(&other, 1, false, 40, true));
    other_fd = open_packet("vif3.1");
    for (unsigned c = 0; c < sizeof(reasons) / sizeof(reasons[0]); c++) {
        netif_tx_front_ring_t *r = &N.q[0].tx;
        uint32_t g = nf_tx_next_gref(&N, 0);
        union netif_tx_slot s[24], ex = { 0 };
        unsigned n = 0;
        char line[128];

        switch (c) {
        case 0:
            r->req_prod_pvt += 300;     /* 300 > 256 */
            break;
        case 1:
            s[n++] = req(g, 0, 100, XEN_NETTXF_more_data, 0);
            break;
        case 2:
            for (unsigned i = 0; i < 22; i++)           /* 21 after the first */
                s[n++] = req(g, 0, i == 0 ? 22 * 10 : 10, i < 21 ? XEN_NETTXF_more_data : 0,
                             (uint16_t)i);
            break;
        case 3:
            s[n++] = req(g, 4000, 200, 0, 0);
            break;
        case 4:
            s[n++] = req(g, 0, 100, XEN_NETTXF_extra_info, 0);
            break;
        case 5:
        case 6:
        case 7:
            s[n++] = req(g, 0, 100, XEN_NETTXF_extra_info | XEN_NETTXF_csum_blank, 0);
            ex.extra.type = c == 5 ? 9 : XEN_NETIF_EXTRA_TYPE_GSO;
            ex.extra.u.gso.size = c == 6 ? 0 : 1400;
            ex.extra.u.gso.type = c == 7 ? 7 : XEN_NETIF_GSO_TYPE_TCPV4;
            s[n++] = ex;
            break;
        }
        for (unsigned i = 0; i < n; i++)
            nf_tx_raw(&N, 0, &s[i]);
        nf_tx_push(&N, 0);
        snprintf(line, sizeof(line), "fatal %s", reasons[c]);
        ck_assert_msg(stats_has(0, line), "case %u: no '%s' in the stats", c, line);
        ck_assert(stats_has(0, "state disabled"));
        {
            char *e = ff_backend_key(&N.ff, "error");

            ck_assert_msg(e && strstr(e, reasons[c]), "case %u: error node %s", c, e ? e : "-");
            free(e);
        }
        /* the other vif still works both ways */
        guest_to_host(&other, other_fd, 0, 100, 1, c);
        host_to_guest(&other, other_fd, 0, 100, c);
        /* the frontend starts over; the vif works again */
        ck_assert_msg(nf_reconnect(&N, 10), "reconnect: %s", nf_error());
        guest_to_host(&N, pkt_fd, 0, 60, 1, c);
    }
    close(other_fd);
}
END_TEST

START_TEST(split_events_two_queues)
{
    connect_vif(2, true);
    expect_key(&N, "state", "4");
    for (unsigned q = 0; q < 2; q++) {
        ck_assert_uint_ne(N.q[q].port_tx, N.q[q].port_rx);
        for (unsigned i = 0; i < 50; i++)
            guest_to_host(&N, pkt_fd, q, 100 + i, 1 + i % 3, i);
    }
    /* RX: the kernel picks the queue; post on both and take from either */
    for (unsigned i = 0; i < 20; i++) {
        uint8_t f[200], got[256];
        uint16_t flags;
        int16_t st;
        int r = -1;

        nf_rx_post(&N, 0, 32);
        nf_rx_post(&N, 1, 32);
        test_frame(f, sizeof(f), i);
        host_send(pkt_fd, f, sizeof(f));
        for (long end = th_now_ms() + WAIT_MS; r < 0 && th_now_ms() < end;)
            for (unsigned q = 0; q < 2 && r < 0; q++)
                r = nf_rx_recv(&N, q, got, sizeof(got), &flags, &st, 20);
        ck_assert_int_eq(r, (int)sizeof(f));
        ck_assert(memcmp(f, got, sizeof(f)) == 0);
    }
    ck_assert(stats_has(0, "queues 2"));
}
END_TEST

START_TEST(bad_frontend_keys)
{
    create_vif(&N, 0, NULL);
    N.flip = true;
    ck_assert(nf_connect(&N, 1, false, 10, false));
    ck_assert_msg(ff_wait_backend(&N.ff, 6, WAIT_MS), "Closed: %s", ff_error());
    {
        char *e = ff_backend_key(&N.ff, "error");

        ck_assert_msg(e && strstr(e, "request-rx-copy"), "error node: %s", e ? e : "-");
        free(e);
    }
    N.flip = false;
    N.no_rx_notify = true;
    ck_assert(ff_set_state(&N.ff, 1) && ff_wait_backend(&N.ff, 2, WAIT_MS));
    ck_assert(nf_connect(&N, 1, false, 10, false));
    ck_assert(ff_wait_backend(&N.ff, 6, WAIT_MS));
    N.no_rx_notify = false;
    ck_assert(nf_reconnect(&N, 10));
}
END_TEST

START_TEST(counters)
{
    connect_vif(1, false);
    for (unsigned i = 0; i < 10; i++)
        guest_to_host(&N, pkt_fd, 0, 100, 1, i);
    for (unsigned i = 0; i < 7; i++)
        host_to_guest(&N, pkt_fd, 0, 200, i);
    ck_assert(stats_has(0, "tx_packets 10\ntx_bytes 1000\n"));
    ck_assert(stats_has(0, "rx_packets 7\nrx_bytes 1400\n"));
}
END_TEST

START_TEST(sigkill_and_restart)
{
    connect_vif(1, false);
    guest_to_host(&N, pkt_fd, 0, 100, 1, 1);
    close(pkt_fd);
    pkt_fd = -1;
    th_stop(&nb_pid, SIGKILL);
    start_netback();
    /* the new instance finds a frontend connected to rings it never saw */
    ck_assert_msg(ff_wait_backend(&N.ff, 6, WAIT_MS), "Closed: %s", ff_error());
    ck_assert_msg(nf_reconnect(&N, 20), "reconnect: %s", nf_error());
    pkt_fd = open_packet(VIF);
    guest_to_host(&N, pkt_fd, 0, 100, 1, 2);
    host_to_guest(&N, pkt_fd, 0, 100, 3);
}
END_TEST

START_TEST(sigterm_removes_the_tap)
{
    int st;

    connect_vif(1, false);
    close(pkt_fd);
    pkt_fd = -1;
    st = th_stop(&nb_pid, SIGTERM);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    expect_key(&N, "state", "6");
    ck_assert_int_eq(if_nametoindex(VIF), 0);
    ck_assert_ptr_null(stats_of(0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netback_e2e");
    TCase *tc = tcase_create("daemon");
    const char *why = test_netns_probe();
    SRunner *sr;
    int failed;

    if (why) {
        printf("SKIP: netback_e2e: %s\n", why);
        return 77;
    }

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, features_and_handshake);
    tcase_add_test(tc, frames_guest_to_host);
    tcase_add_test(tc, frames_host_to_guest);
    tcase_add_test(tc, checksum_offload_reaches_the_kernel);
    tcase_add_test(tc, gso_reaches_the_kernel);
    tcase_add_test(tc, nonfatal_requests_are_answered_error);
    tcase_add_test(tc, fatal_requests_disable_only_their_vif);
    tcase_add_test(tc, split_events_two_queues);
    tcase_add_test(tc, bad_frontend_keys);
    tcase_add_test(tc, counters);
    tcase_add_test(tc, sigkill_and_restart);
    tcase_add_test(tc, sigterm_removes_the_tap);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* tandem-blkback end to end: the real daemon ($TANDEM_BIN/tandem-blkback)
 * against a real xenstored (both started in a temporary directory and
 * stopped by pid), the fake VMM control socket of the dom0 library tests,
 * and a fake blkfront (blkback_fakefront.c) playing domain 3 with a real
 * backing file. Checks the handshake and published keys, data against
 * the file for read/write/flush/barrier/discard/indirect, multi-queue
 * multi-page rings, hostile requests mixed with good ones on one ring, a
 * read-only device, backend close on SIGTERM, and SIGKILL + restart with
 * the frontend resubmitting what was in flight. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blkback_fakefront.h"
#include "daemon_harness.h"

#define DISK_SECTORS 8192u          /* 4 MiB backing file */
#define WAIT_MS 5000

static char dir[64], sock[128], disk[128], rodisk[128];
static pid_t xsd_pid, blk_pid;
static struct fake_vmm *vmm;
static struct xs_handle *xs;
static int disk_fd;
static struct ff F;

/* ---- processes (tests/unit/daemon_harness.c) ---- */

static long now_ms(void) { return th_now_ms(); }

static void start_xenstored(void)
{
    xsd_pid = th_start_xenstored(dir, sock, WAIT_MS);
}

static void start_blkback(void)
{
    char exe[256];
    /* BLKBACK_TEST_NO_DIRECT=1: measure the buffered path (docs/blkback.md). */
    char *argv[] = { exe, getenv("BLKBACK_TEST_NO_DIRECT") ? "--no-direct" : NULL, NULL };

    snprintf(exe, sizeof(exe), "%s/tandem-blkback", th_bin_dir());
    setenv("TANDEM_RUNDIR", fake_vmm_run_dir(vmm), 1);
    blk_pid = th_spawn(dir, "blkback.log", argv);
}

/* Stops a child by pid; returns its wait status. */
static int stop(pid_t *pid, int sig) { return th_stop(pid, sig); }

static void cleanup(void)
{
    char path[160];

    stop(&blk_pid, SIGKILL);
    if (xs)
        xs_close(xs);
    xs = NULL;
    stop(&xsd_pid, SIGTERM);
    if (vmm)
        fake_vmm_stop(vmm);
    vmm = NULL;
    if (disk_fd > 0)
        close(disk_fd);
    disk_fd = 0;
    if (!dir[0])
        return;
    unlink(disk);
    unlink(rodisk);
    unlink(sock);
    snprintf(path, sizeof(path), "%s/xenstored.log", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/blkback.log", dir);
    if (getenv("BLKBACK_TEST_LOG"))                 /* keep the daemon's log on request */
        fprintf(stderr, "blkback log kept: %s\n", path);
    else
        unlink(path);
    rmdir(dir);
    dir[0] = '\0';
}

/* Byte o of the initial disk image. */
static uint8_t pattern(uint64_t o)
{
    return (uint8_t)(o * 7 + (o >> 9) * 13 + 1);
}

static void make_disk(const char *path)
{
    static uint8_t buf[DISK_SECTORS * 512];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    ck_assert_int_ge(fd, 0);
    for (uint64_t o = 0; o < sizeof(buf); o++)
        buf[o] = pattern(o);
    ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
    close(fd);
}

static void setup(void)
{
    struct fake_vmm_config cfg = { .domid = 3, .nr_grant_frames = 4 };

    atexit(cleanup);                /* a failed check exits the test process */
    snprintf(dir, sizeof(dir), "/tmp/tandem-blkback.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/xs.sock", dir);
    snprintf(disk, sizeof(disk), "%s/disk.img", dir);
    snprintf(rodisk, sizeof(rodisk), "%s/ro.img", dir);
    make_disk(disk);
    make_disk(rodisk);
    disk_fd = open(disk, O_RDWR);
    start_xenstored();
    xs = xs_open(0);
    ck_assert_ptr_nonnull(xs);
    vmm = fake_vmm_start(&cfg);
    start_blkback();
}

/* A graceful stop must work after every test: exit 0 (under ASan this
 * also means no leak and no error at exit). */
static void teardown(void)
{
    int st = blk_pid > 0 ? stop(&blk_pid, SIGTERM) : 0;

    cleanup();
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "tandem-blkback stopped with status 0x%x", st);
}

/* ---- request helpers ---- */

struct seg { unsigned frame; uint32_t ref; uint8_t first, last; };

/* A read/write/flush/barrier with `n` whole-page segments on fresh pages. */
static struct blkif_request rw_req(uint8_t op, uint64_t id, uint64_t sector, unsigned n,
                                   struct seg *segs, bool readonly_grant)
{
    struct blkif_request r = { .operation = op, .nr_segments = (uint8_t)n, .id = id,
                               .sector_number = sector };

    for (unsigned i = 0; i < n && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        segs[i].frame = ff_page(&F);
        segs[i].ref = ff_grant(&F, segs[i].frame, readonly_grant);
        segs[i].first = 0;
        segs[i].last = 7;
        r.seg[i] = (struct blkif_request_segment){ segs[i].ref, 0, 7 };
    }
    return r;
}

static void fill(unsigned frame, uint8_t seed)
{
    uint8_t *p = ff_addr(&F, frame);

    for (unsigned i = 0; i < 4096; i++)
        p[i] = (uint8_t)(seed * 31 + i * 3);
}

static bool page_is(unsigned frame, uint8_t seed)
{
    uint8_t *p = ff_addr(&F, frame);

    for (unsigned i = 0; i < 4096; i++)
        if (p[i] != (uint8_t)(seed * 31 + i * 3))
            return false;
    return true;
}

static bool file_has(uint64_t sector, unsigned frame, uint8_t seed)
{
    uint8_t buf[4096];

    (void)frame;
    if (pread(disk_fd, buf, sizeof(buf), (off_t)(sector * 512)) != sizeof(buf))
        return false;
    for (unsigned i = 0; i < 4096; i++)
        if (buf[i] != (uint8_t)(seed * 31 + i * 3))
            return false;
    return true;
}

static bool page_matches_disk(unsigned frame, uint64_t sector)
{
    uint8_t *p = ff_addr(&F, frame);

    for (unsigned i = 0; i < 4096; i++)
        if (p[i] != pattern(sector * 512 + i))
            return false;
    return true;
}

static void submit(unsigned q, const void *req, size_t len)
{
    ff_put(&F, q, req, len);
    ff_push(&F, q);
}

static struct blkif_response one_response(unsigned q)
{
    struct blkif_response rsp = { 0 };

    ck_assert_msg(ff_collect(&F, q, &rsp, 1, WAIT_MS) == 1, "%s", ff_error());
    return rsp;
}

static void connect_dev(unsigned devid, const char *path, const char *mode, unsigned nq,
                        unsigned order, unsigned port)
{
    ck_assert(ff_create(&F, vmm, xs, devid, path, mode));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "InitWait: %s", ff_error());
    ck_assert_msg(ff_connect(&F, nq, order, port), "connect: %s", ff_error());
}

static void expect_present(const char *key)
{
    char *v = ff_backend_key(&F, key);

    ck_assert_msg(v != NULL && v[0], "backend key %s missing", key);
    free(v);
}

static void expect_key(const char *key, const char *want)
{
    char *v = ff_backend_key(&F, key);

    ck_assert_msg(v != NULL, "backend key %s missing", key);
    ck_assert_str_eq(v, want);
    free(v);
}

/* A one-page read of `sector` on queue 0: answered OK, the disk's bytes. */
static void expect_read_ok(uint64_t id, uint64_t sector)
{
    struct seg s[1];
    struct blkif_request r = rw_req(BLKIF_OP_READ, id, sector, 1, s, false);

    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    ck_assert(page_matches_disk(s[0].frame, sector));
}

/* Until the daemon has let go of f's first ring (its grant can be ended). */
static void wait_ring_released(struct ff *f, const char *what)
{
    for (long deadline = now_ms() + WAIT_MS; !ff_end_access(f, f->q[0].ring_refs[0]);) {
        struct pollfd none;

        ck_assert_msg(now_ms() < deadline, "%s: the ring is still mapped", what);
        poll(&none, 0, 1);          /* interval between attempts */
    }
}

/* ---- tests ---- */

START_TEST(handshake_and_keys)
{
    struct blkif_request r;
    struct seg s[1];
    struct blkif_response rsp;
    char sectors[32];

    ck_assert(ff_create(&F, vmm, xs, 1, disk, "w"));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "InitWait: %s", ff_error());
    snprintf(sectors, sizeof(sectors), "%u", DISK_SECTORS);
    expect_key("sectors", sectors);
    expect_key("sector-size", "512");
    expect_key("info", "0");
    expect_key("feature-flush-cache", "1");
    expect_key("feature-barrier", "1");
    expect_key("feature-discard", "1");
    expect_key("discard-alignment", "0");
    expect_key("feature-persistent", "1");
    expect_key("feature-max-indirect-segments", "256");
    expect_key("multi-queue-max-queues", "4");
    expect_key("max-ring-page-order", "4");
    expect_present("physical-sector-size");
    expect_present("discard-granularity");
    ck_assert_msg(ff_connect(&F, 1, 0, 10), "connect: %s", ff_error());

    r = rw_req(BLKIF_OP_READ, 1, 40, 1, s, false);
    submit(0, &r, sizeof(r));
    rsp = one_response(0);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert(page_matches_disk(s[0].frame, 40));
    ck_assert(ff_end_access(&F, s[0].ref));          /* unmapped before the response */

    /* Frontend closes, the ring's grant is released; then reconnects. */
    ck_assert_msg(ff_close(&F), "close: %s", ff_error());
    ck_assert(ff_end_access(&F, F.q[0].ring_refs[0]));
    ck_assert(ff_set_state(&F, 1));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "InitWait again: %s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 11), "reconnect: %s", ff_error());
    r = rw_req(BLKIF_OP_READ, 2, 80, 1, s, false);
    submit(0, &r, sizeof(r));
    rsp = one_response(0);
    ck_assert_uint_eq(rsp.id, 2);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert(page_matches_disk(s[0].frame, 80));
}
END_TEST

START_TEST(data_paths)
{
    struct seg s[11];
    struct blkif_request r;
    struct blkif_response rsp;
    struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 5,
                                       .sector_number = 1024, .nr_sectors = 64 };
    uint8_t buf[64 * 512];

    connect_dev(1, disk, "w", 1, 0, 10);
    /* write 11 pages, check the file */
    r = rw_req(BLKIF_OP_WRITE, 1, 200, 11, s, true);
    for (unsigned i = 0; i < 11; i++)
        fill(s[i].frame, (uint8_t)(i + 1));
    submit(0, &r, sizeof(r));
    rsp = one_response(0);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert_uint_eq(rsp.operation, BLKIF_OP_WRITE);
    for (unsigned i = 0; i < 11; i++) {
        ck_assert_msg(file_has(200 + 8 * i, s[i].frame, (uint8_t)(i + 1)), "page %u", i);
        ck_assert(ff_end_access(&F, s[i].ref));
    }
    /* read them back into fresh pages */
    r = rw_req(BLKIF_OP_READ, 2, 200, 11, s, false);
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 11; i++)
        ck_assert(page_is(s[i].frame, (uint8_t)(i + 1)));
    /* a partial segment: sectors 2..5 of a page */
    r = rw_req(BLKIF_OP_READ, 3, 3000, 1, s, false);
    r.seg[0].first_sect = 2;
    r.seg[0].last_sect = 5;
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 4096; i++) {
        uint8_t want = i >= 1024 && i < 3072 ? pattern(3000 * 512 + i - 1024) : 0;

        ck_assert_uint_eq(ff_addr(&F, s[0].frame)[i], want);
    }
    /* flush alone, flush with data, barrier with data */
    r = rw_req(BLKIF_OP_FLUSH_DISKCACHE, 4, 0, 0, s, true);
    submit(0, &r, sizeof(r));
    rsp = one_response(0);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert_uint_eq(rsp.operation, BLKIF_OP_FLUSH_DISKCACHE);
    r = rw_req(BLKIF_OP_FLUSH_DISKCACHE, 6, 4000, 2, s, true);
    fill(s[0].frame, 40);
    fill(s[1].frame, 41);
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    ck_assert(file_has(4000, 0, 40) && file_has(4008, 0, 41));
    r = rw_req(BLKIF_OP_WRITE_BARRIER, 7, 5000, 1, s, true);
    fill(s[0].frame, 50);
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    ck_assert(file_has(5000, 0, 50));
    /* discard: the range reads back as zeroes */
    submit(0, &d, sizeof(d));
    rsp = one_response(0);
    ck_assert_uint_eq(rsp.id, 5);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert_int_eq(pread(disk_fd, buf, sizeof(buf), 1024 * 512), (ssize_t)sizeof(buf));
    for (unsigned i = 0; i < sizeof(buf); i++)
        ck_assert_uint_eq(buf[i], 0);
    ck_assert_int_eq(pread(disk_fd, buf, 512, 1088 * 512), 512);
    ck_assert_uint_eq(buf[0], pattern(1088 * 512));  /* not beyond the range */
}
END_TEST

/* 256 segments through one indirect page: write, then read back. */
START_TEST(indirect_requests)
{
    struct blkif_request_indirect ind = { .operation = BLKIF_OP_INDIRECT,
                                          .indirect_op = BLKIF_OP_WRITE, .nr_segments = 64,
                                          .id = 77, .sector_number = 2048 };
    struct blkif_request_segment *list;
    unsigned frames[64], ipage;
    struct blkif_response rsp;

    connect_dev(1, disk, "w", 1, 0, 10);
    ipage = ff_page(&F);
    list = (struct blkif_request_segment *)ff_addr(&F, ipage);
    for (unsigned i = 0; i < 64; i++) {
        frames[i] = ff_page(&F);
        fill(frames[i], (uint8_t)(100 + i));
        list[i] = (struct blkif_request_segment){ ff_grant(&F, frames[i], true), 0, 7 };
    }
    ind.indirect_grefs[0] = ff_grant(&F, ipage, true);
    submit(0, &ind, sizeof(ind));
    rsp = one_response(0);
    ck_assert_uint_eq(rsp.id, 77);
    ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
    ck_assert_uint_eq(rsp.operation, BLKIF_OP_WRITE);
    for (unsigned i = 0; i < 64; i++)
        ck_assert_msg(file_has(2048 + 8 * i, 0, (uint8_t)(100 + i)), "page %u", i);
    ck_assert(ff_end_access(&F, ind.indirect_grefs[0]));
    /* read back */
    for (unsigned i = 0; i < 64; i++) {
        frames[i] = ff_page(&F);
        list[i].gref = ff_grant(&F, frames[i], false);
    }
    ind.indirect_op = BLKIF_OP_READ;
    ind.id = 78;
    ind.indirect_grefs[0] = ff_grant(&F, ipage, true);
    submit(0, &ind, sizeof(ind));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 64; i++)
        ck_assert(page_is(frames[i], (uint8_t)(100 + i)));
    /* a bad segment inside the indirect page */
    list[10].last_sect = 9;
    ind.id = 79;
    ind.indirect_grefs[0] = ff_grant(&F, ipage, true);
    submit(0, &ind, sizeof(ind));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_ERROR);
}
END_TEST

/* WRITE_BARRIER drains: in one batch of 20 writes, a barrier, 10
 * writes, the barrier is answered after all 20 earlier writes and before
 * any of the 10 later ones (responses are published in completion order). */
START_TEST(barrier_orders)
{
    struct blkif_request r;
    struct blkif_response rsp[31];
    struct seg s[2];
    int pos[31];

    connect_dev(1, disk, "w", 1, 0, 10);
    for (unsigned i = 0; i < 31; i++) {
        r = rw_req(i == 20 ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE, i, 64 * i, 2, s, true);
        fill(s[0].frame, (uint8_t)i);
        fill(s[1].frame, (uint8_t)(i + 100));
        ff_put(&F, 0, &r, sizeof(r));
    }
    ff_push(&F, 0);
    ck_assert_msg(ff_collect(&F, 0, rsp, 31, WAIT_MS) == 31, "%s", ff_error());
    for (unsigned k = 0; k < 31; k++) {
        ck_assert_int_eq(rsp[k].status, BLKIF_RSP_OKAY);
        pos[rsp[k].id] = (int)k;
    }
    for (unsigned i = 0; i < 20; i++)
        ck_assert_msg(pos[i] < pos[20], "write %u answered after the barrier", i);
    for (unsigned i = 21; i < 31; i++)
        ck_assert_msg(pos[i] > pos[20], "write %u answered before the barrier", i);
    for (unsigned i = 0; i < 31; i++)
        ck_assert(file_has(64 * i, 0, (uint8_t)i) && file_has(64 * i + 8, 0, (uint8_t)(i + 100)));
}
END_TEST

/* Two queues with 4-page rings (128 slots each). */
START_TEST(multi_queue_multi_page)
{
    struct seg s[1];
    struct blkif_request r;
    struct blkif_response rsp[100];

    connect_dev(1, disk, "w", 2, 2, 10);
    ck_assert_uint_eq(RING_SIZE(&F.q[0].ring), 128);
    for (unsigned q = 0; q < 2; q++) {
        unsigned frames[100];

        for (unsigned i = 0; i < 100; i++) {
            r = rw_req(BLKIF_OP_READ, i, 8 * i + q * 800, 1, s, false);
            frames[i] = s[0].frame;
            ff_put(&F, q, &r, sizeof(r));
        }
        ff_push(&F, q);
        ck_assert_msg(ff_collect(&F, q, rsp, 100, WAIT_MS) == 100, "%s", ff_error());
        for (unsigned i = 0; i < 100; i++) {
            ck_assert_int_eq(rsp[i].status, BLKIF_RSP_OKAY);
            ck_assert(page_matches_disk(frames[rsp[i].id], 8 * rsp[i].id + q * 800));
        }
    }
}
END_TEST

/* Every hostile case on one ring, between well-formed requests that
 * must still complete with the right data; the daemon stays up. */
START_TEST(hostile_requests)
{
    enum { GOOD = 0, ERR = 1, NOSUP = 2 };
    struct { struct blkif_request r; int expect; unsigned frame; uint64_t sector; } c[16];
    struct blkif_response rsp[16];
    struct seg s[11];
    unsigned n = 0;

    connect_dev(1, disk, "w", 1, 0, 10);
#define ADD(req, exp) do { c[n].r = (req); c[n].r.id = n; c[n].expect = (exp); \
                           c[n].frame = s[0].frame; c[n].sector = c[n].r.sector_number; n++; } while (0)
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, false), GOOD);
    ADD(rw_req(BLKIF_OP_RESERVED_1, 0, 8, 1, s, false), NOSUP);
    ADD(rw_req(77, 0, 8, 1, s, false), NOSUP);
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 0, s, false), ERR);                 /* 0 segments */
    ADD(rw_req(BLKIF_OP_WRITE, 0, 8, 11, s, true), ERR);                /* 12 segments */
    c[n - 1].r.nr_segments = 12;
    ADD(rw_req(BLKIF_OP_READ, 0, 16, 1, s, false), GOOD);
    ADD(rw_req(BLKIF_OP_READ, 0, DISK_SECTORS - 4, 1, s, false), ERR);  /* past the end */
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, false), ERR);                 /* never granted */
    c[n - 1].r.seg[0].gref = ff_ungranted_ref(&F);
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, false), ERR);                 /* beyond the table */
    c[n - 1].r.seg[0].gref = 1u << 30;
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, true), ERR);                  /* read into r/o grant */
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, false), ERR);                 /* first > last */
    c[n - 1].r.seg[0].first_sect = 6;
    c[n - 1].r.seg[0].last_sect = 2;
    ADD(rw_req(BLKIF_OP_READ, 0, 8, 1, s, false), ERR);                 /* last > 7 */
    c[n - 1].r.seg[0].last_sect = 8;
    ADD(rw_req(BLKIF_OP_READ, 0, 24, 1, s, false), GOOD);
#undef ADD
    for (unsigned i = 0; i < n; i++)
        ff_put(&F, 0, &c[i].r, sizeof(c[i].r));
    ff_push(&F, 0);
    ck_assert_msg(ff_collect(&F, 0, rsp, n, WAIT_MS) == n, "%s", ff_error());
    for (unsigned i = 0; i < n; i++) {
        unsigned id = (unsigned)rsp[i].id;
        int want = c[id].expect == GOOD ? BLKIF_RSP_OKAY
                 : c[id].expect == ERR ? BLKIF_RSP_ERROR : BLKIF_RSP_EOPNOTSUPP;

        ck_assert_uint_lt(id, n);
        ck_assert_msg(rsp[i].status == want, "request %u: status %d, want %d", id,
                      rsp[i].status, want);
        if (c[id].expect == GOOD)
            ck_assert(page_matches_disk(c[id].frame, c[id].sector));
    }
    /* the read-only grant was not written and is released */
    ck_assert_uint_eq(ff_addr(&F, c[9].frame)[0], 0);
    ck_assert(ff_end_access(&F, c[9].r.seg[0].gref));
    ck_assert_int_eq(kill(blk_pid, 0), 0);
    expect_key("state", "4");
}
END_TEST

START_TEST(read_only_device)
{
    struct seg s[1];
    struct blkif_request r;
    struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 3,
                                       .sector_number = 0, .nr_sectors = 8 };
    struct blkif_response rsp;
    int fd = open(rodisk, O_RDONLY);
    uint8_t b;

    connect_dev(2, rodisk, "r", 1, 0, 20);
    expect_key("info", "4");
    expect_key("feature-discard", "0");
    r = rw_req(BLKIF_OP_WRITE, 1, 0, 1, s, true);
    fill(s[0].frame, 9);
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_ERROR);
    submit(0, &d, sizeof(d));
    rsp = one_response(0);
    ck_assert_int_ne(rsp.status, BLKIF_RSP_OKAY);
    expect_read_ok(2, 0);
    ck_assert_int_eq(pread(fd, &b, 1, 0), 1);
    ck_assert_uint_eq(b, pattern(0));               /* the file is untouched */
    close(fd);
}
END_TEST

START_TEST(bad_frontend_protocol)
{
    char *err;

    ck_assert(ff_create(&F, vmm, xs, 1, disk, "w"));
    ck_assert(ff_wait_backend(&F, 2, WAIT_MS));
    F.protocol = "x86_32-abi";      /* 32-bit layouts are not implemented */
    ck_assert(ff_publish(&F, 1, 0, 10));
    ck_assert_msg(ff_wait_backend(&F, 6, WAIT_MS), "%s", ff_error());
    err = ff_backend_key(&F, "error");
    ck_assert_msg(err && strstr(err, "protocol"), "error node: %s", err ? err : "(none)");
    free(err);
    ck_assert_int_eq(kill(blk_pid, 0), 0);
}
END_TEST

/* A device whose backing file cannot be opened gets an `error` node and
 * Closing; the daemon lives and serves the next device. */
START_TEST(bad_backing_file)
{
    char missing[160], *err;

    snprintf(missing, sizeof(missing), "%s/missing.img", dir);
    ck_assert(ff_create(&F, vmm, xs, 1, missing, "w"));
    ck_assert_msg(ff_wait_backend(&F, 5, WAIT_MS), "%s", ff_error());
    err = ff_backend_key(&F, "error");
    ck_assert_msg(err && strstr(err, "missing.img") && strstr(err, "No such file"), "error: %s",
                  err ? err : "(none)");
    free(err);
    ck_assert(ff_create(&F, vmm, xs, 2, disk, "x"));
    ck_assert_msg(ff_wait_backend(&F, 5, WAIT_MS), "%s", ff_error());
    err = ff_backend_key(&F, "error");
    ck_assert_msg(err && strstr(err, "mode"), "error: %s", err ? err : "(none)");
    free(err);
    connect_dev(3, disk, "w", 1, 0, 10);
    ck_assert_int_eq(kill(blk_pid, 0), 0);
}
END_TEST

/* Frontend keys that must be refused: each gets an `error` node naming
 * the key and the backend Closed; after a reset the next try works. */
START_TEST(hostile_frontend_keys)
{
    static const struct { const char *key, *value, *want; } bad[] = {
        { "ring-ref", "abc", "ring-ref" },
        { "ring-ref", "4294967296", "ring-ref" },
        { "event-channel", "0x5", "event-channel" },
        { "event-channel", "4096", "event-channel" },
        { "multi-queue-num-queues", "17", "multi-queue-num-queues" },
        { "multi-queue-num-queues", "0", "multi-queue-num-queues" },
        { "ring-page-order", "5", "ring-page-order" },
        { "feature-persistent", "2", "feature-persistent" },
    };
    char path[160], *err;

    ck_assert(ff_create(&F, vmm, xs, 1, disk, "w"));
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xs_transaction_t t;

        ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "case %u: %s", i, ff_error());
        t = xs_transaction_start(xs);
        snprintf(path, sizeof(path), "%s/ring-ref", F.fe);
        ck_assert(xs_write(xs, t, path, "100", 3));
        snprintf(path, sizeof(path), "%s/event-channel", F.fe);
        ck_assert(xs_write(xs, t, path, "9", 1));
        snprintf(path, sizeof(path), "%s/%s", F.fe, bad[i].key);
        ck_assert(xs_write(xs, t, path, bad[i].value, (unsigned)strlen(bad[i].value)));
        snprintf(path, sizeof(path), "%s/state", F.fe);
        ck_assert(xs_write(xs, t, path, "3", 1));
        ck_assert(xs_transaction_end(xs, t, false));
        ck_assert_msg(ff_wait_backend(&F, 6, WAIT_MS), "case %u: %s", i, ff_error());
        err = ff_backend_key(&F, "error");
        ck_assert_msg(err && strstr(err, bad[i].want), "case %u: error node: %s", i,
                      err ? err : "(none)");
        free(err);
        snprintf(path, sizeof(path), "%s/%s", F.fe, bad[i].key);
        ck_assert(xs_rm(xs, XBT_NULL, path));
        ck_assert(ff_set_state(&F, 1));
    }
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 10), "%s", ff_error());
    ck_assert_int_eq(kill(blk_pid, 0), 0);
}
END_TEST

/* A producer index 40 ahead of a 32-slot ring: the queue stops taking
 * requests (nothing is answered from the bogus window), the daemon stays
 * up, and a close + reconnect gives a working ring again. */
START_TEST(hostile_ring_index)
{
    const uint64_t one = 1;
    struct blkif_response rsp;

    connect_dev(1, disk, "w", 1, 0, 10);
    F.q[0].ring.sring->req_prod = F.q[0].ring.req_prod_pvt + 40;
    ck_assert_int_eq(write(fake_vmm_kick_fd(vmm, F.q[0].port), &one, sizeof(one)), 8);
    ck_assert_uint_eq(ff_collect(&F, 0, &rsp, 1, 200), 0);
    ck_assert_int_eq(kill(blk_pid, 0), 0);
    ck_assert_msg(ff_close(&F), "%s", ff_error());
    ck_assert(ff_end_access(&F, F.q[0].ring_refs[0]));
    ck_assert(ff_set_state(&F, 1));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 11), "%s", ff_error());
    expect_read_ok(1, 8);
}
END_TEST

/* SIGTERM: the daemon completes what it took, the backend goes Closed;
 * a new daemon and the frontend's reset connect again. */
START_TEST(backend_close_on_sigterm)
{
    int st;

    connect_dev(1, disk, "w", 1, 0, 10);
    st = stop(&blk_pid, SIGTERM);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    expect_key("state", "6");
    ck_assert(ff_end_access(&F, F.q[0].ring_refs[0]));
    start_blkback();
    ck_assert(ff_set_state(&F, 1));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 11), "%s", ff_error());
    expect_read_ok(1, 64);
}
END_TEST

/* Waits until the backend armed req_event for the next request, i.e. it
 * found the ring empty and is about to sleep until kicked. */
static bool backend_sleeping(unsigned q)
{
    blkif_front_ring_t *r = &F.q[q].ring;
    long deadline = now_ms() + WAIT_MS;

    while (__atomic_load_n(&r->sring->req_event, __ATOMIC_ACQUIRE) != r->req_prod_pvt + 1) {
        struct pollfd none;

        if (now_ms() > deadline)
            return false;
        poll(&none, 0, 1);          /* interval between looks at the ring */
    }
    return true;
}

/* SIGKILL with writes outstanding: every acknowledged write is in the
 * file; the restarted daemon makes the frontend reset; the frontend
 * resubmits what was not acknowledged, and then all writes are in the
 * file. The second half of the writes is published while the backend
 * sleeps and not kicked (the kill comes first), so it is surely still
 * outstanding; the first half may be anywhere in between. */
START_TEST(sigkill_and_resubmit)
{
    enum { N = 32 };
    struct blkif_request reqs[N];
    unsigned frames[N][4];
    bool acked[N] = { false };
    struct blkif_response rsp[N];
    struct seg s[4];
    unsigned got, again = 0;

    connect_dev(1, disk, "w", 1, 0, 10);
    for (unsigned i = 0; i < N; i++) {
        reqs[i] = rw_req(BLKIF_OP_WRITE, i, 16 + 32 * i, 4, s, true);
        for (unsigned k = 0; k < 4; k++) {
            frames[i][k] = s[k].frame;
            fill(s[k].frame, (uint8_t)(i * 4 + k + 1));
        }
    }
    for (unsigned i = 0; i < N / 2; i++)
        ff_put(&F, 0, &reqs[i], sizeof(reqs[i]));
    ff_push(&F, 0);
    got = ff_collect(&F, 0, rsp, 2, WAIT_MS);
    ck_assert_uint_eq(got, 2);
    for (unsigned k = 0; k < got; k++)
        acked[rsp[k].id] = true;
    ck_assert_msg(backend_sleeping(0), "backend never armed req_event");
    for (unsigned i = N / 2; i < N; i++)
        ff_put(&F, 0, &reqs[i], sizeof(reqs[i]));
    RING_PUSH_REQUESTS(&F.q[0].ring);                /* published, no kick */
    stop(&blk_pid, SIGKILL);
    got = ff_collect(&F, 0, rsp, N, 0);              /* whatever else was answered */
    for (unsigned k = 0; k < got; k++) {
        ck_assert_int_eq(rsp[k].status, BLKIF_RSP_OKAY);
        acked[rsp[k].id] = true;
    }
    for (unsigned i = 0; i < N; i++)
        for (unsigned k = 0; acked[i] && k < 4; k++)
            ck_assert_msg(file_has(16 + 32 * i + 8 * k, 0, (uint8_t)(i * 4 + k + 1)),
                          "acknowledged write %u lost", i);

    start_blkback();                 /* finds the old ring: makes the frontend reset */
    ck_assert_msg(ff_wait_backend(&F, 6, WAIT_MS), "%s", ff_error());
    ck_assert(ff_set_state(&F, 1));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 11), "%s", ff_error());  /* fresh ring, new port */
    for (unsigned i = 0; i < N; i++) {
        if (acked[i])
            continue;
        for (unsigned k = 0; k < 4; k++)                 /* the old grants may still be marked */
            reqs[i].seg[k].gref = ff_grant(&F, frames[i][k], true);
        ff_put(&F, 0, &reqs[i], sizeof(reqs[i]));
        again++;
    }
    ck_assert_uint_ge(again, N / 2);
    ff_push(&F, 0);
    ck_assert_msg(ff_collect(&F, 0, rsp, again, WAIT_MS) == again, "%s", ff_error());
    for (unsigned k = 0; k < again; k++)
        ck_assert_int_eq(rsp[k].status, BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < N; i++)
        for (unsigned k = 0; k < 4; k++)
            ck_assert_msg(file_has(16 + 32 * i + 8 * k, 0, (uint8_t)(i * 4 + k + 1)),
                          "write %u lost after resubmission", i);
}
END_TEST

/* feature-persistent: the same four grants serve many requests; they
 * stay mapped while connected and are released at disconnect. A
 * read-only grant cannot become persistent but still serves a write. */
START_TEST(persistent_grants)
{
    unsigned frames[4], ro_frame;
    uint32_t refs[4], ro_ref;
    struct blkif_response rsp;

    ck_assert(ff_create(&F, vmm, xs, 1, disk, "w"));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    F.persistent = true;
    ck_assert_msg(ff_connect(&F, 1, 0, 10), "%s", ff_error());
    for (unsigned k = 0; k < 4; k++) {
        frames[k] = ff_page(&F);
        refs[k] = ff_grant(&F, frames[k], false);
    }
    for (unsigned round = 0; round < 50; round++) {
        struct blkif_request r = { .operation = round % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE,
                                   .nr_segments = 4, .id = round,
                                   .sector_number = 8 * 4 * (round / 2) };

        for (unsigned k = 0; k < 4; k++) {
            r.seg[k] = (struct blkif_request_segment){ refs[k], 0, 7 };
            if (!(round % 2))
                fill(frames[k], (uint8_t)(round + k));
            else
                memset(ff_addr(&F, frames[k]), 0, 4096);
        }
        submit(0, &r, sizeof(r));
        rsp = one_response(0);
        ck_assert_uint_eq(rsp.id, round);
        ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
        for (unsigned k = 0; k < 4; k++)
            ck_assert(round % 2 ? page_is(frames[k], (uint8_t)(round - 1 + k))
                                : file_has(r.sector_number + 8 * k, 0, (uint8_t)(round + k)));
    }
    ck_assert(!ff_end_access(&F, refs[0]));          /* kept mapped: persistent */
    ro_frame = ff_page(&F);
    ro_ref = ff_grant(&F, ro_frame, true);
    fill(ro_frame, 200);
    {
        struct blkif_request w = { .operation = BLKIF_OP_WRITE, .nr_segments = 1, .id = 99,
                                   .sector_number = 6000 };

        w.seg[0] = (struct blkif_request_segment){ ro_ref, 0, 7 };
        submit(0, &w, sizeof(w));
        ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
        ck_assert(file_has(6000, 0, 200));
        ck_assert(ff_end_access(&F, ro_ref));        /* mapped for that request only */
    }
    ck_assert_msg(ff_close(&F), "%s", ff_error());
    for (unsigned k = 0; k < 4; k++)
        ck_assert(ff_end_access(&F, refs[k]));
}
END_TEST

/* Backend-initiated close: the toolstack writes online=0; the backend
 * completes what is in flight, releases the ring and goes Closing; the
 * frontend closes; online=1 and a frontend reset bring it back. */
START_TEST(backend_initiated_close)
{
    char path[160];
    struct seg s[1];
    struct blkif_request r;

    connect_dev(1, disk, "w", 1, 0, 10);
    snprintf(path, sizeof(path), "%s/online", F.be);
    ck_assert(xs_write(xs, XBT_NULL, path, "0", 1));
    ck_assert_msg(ff_wait_backend(&F, 5, WAIT_MS), "%s", ff_error());
    ck_assert(ff_end_access(&F, F.q[0].ring_refs[0]));
    ck_assert_msg(ff_close(&F), "%s", ff_error());
    ck_assert(ff_set_state(&F, 1));
    ck_assert_msg(ff_wait_backend(&F, 6, WAIT_MS), "%s", ff_error());
    ck_assert(xs_write(xs, XBT_NULL, path, "1", 1));
    ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "%s", ff_error());
    ck_assert_msg(ff_connect(&F, 1, 0, 11), "%s", ff_error());
    r = rw_req(BLKIF_OP_READ, 1, 8, 1, s, false);
    submit(0, &r, sizeof(r));
    ck_assert_int_eq(one_response(0).status, BLKIF_RSP_OKAY);
}
END_TEST

/* The toolstack removes the backend directory: the daemon disconnects
 * (the ring's grant is released) and keeps serving other devices. */
START_TEST(device_removed)
{
    struct ff other;

    connect_dev(1, disk, "w", 1, 0, 10);
    other = F;
    connect_dev(2, rodisk, "r", 1, 0, 20);
    ck_assert(xs_rm(xs, XBT_NULL, other.be));
    wait_ring_released(&other, "the removed device");
    expect_read_ok(1, 0);
}
END_TEST

/* A domain restarted at the same domid: the VMM and the toolstack remove
 * its directories (separate requests, as tandem's supervisor does) and
 * the toolstack writes them again at once, the same paths. The daemon
 * must serve a new device there: probed again (its keys in the new
 * directory when it offers InitWait), never the old one's state written
 * into the new directory (pv_restart 2026-12-04: the old device's InitWait,
 * decided while the directory was gone, landed in the new one; the
 * rebooted guest's blkfront then found no 'sectors'). Many rounds, since
 * the window is between two of the daemon's requests. */
/* ff_create watches the backend's state (token "ff"); one watch per path. */
static void unwatch_ff(const struct ff *f)
{
    char path[160];

    snprintf(path, sizeof(path), "%s/state", f->be);
    xs_unwatch(xs, path, "ff");
}

START_TEST(device_recreated)
{
    char sectors[32];

    snprintf(sectors, sizeof(sectors), "%u", DISK_SECTORS);
    for (unsigned round = 0; round < 40; round++) {
        struct ff old;
        char what[32];
        char *v;

        connect_dev(1, disk, "w", 1, 0, 10 + (round % 2));
        old = F;
        ck_assert(xs_rm(xs, XBT_NULL, old.fe));
        ck_assert(xs_rm(xs, XBT_NULL, old.be));
        unwatch_ff(&old);
        if (round % 4 == 3) {           /* now and then the daemon sees the gap */
            struct pollfd none;

            poll(&none, 0, 2);
        }
        ck_assert_msg(ff_create(&F, vmm, xs, 1, disk, "w"), "round %u: %s", round, ff_error());
        ck_assert_msg(ff_wait_backend(&F, 2, WAIT_MS), "round %u: InitWait: %s", round, ff_error());
        v = ff_backend_key(&F, "sectors");
        ck_assert_msg(v != NULL && !strcmp(v, sectors),
                      "round %u: the new directory at InitWait has sectors '%s'", round,
                      v ? v : "(none)");
        free(v);
        /* The old ring's grant is let go of. */
        snprintf(what, sizeof(what), "round %u: the old device", round);
        wait_ring_released(&old, what);
        if (round + 1 < 40) {           /* the next round starts from a clean slate */
            ck_assert(xs_rm(xs, XBT_NULL, F.fe));
            ck_assert(xs_rm(xs, XBT_NULL, F.be));
            ck_assert(ff_wait_backend(&F, 0, WAIT_MS));
            unwatch_ff(&F);
        }
    }
    ck_assert_msg(ff_connect(&F, 1, 0, 30), "connect: %s", ff_error());
    expect_read_ok(1, 8);
}
END_TEST

/* Engine cost: full rings of 4 KiB reads, grants reused; prints the
 * per-request time (compared with fio in docs/blkback.md). */
START_TEST(throughput_figure)
{
    enum { ROUNDS = 1000 };
    struct seg s[1];
    struct blkif_request r[32];
    struct blkif_response rsp[32];
    struct timespec t0, t1;
    double us;

    connect_dev(1, disk, "w", 1, 0, 10);
    for (unsigned i = 0; i < 32; i++)
        r[i] = rw_req(BLKIF_OP_READ, i, 8 * i, 1, s, false);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned i = 0; i < 32; i++)
            ff_put(&F, 0, &r[i], sizeof(r[i]));
        ff_push(&F, 0);
        ck_assert_msg(ff_collect(&F, 0, rsp, 32, WAIT_MS) == 32, "%s", ff_error());
        for (unsigned i = 0; i < 32; i++)
            ck_assert_int_eq(rsp[i].status, BLKIF_RSP_OKAY);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
         (ROUNDS * 32);
    printf("blkback: %u x 4 KiB reads at queue depth 32: %.2f us/request (%.0f IOPS)\n",
           ROUNDS * 32, us, 1e6 / us);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blkback_e2e");
    TCase *tc = tcase_create("daemon");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, handshake_and_keys);
    tcase_add_test(tc, data_paths);
    tcase_add_test(tc, indirect_requests);
    tcase_add_test(tc, barrier_orders);
    tcase_add_test(tc, multi_queue_multi_page);
    tcase_add_test(tc, hostile_requests);
    tcase_add_test(tc, read_only_device);
    tcase_add_test(tc, bad_frontend_protocol);
    tcase_add_test(tc, bad_backing_file);
    tcase_add_test(tc, hostile_frontend_keys);
    tcase_add_test(tc, hostile_ring_index);
    tcase_add_test(tc, backend_close_on_sigterm);
    tcase_add_test(tc, sigkill_and_resubmit);
    tcase_add_test(tc, persistent_grants);
    tcase_add_test(tc, backend_initiated_close);
    tcase_add_test(tc, device_removed);
    tcase_add_test(tc, device_recreated);
    tcase_add_test(tc, throughput_figure);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/*
 * app=blkbench dev=xvda pattern=randread|randwrite|read|write bs=4096 qd=32
 *              seconds=10 [size=BYTES] [queues=N] [ring-order=N] [poll-us=N]
 *              [verify=1] [warmup-ms=N]
 *
 * Keeps qd requests of bs bytes in flight on the device for the given
 * time (random offsets aligned to bs, or sequential wrapping at size) and
 * prints one line:
 *   blkbench: pattern=... bs=... qd=... iops=... mbps=... p50_us=... p99_us=...
 *   submits=... doorbells=... upcalls=... polls_found=... sleeps=... errors=...
 * Completions are collected in batches and the refills published with one
 * kick, as a real driver would.  verify=1 writes blocks in blkverify's
 * self-checking format (so app=blkverify mode=check can check them later).
 */
#include "apps.h"
#include "blkfront.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"

#define BENCH_MAX_QD 256
#define HIST_BUCKETS 20000          /* 1 us each; beyond: last bucket */

struct bench {
    struct blkfront *dev;
    const char *pattern;
    bool write, random, verify;
    uint64_t bs, qd, seconds, size_blocks, warmup_ns;
    uint64_t next_block, rng, gen;
    uint8_t *buf;
    struct blkfront_req req[BENCH_MAX_QD];
    uint32_t *hist;
    uint64_t done, errors, first_error;
    bool measuring;
};

static uint64_t rnd(struct bench *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static uint64_t pick_block(struct bench *b)
{
    if (b->random)
        return rnd(b) % b->size_blocks;
    uint64_t blk = b->next_block;
    b->next_block = (b->next_block + 1) % b->size_blocks;
    return blk;
}

static void fill_verify(struct bench *b, uint8_t *buf, uint64_t first_sector)
{
    for (uint64_t off = 0; off + BLKPAT_BLOCK <= b->bs; off += BLKPAT_BLOCK)
        blkpat_fill(buf + off, (first_sector * 512 + off) / BLKPAT_BLOCK, ++b->gen);
}

static int submit_slot(struct bench *b, unsigned int i)
{
    struct blkfront_req *r = &b->req[i];
    uint8_t *buf = b->buf + (size_t)i * b->bs;
    uint64_t sector = pick_block(b) * (b->bs / 512);
    if (b->verify)
        fill_verify(b, buf, sector);
    *r = (struct blkfront_req){ .op = b->write ? BLKIF_OP_WRITE : BLKIF_OP_READ, .queue = i,
                                .sector = sector, .buf = buf, .len = (uint32_t)b->bs };
    return blkfront_submit(b->dev, r);
}

static void account(struct bench *b, struct blkfront_req *r, uint64_t now)
{
    if (r->status != BLKIF_RSP_OKAY && !b->errors++)
        b->first_error = r->sector;
    if (!b->measuring)
        return;
    uint64_t us = (now - r->submit_ns) / NSEC_PER_USEC;
    b->hist[us < HIST_BUCKETS ? us : HIST_BUCKETS - 1]++;
    b->done++;
}

static uint64_t percentile(const struct bench *b, unsigned int pct)
{
    uint64_t want = (b->done * pct + 99) / 100, seen = 0;
    for (uint64_t us = 0; us < HIST_BUCKETS; us++) {
        seen += b->hist[us];
        if (seen >= want && want)
            return us;
    }
    return HIST_BUCKETS;
}

/* With one queue: wait on it. With several (all driven from this one
 * thread): poll them all, and block on queue 0 only briefly so the others
 * are looked at again soon. */
static int wait_some(struct bench *b)
{
    unsigned int nq = blkfront_info(b->dev)->nr_queues;
    if (nq == 1)
        return blkfront_wait_any(b->dev, 0, 0);
    for (;;) {
        int n = blkfront_poll(b->dev, -1);
        if (n)
            return n;
        for (unsigned int q = 0; q < nq; q++) {
            n = blkfront_wait_any(b->dev, q, monotonic_ns() + 20 * NSEC_PER_USEC);
            if (n)
                return n;
        }
    }
}

/* The loop: refill every completed slot, kick once, wait for more. */
static int run(struct bench *b, uint64_t *elapsed_ns)
{
    uint64_t start = monotonic_ns(), t0 = start + b->warmup_ns;
    uint64_t end = t0 + b->seconds * NSEC_PER_SEC;
    for (unsigned int i = 0; i < b->qd; i++)
        if (submit_slot(b, i) < 0)
            return -1;
    blkfront_kick(b->dev);
    bool draining = false;
    unsigned int busy = (unsigned int)b->qd;
    while (busy) {
        if (wait_some(b) < 0)
            return -1;
        uint64_t now = monotonic_ns();
        if (!b->measuring && now >= t0) {
            b->measuring = true;
            t0 = now;
        }
        if (now >= end && !draining) {
            draining = true;   /* what completes from here on is not counted */
            *elapsed_ns = now - t0;
        }
        for (unsigned int i = 0; i < b->qd; i++) {
            struct blkfront_req *r = &b->req[i];
            if (!r->buf || !r->done)
                continue;
            if (!draining || !b->measuring)
                account(b, r, now);
            else if (r->status != BLKIF_RSP_OKAY && !b->errors++)
                b->first_error = r->sector;
            r->buf = NULL;
            busy--;
            if (!draining) {
                if (submit_slot(b, i) < 0)
                    return -1;
                busy++;
            }
        }
        blkfront_kick(b->dev);
    }
    return 0;
}

static int get(const struct cmdline *cl, const char *k, uint64_t dflt, uint64_t max, uint64_t *out)
{
    char err[96];
    if (cmdline_get_u64(cl, k, dflt, max, out, err, sizeof(err)) < 0) {
        printk("blkbench: FAIL %s\n", err);
        return -1;
    }
    return 0;
}

static int parse(const struct cmdline *cl, struct bench *b, struct blkfront_opts *o)
{
    uint64_t queues, order, poll_us, verify, warm;
    b->pattern = cmdline_get(cl, "pattern");
    if (!b->pattern)
        b->pattern = "randread";
    b->write = !strcmp(b->pattern, "randwrite") || !strcmp(b->pattern, "write");
    b->random = !strncmp(b->pattern, "rand", 4);
    if (!b->write && strcmp(b->pattern, "randread") && strcmp(b->pattern, "read")) {
        printk("blkbench: FAIL pattern=%s (randread, randwrite, read or write)\n", b->pattern);
        return -1;
    }
    if (get(cl, "bs", 4096, 1 << 20, &b->bs) || get(cl, "qd", 32, BENCH_MAX_QD, &b->qd) ||
        get(cl, "seconds", 10, 3600, &b->seconds) || get(cl, "size", 0, UINT64_MAX, &b->size_blocks) ||
        get(cl, "queues", 1, BLKFRONT_MAX_QUEUES, &queues) ||
        get(cl, "ring-order", 0, BLKFRONT_MAX_RING_ORDER, &order) ||
        get(cl, "poll-us", 1000, 100000, &poll_us) || get(cl, "verify", 0, 1, &verify) ||
        get(cl, "warmup-ms", 200, 10000, &warm))
        return -1;
    if (b->bs < 512 || b->bs % 512 || b->qd == 0 || (verify && b->bs % BLKPAT_BLOCK)) {
        printk("blkbench: FAIL bs must be a multiple of 512 (of 4096 with verify=1), qd >= 1\n");
        return -1;
    }
    b->verify = verify;
    b->warmup_ns = warm * NSEC_PER_MSEC;
    /* qd requests must fit in one ring: pick the smallest order that holds them */
    while (order < BLKFRONT_MAX_RING_ORDER && __CONST_RING_SIZE(blkif, PAGE_SIZE << order) < b->qd)
        order++;
    *o = (struct blkfront_opts){ .queues = (unsigned int)queues, .ring_order = (unsigned int)order,
                                 .poll_ns = poll_us ? poll_us * NSEC_PER_USEC : 1 };
    return 0;
}

static void report(struct bench *b, uint64_t ns)
{
    struct blkfront_stats st;
    blkfront_get_stats(b->dev, &st);
    uint64_t iops = b->done * NSEC_PER_SEC / ns;
    uint64_t mbps_x100 = b->done * b->bs * 100000 / ns;   /* MB/s (10^6 bytes) x 100 */
    printk("blkbench: pattern=%s bs=%llu qd=%llu queues=%u ring_order=%u iops=%llu mbps=%llu.%02llu p50_us=%llu p99_us=%llu "
           "submits=%llu pushes=%llu doorbells=%llu upcalls=%llu polls_found=%llu sleeps=%llu responses=%llu "
           "errors=%llu reconnects=%llu resubmitted=%llu\n",
           b->pattern, (unsigned long long)b->bs, (unsigned long long)b->qd,
           blkfront_info(b->dev)->nr_queues, blkfront_info(b->dev)->ring_order,
           (unsigned long long)iops, (unsigned long long)(mbps_x100 / 100),
           (unsigned long long)(mbps_x100 % 100), (unsigned long long)percentile(b, 50),
           (unsigned long long)percentile(b, 99), (unsigned long long)st.submits, (unsigned long long)st.pushes,
           (unsigned long long)st.doorbells, (unsigned long long)st.upcalls,
           (unsigned long long)st.polls_found, (unsigned long long)st.sleeps,
           (unsigned long long)st.responses, (unsigned long long)b->errors,
           (unsigned long long)st.reconnects, (unsigned long long)st.resubmitted);
}

int app_blkbench(const struct cmdline *cl)
{
    static struct bench b;
    struct blkfront_opts o;
    const char *name = cmdline_get(cl, "dev");
    int err;
    if (parse(cl, &b, &o) < 0)
        return 1;
    b.rng = 0x9e3779b97f4a7c15ULL ^ monotonic_ns();
    b.dev = blkfront_open(name ? name : "xvda", &o, &err);
    if (!b.dev) {
        printk("blkbench: FAIL open %s: error %d\n", name ? name : "xvda", err);
        return 1;
    }
    uint64_t disk = blkfront_info(b.dev)->sectors * 512;
    uint64_t size = b.size_blocks ? MIN(b.size_blocks, disk) : disk;
    b.size_blocks = size / b.bs;
    b.buf = blkfront_buf_alloc(b.dev, b.bs * b.qd);
    b.hist = calloc(HIST_BUCKETS, sizeof(*b.hist));
    if (!b.size_blocks || !b.buf || !b.hist) {
        printk("blkbench: FAIL disk smaller than bs, or no memory for %llu x %llu buffers\n",
               (unsigned long long)b.qd, (unsigned long long)b.bs);
        return 1;
    }
    uint64_t ns = 1;
    if (run(&b, &ns) < 0) {
        printk("blkbench: FAIL submit or device lost\n");
        return 1;
    }
    if (b.errors) {
        printk("blkbench: FAIL errors=%llu first at sector %llu\n", (unsigned long long)b.errors,
               (unsigned long long)b.first_error);
        return 1;
    }
    report(&b, ns);
    blkfront_close(b.dev);
    return 0;
}

/*
 * app=blkverify dev=xvda [mode=write|check] [blocks=N] [gen=G]
 *
 * mode=write (default): writes N 4 KiB blocks in the self-checking format
 * (block number, generation, seeded pattern, checksum), 32 in flight,
 * reads them back and checks each.  mode=check: only reads and checks
 * (what an earlier boot wrote); with gen=G every block must carry that
 * generation, without it any valid block is accepted and never-written
 * (all-zero) blocks are counted as such.  Prints
 * `blkverify: ok blocks=N ...` or `blkverify: FAIL block=B ...`.
 *
 * Hotplug: wait-ms=T waits up to T ms for each device to be attached
 * (prints `blkverify: waiting for DEV` first); hold=1 keeps each device
 * open after its check until the toolstack detaches it (as long again),
 * checks that a request after that fails cleanly, and prints
 * `blkverify: dev=DEV detached`.
 */
#include "apps.h"
#include "blkfront.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"

#define BLKV_DEPTH 32
#define BLKPAT_MAGIC 0x314b4c424d444e54ULL /* "TNDMBLK1" */

struct blkpat_head {
    uint64_t magic, blockno, gen;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint64_t checksum(const uint64_t *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = mix(h ^ w[i]) + i;
    return h;
}

void blkpat_fill(void *block, uint64_t blockno, uint64_t gen)
{
    uint64_t *w = block;
    size_t n = BLKPAT_BLOCK / 8;
    struct blkpat_head *h = block;
    h->magic = BLKPAT_MAGIC;
    h->blockno = blockno;
    h->gen = gen;
    uint64_t x = mix(blockno * 0x9e3779b97f4a7c15ULL ^ gen);
    for (size_t i = 3; i < n - 1; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w[i] = x;
    }
    w[n - 1] = checksum(w, n - 1);
}

int blkpat_check(const void *block, uint64_t blockno, uint64_t *gen)
{
    const uint64_t *w = block;
    size_t n = BLKPAT_BLOCK / 8;
    const struct blkpat_head *h = block;
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= w[i];
    if (!any)
        return 1;
    if (h->magic != BLKPAT_MAGIC || h->blockno != blockno || w[n - 1] != checksum(w, n - 1))
        return -1;
    *gen = h->gen;
    return 0;
}

struct verify {
    struct blkfront *dev;
    uint64_t wait_ms;              /* wait-ms=: 0 = the device must be there */
    bool hold;                     /* hold=1 */
    uint64_t blocks, gen;
    bool want_gen;
    uint8_t *buf;                  /* BLKV_DEPTH blocks */
    struct blkfront_req req[BLKV_DEPTH];
    uint64_t zero, bad, first_bad;
    uint64_t bad_gen_block, bad_gen;
};

static void check_block(struct verify *v, uint64_t blockno, const void *data)
{
    uint64_t gen = 0;
    int rc = blkpat_check(data, blockno, &gen);
    if (rc == 1 && !v->want_gen) {
        v->zero++;
        return;
    }
    if (rc != 0 || (v->want_gen && gen != v->gen)) {
        if (!v->bad++) {
            v->first_bad = blockno;
            v->bad_gen = rc == 0 ? gen : (uint64_t)rc;
        }
    }
}

/* Runs op over every block, BLKV_DEPTH at a time; checks reads. */
static int pass(struct verify *v, uint8_t op)
{
    uint64_t next = 0, done = 0;
    unsigned int busy = 0;
    while (done < v->blocks) {
        for (unsigned int i = 0; i < BLKV_DEPTH && next < v->blocks; i++) {
            struct blkfront_req *r = &v->req[i];
            if (r->buf && !r->done)
                continue;   /* in flight */
            if (r->buf && r->done)
                continue;   /* completed, not collected yet */
            uint8_t *b = v->buf + (size_t)i * BLKPAT_BLOCK;
            if (op == BLKIF_OP_WRITE)
                blkpat_fill(b, next, v->gen);
            *r = (struct blkfront_req){ .op = op, .sector = next * (BLKPAT_BLOCK / 512),
                                        .buf = b, .len = BLKPAT_BLOCK, .arg = (void *)(uintptr_t)next };
            int rc = blkfront_submit(v->dev, r);
            if (rc < 0) {
                printk("blkverify: FAIL submit block=%llu error %d\n", (unsigned long long)next, rc);
                return -1;
            }
            next++;
            busy++;
        }
        blkfront_kick(v->dev);
        if (blkfront_wait_any(v->dev, 0, 0) < 0) {
            printk("blkverify: FAIL device lost\n");
            return -1;
        }
        for (unsigned int i = 0; i < BLKV_DEPTH; i++) {
            struct blkfront_req *r = &v->req[i];
            if (!r->buf || !r->done)
                continue;
            uint64_t blockno = (uintptr_t)r->arg;
            if (r->status != BLKIF_RSP_OKAY) {
                printk("blkverify: FAIL block=%llu %s status %d\n", (unsigned long long)blockno,
                       op == BLKIF_OP_WRITE ? "write" : "read", r->status);
                return -1;
            }
            if (op == BLKIF_OP_READ)
                check_block(v, blockno, r->buf);
            r->buf = NULL;
            done++;
            busy--;
        }
    }
    return 0;
}

static int parse(const struct cmdline *cl, struct verify *v, const char **mode)
{
    char err[96];
    uint64_t blocks;
    *mode = cmdline_get(cl, "mode");
    if (!*mode)
        *mode = "write";
    if (strcmp(*mode, "write") && strcmp(*mode, "check")) {
        printk("blkverify: FAIL mode=%s (write or check)\n", *mode);
        return -1;
    }
    int g = cmdline_get_u64(cl, "gen", 1, UINT32_MAX, &v->gen, err, sizeof(err));
    if (g < 0 || cmdline_get_u64(cl, "blocks", 0, 1ULL << 32, &blocks, err, sizeof(err)) < 0) {
        printk("blkverify: FAIL %s\n", err);
        return -1;
    }
    uint64_t hold;
    if (cmdline_get_u64(cl, "wait-ms", 0, 24ULL * 3600 * 1000, &v->wait_ms, err, sizeof(err)) < 0 ||
        cmdline_get_u64(cl, "hold", 0, 1, &hold, err, sizeof(err)) < 0) {
        printk("blkverify: FAIL %s\n", err);
        return -1;
    }
    v->hold = hold;
    v->want_gen = g == 0 || !strcmp(*mode, "write");
    v->blocks = blocks;
    return 0;
}

/* hold=1: until the toolstack detached the device; then a request must
 * fail with -EIO (not hang, not succeed). 0 or -1. */
static int hold_until_detached(struct verify *v, const char *name)
{
    printk("blkverify: dev=%s holding until detached\n", name);
    if (!blkfront_wait_detached(v->dev, monotonic_ns() + v->wait_ms * NSEC_PER_MSEC)) {
        printk("blkverify: FAIL dev=%s not detached within %llu ms\n", name,
               (unsigned long long)v->wait_ms);
        return -1;
    }
    int rc = blkfront_rw(v->dev, BLKIF_OP_READ, 0, v->buf, BLKPAT_BLOCK);
    if (rc != -EIO) {
        printk("blkverify: FAIL dev=%s a read after detach gave %d, not -EIO\n", name, rc);
        return -1;
    }
    printk("blkverify: dev=%s detached\n", name);
    return 0;
}

/* One device: open, write and/or check, close. Blocks checked, or -1. */
static int64_t verify_one(const char *name, const struct verify *opt, const char *mode)
{
    static struct verify v;
    int err = 0;
    v = *opt;
    if (v.wait_ms) {
        printk("blkverify: waiting for %s\n", name);
        err = blkfront_wait_present(name, v.wait_ms * NSEC_PER_MSEC);
        if (err < 0) {
            printk("blkverify: FAIL %s did not appear within %llu ms (error %d)\n", name,
                   (unsigned long long)v.wait_ms, err);
            return -1;
        }
    }
    v.dev = blkfront_open(name, NULL, &err);
    if (!v.dev) {
        printk("blkverify: FAIL open %s: error %d\n", name, err);
        return -1;
    }
    uint64_t disk = blkfront_info(v.dev)->sectors / (BLKPAT_BLOCK / 512);
    if (!v.blocks || v.blocks > disk)
        v.blocks = disk;
    v.buf = blkfront_buf_alloc(v.dev, (size_t)BLKV_DEPTH * BLKPAT_BLOCK);
    if (!v.buf || !v.blocks) {
        printk("blkverify: FAIL %s: no buffers or empty disk\n", name);
        return -1;
    }
    uint64_t t0 = monotonic_ns();
    if ((!strcmp(mode, "write") && pass(&v, BLKIF_OP_WRITE) < 0) || pass(&v, BLKIF_OP_READ) < 0)
        return -1;
    uint64_t ms = (monotonic_ns() - t0) / NSEC_PER_MSEC;
    if (v.bad) {
        printk("blkverify: FAIL dev=%s block=%llu bad=%llu of %llu (%s)\n", name,
               (unsigned long long)v.first_bad, (unsigned long long)v.bad,
               (unsigned long long)v.blocks,
               v.bad_gen == (uint64_t)-1 ? "wrong number, magic or checksum" : "wrong generation");
        return -1;
    }
    struct blkfront_stats st;
    blkfront_get_stats(v.dev, &st);
    printk("blkverify: dev=%s ok blocks=%llu mode=%s gen=%llu unwritten=%llu ms=%llu reconnects=%llu\n",
           name, (unsigned long long)v.blocks, mode, v.want_gen ? (unsigned long long)v.gen : 0ULL,
           (unsigned long long)v.zero, (unsigned long long)ms, (unsigned long long)st.reconnects);
    if (v.hold && hold_until_detached(&v, name) < 0)
        return -1;
    blkfront_close(v.dev);
    return (int64_t)v.blocks;
}

/* dev=xvda or dev=xvda,xvdb,...: device i uses generation gen+i, so a
 * disk that shows another disk's data fails the check. */
int app_blkverify(const struct cmdline *cl)
{
    struct verify opt = { 0 };
    const char *mode, *list = cmdline_get(cl, "dev");
    char name[16];
    uint64_t total = 0, i = 0;
    if (parse(cl, &opt, &mode) < 0)
        return 1;
    for (const char *p = list ? list : "xvda"; *p; i++) {
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        if (n == 0 || n >= sizeof(name)) {
            printk("blkverify: FAIL bad device list '%s'\n", list);
            return 1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n + (p[n] == ',');
        struct verify one = opt;
        one.gen = opt.gen + i;
        int64_t b = verify_one(name, &one, mode);
        if (b < 0)
            return 1;
        total += (uint64_t)b;
    }
    printk("blkverify: ok blocks=%llu devices=%llu mode=%s\n", (unsigned long long)total,
           (unsigned long long)i, mode);
    return 0;
}

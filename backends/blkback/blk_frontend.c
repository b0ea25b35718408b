/* Frontend connection keys (see blk_frontend.h). */
#include "blk_frontend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int blk_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9 || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* dir/key as a number: 1 read, 0 absent (*out = dflt), -1 bad. */
static int read_num(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                    uint64_t dflt, uint64_t *out, char *err, size_t errlen)
{
    char path[256];
    unsigned len;
    char *v;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (!v) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "reading %s: %s", path, strerror(errno));
            return -1;
        }
        *out = dflt;
        return 0;
    }
    rc = blk_parse_uint(v, len, max, out);
    if (rc < 0)
        snprintf(err, errlen, "%s: \"%.32s\" is not a number up to %llu", path, v,
                 (unsigned long long)max);
    free(v);
    return rc < 0 ? -1 : 1;
}

static int need_num(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                    uint32_t *out, char *err, size_t errlen)
{
    uint64_t v;
    int rc = read_num(xs, dir, key, max, 0, &v, err, errlen);

    if (rc == 0)
        snprintf(err, errlen, "%s/%s missing", dir, key);
    if (rc <= 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Only the 64-bit layout is implemented (x86_32-abi packs differently). */
static int check_protocol(struct xs_handle *xs, const char *fe, char *err, size_t errlen)
{
    char path[256];
    unsigned len;
    char *v;
    int ok;

    snprintf(path, sizeof(path), "%s/protocol", fe);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (!v)
        return 0;                   /* absent: native, which is x86_64 */
    ok = len == strlen("x86_64-abi") && memcmp(v, "x86_64-abi", len) == 0;
    if (!ok)
        snprintf(err, errlen, "%s: unsupported protocol \"%.32s\"", path, v);
    free(v);
    return ok ? 0 : -1;
}

static int read_queue(struct xs_handle *xs, const char *dir, unsigned order,
                      struct blk_fe_queue *q, char *err, size_t errlen)
{
    if (need_num(xs, dir, "event-channel", 4095, &q->evtchn, err, errlen) < 0)
        return -1;
    if (order == 0)
        return need_num(xs, dir, "ring-ref", UINT32_MAX, &q->ring_refs[0], err, errlen);
    for (unsigned i = 0; i < (1u << order); i++) {
        char key[32];

        snprintf(key, sizeof(key), "ring-ref%u", i);
        if (need_num(xs, dir, key, UINT32_MAX, &q->ring_refs[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

int blk_frontend_read(struct xs_handle *xs, const char *fe, unsigned max_queues,
                      unsigned max_order, struct blk_fe_cfg *cfg, char *err, size_t errlen)
{
    uint64_t v;

    memset(cfg, 0, sizeof(*cfg));
    if (check_protocol(xs, fe, err, errlen) < 0)
        return -1;
    if (read_num(xs, fe, "multi-queue-num-queues", max_queues, 1, &v, err, errlen) < 0)
        return -1;
    if (v == 0) {
        snprintf(err, errlen, "%s/multi-queue-num-queues is 0", fe);
        return -1;
    }
    cfg->nr_queues = (unsigned)v;
    if (read_num(xs, fe, "ring-page-order", max_order, 0, &v, err, errlen) < 0)
        return -1;
    cfg->ring_order = (unsigned)v;
    if (read_num(xs, fe, "feature-persistent", 1, 0, &v, err, errlen) < 0)
        return -1;
    cfg->persistent = v == 1;
    if (cfg->nr_queues == 1)
        return read_queue(xs, fe, cfg->ring_order, &cfg->q[0], err, errlen);
    for (unsigned i = 0; i < cfg->nr_queues; i++) {
        char dir[256];

        snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
        if (read_queue(xs, dir, cfg->ring_order, &cfg->q[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Frontend connection keys (see blk_frontend.h). */
#include "blk_frontend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdm_xskeys.h"

static int need_num(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                    uint32_t *out, char *err, size_t errlen)
{
    uint64_t v;

    if (tdm_xs_need_uint(xs, dir, key, max, &v, err, errlen) < 0)
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
    if (tdm_xs_read_uint(xs, fe, "multi-queue-num-queues", max_queues, 1, &v, err, errlen) < 0)
        return -1;
    if (v == 0) {
        snprintf(err, errlen, "%s/multi-queue-num-queues is 0", fe);
        return -1;
    }
    cfg->nr_queues = (unsigned)v;
    if (tdm_xs_read_uint(xs, fe, "ring-page-order", max_order, 0, &v, err, errlen) < 0)
        return -1;
    cfg->ring_order = (unsigned)v;
    if (tdm_xs_read_uint(xs, fe, "feature-persistent", 1, 0, &v, err, errlen) < 0)
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

/* Netfront connection keys (see net_frontend.h). */
#include "net_frontend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdm_xskeys.h"

bool net_mac_ok(const char *s, size_t len)
{
    if (len != 17)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

        if (i % 3 == 2 ? c != ':' : !hex)
            return false;
    }
    return true;
}

static int flag(struct xs_handle *xs, const char *fe, const char *key, bool dflt, bool *out,
                char *err, size_t errlen)
{
    uint64_t v;

    if (tdm_xs_read_uint(xs, fe, key, 1, dflt, &v, err, errlen) < 0)
        return -1;
    *out = v == 1;
    return 0;
}

static int read_queue(struct xs_handle *xs, const char *dir, struct net_fe_queue *q, char *err,
                      size_t errlen)
{
    uint64_t tx, rx, ev, evtx, evrx;
    int split;

    if (tdm_xs_need_uint(xs, dir, "tx-ring-ref", UINT32_MAX, &tx, err, errlen) < 0 ||
        tdm_xs_need_uint(xs, dir, "rx-ring-ref", UINT32_MAX, &rx, err, errlen) < 0)
        return -1;
    q->tx_ref = (uint32_t)tx;
    q->rx_ref = (uint32_t)rx;
    split = tdm_xs_read_uint(xs, dir, "event-channel-tx", 4095, 0, &evtx, err, errlen);
    if (split < 0)
        return -1;
    if (split) {
        if (tdm_xs_need_uint(xs, dir, "event-channel-rx", 4095, &evrx, err, errlen) < 0)
            return -1;
        q->evtchn_tx = (uint32_t)evtx;
        q->evtchn_rx = (uint32_t)evrx;
        return 0;
    }
    if (tdm_xs_need_uint(xs, dir, "event-channel", 4095, &ev, err, errlen) < 0)
        return -1;
    q->evtchn_tx = q->evtchn_rx = (uint32_t)ev;
    return 0;
}

static int read_mac(struct xs_handle *xs, const char *fe, char *mac, char *err, size_t errlen)
{
    char path[256];
    unsigned len;
    char *v;

    snprintf(path, sizeof(path), "%s/mac", fe);
    v = xs_read(xs, XBT_NULL, path, &len);
    mac[0] = '\0';
    if (!v)
        return 0;
    if (!net_mac_ok(v, len)) {
        snprintf(err, errlen, "%s: \"%.32s\" is not a MAC address", path, v);
        free(v);
        return -1;
    }
    memcpy(mac, v, 17);
    mac[17] = '\0';
    free(v);
    return 0;
}

int net_frontend_read(struct xs_handle *xs, const char *fe, unsigned max_queues,
                      struct net_fe_cfg *cfg, char *err, size_t errlen)
{
    bool copy, notify, no_csum;
    uint64_t nq;

    memset(cfg, 0, sizeof(*cfg));
    if (flag(xs, fe, "request-rx-copy", false, &copy, err, errlen) < 0)
        return -1;
    if (!copy) {
        snprintf(err, errlen, "%s/request-rx-copy is not 1 (page flipping is not offered)", fe);
        return -1;
    }
    if (flag(xs, fe, "feature-rx-notify", false, &notify, err, errlen) < 0)
        return -1;
    if (!notify) {
        snprintf(err, errlen, "%s/feature-rx-notify is not 1 (it is required)", fe);
        return -1;
    }
    if (flag(xs, fe, "feature-sg", false, &cfg->sg, err, errlen) < 0 ||
        flag(xs, fe, "feature-gso-tcpv4", false, &cfg->gso_tcpv4, err, errlen) < 0 ||
        flag(xs, fe, "feature-gso-tcpv6", false, &cfg->gso_tcpv6, err, errlen) < 0 ||
        flag(xs, fe, "feature-no-csum-offload", false, &no_csum, err, errlen) < 0 ||
        flag(xs, fe, "feature-ipv6-csum-offload", false, &cfg->ipv6_csum, err, errlen) < 0 ||
        read_mac(xs, fe, cfg->mac, err, errlen) < 0)
        return -1;
    cfg->ipv4_csum = !no_csum;
    if (tdm_xs_read_uint(xs, fe, "multi-queue-num-queues", max_queues, 1, &nq, err, errlen) < 0)
        return -1;
    if (nq == 0) {
        snprintf(err, errlen, "%s/multi-queue-num-queues is 0", fe);
        return -1;
    }
    cfg->nr_queues = (unsigned)nq;
    if (nq == 1)
        return read_queue(xs, fe, &cfg->q[0], err, errlen);
    for (unsigned i = 0; i < cfg->nr_queues; i++) {
        char dir[256];

        snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
        if (read_queue(xs, dir, &cfg->q[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

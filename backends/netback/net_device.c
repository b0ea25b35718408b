/* A vif: netback's driver for the backend framework (see net_device.h). */
#include "net_device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_frontend.h"
#include "net_queue.h"
#include "net_stats.h"
#include "neteng_tap.h"

struct net_device {
    struct tdm_xbdev *xb;
    char ifname[IFNAMSIZ];
    char mac[18];
    int fd[NET_MAX_QUEUES];          /* tap queues; fd[0] lives as long as the device */
    struct net_queue *q[NET_MAX_QUEUES];
    unsigned nq;
    struct net_stats st;
    bool fatal_reported;
    char stats_path[256];
};

static const struct net_options *options(const struct tdm_xbdev *xb)
{
    return xb->bus->priv;
}

/* ---- counters ---- */

static void write_stats(struct net_device *d)
{
    char tmp[280];
    const struct net_stats *s = &d->st;
    const char *fatal = __atomic_load_n(&s->fatal, __ATOMIC_ACQUIRE);
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", d->stats_path);
    f = fopen(tmp, "we");
    if (!f)
        return;
    fprintf(f, "device %s\nifname %s\nmac %s\nstate %s\nqueues %u\n", d->xb->name, d->ifname,
            d->mac[0] ? d->mac : "-",
            fatal ? "disabled" : d->nq ? "connected" : "disconnected", d->nq);
    fprintf(f, "tx_packets %llu\ntx_bytes %llu\ntx_drops %llu\ntx_errors %llu\n",
            (unsigned long long)net_stat_get(&s->tx_packets),
            (unsigned long long)net_stat_get(&s->tx_bytes),
            (unsigned long long)net_stat_get(&s->tx_drops),
            (unsigned long long)net_stat_get(&s->tx_errors));
    fprintf(f, "rx_packets %llu\nrx_bytes %llu\nrx_drops %llu\nrx_errors %llu\n",
            (unsigned long long)net_stat_get(&s->rx_packets),
            (unsigned long long)net_stat_get(&s->rx_bytes),
            (unsigned long long)net_stat_get(&s->rx_drops),
            (unsigned long long)net_stat_get(&s->rx_errors));
    fprintf(f, "kicks %llu\nnotifications %llu\nfatal %s\n",
            (unsigned long long)net_stat_get(&s->kicks),
            (unsigned long long)net_stat_get(&s->notifies), fatal ? fatal : "-");
    for (unsigned i = 0; i < d->nq; i++) {
        char line[320];

        if (!d->q[i])
            continue;
        net_queue_describe(d->q[i], line, sizeof(line));
        fprintf(f, "%s\n", line);
    }
    if (fclose(f) != 0 || rename(tmp, d->stats_path) != 0)
        unlink(tmp);
}

static void net_tick(struct tdm_xbdev *xb)
{
    struct net_device *d = xb->priv;
    const char *fatal;

    if (!d)
        return;
    fatal = __atomic_load_n(&d->st.fatal, __ATOMIC_ACQUIRE);
    if (fatal && !d->fatal_reported) {
        char msg[160];

        d->fatal_reported = true;
        snprintf(msg, sizeof(msg), "vif disabled: %s", fatal);
        tdm_xbdev_error(xb, msg);
    }
    write_stats(d);
}

/* ---- connect / disconnect ---- */

/* Stops every queue and closes the tap queues beyond the first. */
static void net_disconnect(struct tdm_xbdev *xb)
{
    struct net_device *d = xb->priv;
    bool was = d && d->nq;

    if (!d)
        return;
    tdm_xbdev_mark_connected(xb, false);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++) {
        net_queue_stop(d->q[i]);
        d->q[i] = NULL;
        if (i > 0 && d->fd[i] >= 0) {
            close(d->fd[i]);
            d->fd[i] = -1;
        }
    }
    d->nq = 0;
    if (!was)
        return;
    fprintf(stderr, "tandem-netback: %s: disconnected; tx %llu packets (%llu dropped), "
            "rx %llu packets (%llu dropped)\n", xb->name,
            (unsigned long long)d->st.tx_packets, (unsigned long long)d->st.tx_drops,
            (unsigned long long)d->st.rx_packets, (unsigned long long)d->st.rx_drops);
    write_stats(d);
}

static int start_queues(struct net_device *d, const struct net_fe_cfg *fe, char *err,
                        size_t errlen)
{
    struct tdm_xbdev *xb = d->xb;

    for (unsigned i = 0; i < fe->nr_queues; i++) {
        struct net_queue_config c = {
            .domid = xb->fe_id, .index = i, .name = xb->name, .gnt = xb->bus->gnt,
            .evh = xb->bus->evh, .tx_ref = fe->q[i].tx_ref, .rx_ref = fe->q[i].rx_ref,
            .evtchn_tx = fe->q[i].evtchn_tx, .evtchn_rx = fe->q[i].evtchn_rx,
            .rx_sg = fe->sg, .rx_gso = fe->sg && (fe->gso_tcpv4 || fe->gso_tcpv6),
            .poll_us = options(xb)->poll_us, .stats = &d->st,
        };
        char qerr[256];

        if (i > 0 && (d->fd[i] = neteng_tap_open(d->ifname, qerr, sizeof(qerr))) < 0) {
            snprintf(err, errlen, "queue %u: %s", i, qerr);
            return -1;
        }
        c.tap_fd = d->fd[i];
        d->q[i] = net_queue_start(&c, qerr, sizeof(qerr));
        if (!d->q[i]) {
            snprintf(err, errlen, "queue %u: %s", i, qerr);
            return -1;
        }
        d->nq = i + 1;
    }
    return 0;
}

static int net_connect(struct tdm_xbdev *xb)
{
    struct net_device *d = xb->priv;
    struct net_fe_cfg fe;
    char err[400];

    if (net_frontend_read(xb->bus->xs, xb->fe_path, options(xb)->max_queues, &fe, err,
                          sizeof(err)) < 0) {
        tdm_xbdev_error(xb, err);
        return -1;
    }
    memcpy(d->mac, fe.mac, sizeof(d->mac));
    /* What the frontend takes on RX decides what the kernel may hand us. */
    if (neteng_tap_offload(d->fd[0], fe.ipv4_csum, fe.sg && fe.gso_tcpv4, fe.sg && fe.gso_tcpv6,
                        err, sizeof(err)) < 0) {
        tdm_xbdev_error(xb, err);
        return -1;
    }
    memset(&d->st, 0, sizeof(d->st));
    d->fatal_reported = false;
    tdm_xbdev_connecting(xb);
    if (start_queues(d, &fe, err, sizeof(err)) < 0) {
        tdm_xbdev_error(xb, err);
        net_disconnect(xb);
        return -1;
    }
    tdm_xbdev_mark_connected(xb, true);
    fprintf(stderr, "tandem-netback: %s: connected as %s, %u queue(s)%s%s%s\n", xb->name,
            d->ifname, fe.nr_queues, fe.q[0].evtchn_tx != fe.q[0].evtchn_rx ? ", split events" : "",
            fe.sg ? ", sg" : "", fe.sg && fe.gso_tcpv4 ? ", gso" : "");
    write_stats(d);
    return 0;
}

/* ---- probe / remove ---- */

/* Everything a netfront reads before it connects, in one transaction. */
static bool put_keys(struct tdm_xbdev *xb, xs_transaction_t t, void *ctx)
{
    struct xs_handle *xs = xb->bus->xs;

    (void)ctx;
    return tdm_xs_put_uint(xs, t, xb->dir, "feature-sg", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-gso-tcpv4", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-gso-tcpv6", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-ipv6-csum-offload", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-rx-copy", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-rx-flip", 0) &&
           tdm_xs_put_uint(xs, t, xb->dir, "feature-split-event-channels", 1) &&
           tdm_xs_put_uint(xs, t, xb->dir, "multi-queue-max-queues", options(xb)->max_queues);
}

/* The tap's name: the toolstack's vifname, else vif<domid>.<devid>. */
static int pick_name(struct net_device *d)
{
    char *v = tdm_xbdev_read(d->xb, "vifname");
    char msg[96];

    if (!v) {
        snprintf(msg, sizeof(msg), "vif%u.%u", d->xb->fe_id, d->xb->devid);
        if (!neteng_tap_name_ok(msg)) {
            tdm_xbdev_error(d->xb, "vif<domid>.<devid> is too long for an interface name");
            return -1;
        }
        memcpy(d->ifname, msg, strlen(msg) + 1);     /* checked: < IFNAMSIZ */
        return 0;
    }
    if (!neteng_tap_name_ok(v)) {
        snprintf(msg, sizeof(msg), "vifname \"%.20s\" is not an interface name", v);
        tdm_xbdev_error(d->xb, msg);
        free(v);
        return -1;
    }
    memcpy(d->ifname, v, strlen(v) + 1);
    free(v);
    return 0;
}

static int net_probe(struct tdm_xbdev *xb)
{
    struct net_device *d = calloc(1, sizeof(*d));
    char err[320], *bridge;
    int rc;

    if (!d) {
        tdm_xbdev_error(xb, "out of memory");
        return -1;
    }
    d->xb = xb;
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++)
        d->fd[i] = -1;
    xb->priv = d;
    snprintf(d->stats_path, sizeof(d->stats_path), "%s/%u.%u", options(xb)->stats_dir,
             xb->fe_id, xb->devid);
    if (pick_name(d) < 0)
        return -1;
    bridge = tdm_xbdev_read(xb, "bridge");
    if (bridge && !neteng_tap_name_ok(bridge)) {
        snprintf(err, sizeof(err), "bridge \"%.20s\" is not an interface name", bridge);
        tdm_xbdev_error(xb, err);
        free(bridge);
        return -1;
    }
    d->fd[0] = neteng_tap_open(d->ifname, err, sizeof(err));
    rc = d->fd[0] < 0 ? -1 : neteng_tap_up(d->ifname, bridge, err, sizeof(err));
    if (rc == 0)
        fprintf(stderr, "tandem-netback: %s: tap %s%s%s\n", xb->name, d->ifname,
                bridge ? " on bridge " : " (no bridge)", bridge ? bridge : "");
    free(bridge);
    if (rc < 0) {
        tdm_xbdev_error(xb, err);
        return -1;
    }
    if (tdm_xbdev_transact(xb, put_keys, NULL) < 0) {
        tdm_xbdev_error(xb, "cannot publish the device's keys");
        return -1;
    }
    write_stats(d);
    return 0;
}

static void net_remove(struct tdm_xbdev *xb)
{
    struct net_device *d = xb->priv;

    if (!d)
        return;
    if (d->fd[0] >= 0)
        fprintf(stderr, "tandem-netback: %s: tap %s removed\n", xb->name, d->ifname);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++)
        if (d->fd[i] >= 0)
            close(d->fd[i]);          /* the last one removes the tap */
    unlink(d->stats_path);
    free(d);
    xb->priv = NULL;
}

const struct tdm_xbdrv net_driver = {
    .type = "vif",
    .daemon = "tandem-netback",
    .probe = net_probe,
    .otherend_changed = tdm_xbdev_otherend_changed,
    .connect = net_connect,
    .disconnect = net_disconnect,
    .remove = net_remove,
    .tick = net_tick,
};

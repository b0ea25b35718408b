/* The xenbus backend framework (see tdm_xbback.h). */
#include "tdm_xbback.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include "public/xen.h"

/* ---- helpers for the drivers ---- */

void tdm_xbdev_error(struct tdm_xbdev *d, const char *msg)
{
    char path[128];

    fprintf(stderr, "%s: %s: %s\n", d->bus->drv->daemon, d->name, msg);
    snprintf(path, sizeof(path), "%s/error", d->dir);
    (void)xs_write(d->bus->xs, XBT_NULL, path, msg, (unsigned)strlen(msg));
}

/* 1: state written, 0: the device directory is gone (nothing written),
 * 2: the directory is a new one (nothing written; see recreated), -1:
 * error. One transaction, so a watch event that arrives after the
 * toolstack removed the device never re-creates its directory (with
 * permissions the next frontend of that path could not read), and a
 * state decided on the old directory never lands in a new one written
 * meanwhile at the same path. */
struct switch_ctx {
    struct tdm_xbdev *d;
    int state;
};

/* Whether the device's directory is there: its `frontend` key, which the
 * toolstack writes with the directory and never removes on its own. */
static bool dir_present(struct xs_handle *xs, xs_transaction_t t, const struct tdm_xbdev *d)
{
    char path[128];
    unsigned len;
    char *v;

    snprintf(path, sizeof(path), "%s/frontend", d->dir);
    v = xs_read(xs, t, path, &len);
    bool present = v != NULL;

    free(v);
    return present;
}

static int switch_body(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
    struct switch_ctx *c = arg;

    if (!dir_present(xs, t, c->d))
        return 0;
    if (c->d->gone || (c->d->state > TDM_XBS_INITIALISING &&
                       tdm_xenbus_read_state(xs, t, c->d->dir) == TDM_XBS_INITIALISING))
        return 2;
    return tdm_xenbus_switch_state(xs, t, c->d->dir, c->state) < 0 ? -1 : 1;
}

static int switch_if_present(struct tdm_xbdev *d, int state)
{
    struct switch_ctx c = { d, state };

    return tdm_xenbus_transact(d->bus->xs, switch_body, &c);
}

void tdm_xbdev_switch_state(struct tdm_xbdev *d, int state)
{
    int rc = switch_if_present(d, state);

    if (rc < 0) {
        fprintf(stderr, "%s: %s: writing state %s: %s\n", d->bus->drv->daemon, d->name,
                tdm_xenbus_state_name(state), tdm_last_error());
        return;
    }
    if (rc == 0)
        d->gone = true;     /* whatever is at this path from now on is new */
    else if (rc == 2)
        d->renew = true;    /* state_events makes it a new device */
    else
        d->state = state;
}

char *tdm_xbdev_read(struct tdm_xbdev *d, const char *key)
{
    char path[128];
    unsigned len;

    snprintf(path, sizeof(path), "%s/%s", d->dir, key);
    return xs_read(d->bus->xs, XBT_NULL, path, &len);
}

bool tdm_xs_put_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key,
                     unsigned long long v)
{
    char path[160], val[24];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(val, sizeof(val), "%llu", v);
    return xs_write(xs, t, path, val, (unsigned)strlen(val));
}

struct transact_ctx {
    struct tdm_xbdev *d;
    bool (*put)(struct tdm_xbdev *d, xs_transaction_t t, void *ctx);
    void *ctx;
};

static int transact_body(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
    struct transact_ctx *c = arg;

    (void)xs;
    return c->put(c->d, t, c->ctx) ? 0 : -1;
}

int tdm_xbdev_transact(struct tdm_xbdev *d,
                       bool (*put)(struct tdm_xbdev *d, xs_transaction_t t, void *ctx), void *ctx)
{
    struct transact_ctx c = { d, put, ctx };

    return tdm_xenbus_transact(d->bus->xs, transact_body, &c) < 0 ? -1 : 0;
}

bool tdm_xbdev_offline(struct tdm_xbdev *d)
{
    char *v = tdm_xbdev_read(d, "online");
    bool off = v && strcmp(v, "0") == 0;

    free(v);
    return off;
}

/* Connected devices per domain (see tdm_xbdev_connecting). One daemon
 * serves one device type, so a process-wide table is enough. */
static uint16_t connected_devices[DOMID_FIRST_RESERVED];

void tdm_xbdev_connecting(struct tdm_xbdev *d)
{
    if (d->fe_id < DOMID_FIRST_RESERVED && connected_devices[d->fe_id] == 0)
        tdm_gnttab_detach(d->bus->gnt, d->fe_id);
}

void tdm_xbdev_mark_connected(struct tdm_xbdev *d, bool connected)
{
    if (d->fe_id >= DOMID_FIRST_RESERVED || d->counted == connected)
        return;
    d->counted = connected;
    if (connected)
        connected_devices[d->fe_id]++;
    else
        connected_devices[d->fe_id]--;
}

void tdm_xbdev_otherend_changed(struct tdm_xbdev *d, int fe)
{
    const struct tdm_xbdrv *drv = d->bus->drv;
    bool off = tdm_xbdev_offline(d);

    switch (fe) {
    case TDM_XBS_INITIALISED:
    case TDM_XBS_CONNECTED:
        if (off) {
            drv->disconnect(d);     /* backend-initiated close */
            tdm_xbdev_switch_state(d, TDM_XBS_CLOSING);
        } else if (d->state == TDM_XBS_INIT_WAIT) {
            if (drv->connect(d) == 0)
                tdm_xbdev_switch_state(d, TDM_XBS_CONNECTED);
            else
                tdm_xbdev_switch_state(d, TDM_XBS_CLOSED);  /* the frontend must start over */
        } else if (d->state != TDM_XBS_CONNECTED && d->state != TDM_XBS_CLOSING) {
            /* A ring from before we (re)started: its in-flight state is
             * unknown, so make the frontend reset and resubmit.
             * TODO(dom0/gnttab): the killed instance's GTF_reading/writing
             * marks stay on the old grants (the library cannot know them
             * after a restart); the frontend must use fresh grants. */
            tdm_xbdev_switch_state(d, TDM_XBS_CLOSED);
        }
        break;
    case TDM_XBS_CLOSING:
        drv->disconnect(d);
        tdm_xbdev_switch_state(d, TDM_XBS_CLOSING);
        break;
    case TDM_XBS_CLOSED:
        drv->disconnect(d);
        tdm_xbdev_switch_state(d, TDM_XBS_CLOSED);
        break;
    case TDM_XBS_UNKNOWN:
    case TDM_XBS_INITIALISING:
    case TDM_XBS_INIT_WAIT:
        drv->disconnect(d);
        tdm_xbdev_switch_state(d, off ? TDM_XBS_CLOSED : TDM_XBS_INIT_WAIT);
        break;
    default:
        break;                      /* Reconfiguring/Reconfigured: not used */
    }
}

/* ---- devices ---- */

static void update(struct tdm_xbdev *d)
{
    int fe;

    if (!d->usable)
        return;
    fe = tdm_xenbus_read_state(d->bus->xs, XBT_NULL, d->fe_path);
    if (fe >= 0)
        d->bus->drv->otherend_changed(d, fe);
}

/* Everything before the first state change: the other end, the driver's
 * probe, the watches. */
static int probe(struct tdm_xbdev *d)
{
    struct xs_handle *xs = d->bus->xs;
    unsigned fe_id;

    if (tdm_xenbus_read_otherend(xs, XBT_NULL, d->dir, "frontend", &d->fe_path, &fe_id) < 0) {
        tdm_xbdev_error(d, tdm_last_error());
        return -1;
    }
    if (fe_id != d->fe_id) {
        tdm_xbdev_error(d, "frontend-id does not match the backend path");
        return -1;
    }
    if (d->bus->drv->probe(d) < 0)
        return -1;
    snprintf(d->fe_state, sizeof(d->fe_state), "%s/state", d->fe_path);
    snprintf(d->online, sizeof(d->online), "%s/online", d->dir);
    if (!xs_watch(xs, d->fe_state, d->token) || !xs_watch(xs, d->online, d->token)) {
        tdm_xbdev_error(d, "cannot watch the frontend's state and the online node");
        xs_unwatch(xs, d->fe_state, d->token);
        return -1;
    }
    return 0;
}

static struct tdm_xbdev *dev_new(struct tdm_xbback *b, const struct tdm_xenbus_dev_event *ev)
{
    struct tdm_xbdev *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->bus = b;
    d->state = TDM_XBS_UNKNOWN;
    d->fe_id = ev->frontend_id;
    d->devid = ev->devid;
    snprintf(d->dir, sizeof(d->dir), "%s", ev->dir);
    snprintf(d->token, sizeof(d->token), "%.16s:%s", b->drv->type, ev->dir);
    snprintf(d->name, sizeof(d->name), "%s %u/%u", b->drv->type, ev->frontend_id, ev->devid);
    if (probe(d) < 0) {
        /* As Xen's xenbus_dev_fatal: the error node says why; Closing
         * tells the frontend not to wait. The toolstack must re-create
         * the device once the cause is fixed. */
        tdm_xbdev_switch_state(d, TDM_XBS_CLOSING);
        return d;
    }
    d->usable = true;
    update(d);
    return d;
}

/* closed: also switch the backend to Closed (the daemon is stopping; the
 * directory still exists). */
static void dev_free(struct tdm_xbdev *d, bool closed)
{
    const struct tdm_xbdrv *drv = d->bus->drv;

    if (d->usable) {
        drv->disconnect(d);
        xs_unwatch(d->bus->xs, d->fe_state, d->token);
        xs_unwatch(d->bus->xs, d->online, d->token);
        if (closed)
            tdm_xbdev_switch_state(d, TDM_XBS_CLOSED);
    }
    drv->remove(d);
    tdm_xbdev_mark_connected(d, false);
    free(d->fe_path);
    free(d);
}

static int find_dev(struct tdm_xbback *b, const char *token)
{
    for (unsigned i = 0; i < b->ndev; i++)
        if (strcmp(b->dev[i]->token, token) == 0)
            return (int)i;
    return -1;
}

/* Drops the domain's memory mapping when its last device goes. */
static void remove_dev(struct tdm_xbback *b, unsigned i)
{
    unsigned domid = b->dev[i]->fe_id;
    bool others = false;

    dev_free(b->dev[i], false);
    b->dev[i] = b->dev[--b->ndev];
    for (unsigned k = 0; k < b->ndev; k++)
        others |= b->dev[k]->fe_id == domid;
    if (!others && domid)
        tdm_gnttab_detach(b->gnt, domid);
}

static void device_events(struct tdm_xbback *b)
{
    struct tdm_xenbus_dev_event ev;
    int rc;

    while ((rc = tdm_xenbus_watch_next(b->watch, &ev)) == 1) {
        char token[120];
        int i;

        snprintf(token, sizeof(token), "%.16s:%s", b->drv->type, ev.dir);
        i = find_dev(b, token);
        if (ev.kind == TDM_XENBUS_DEV_REMOVED) {
            if (i >= 0)
                remove_dev(b, (unsigned)i);
        } else if (i < 0) {
            struct tdm_xbdev *d;

            if (b->ndev == TDM_XBBACK_MAX_DEVICES) {
                fprintf(stderr, "%s: %s: more than %u devices\n", b->drv->daemon, ev.dir,
                        TDM_XBBACK_MAX_DEVICES);
                continue;
            }
            d = dev_new(b, &ev);
            if (d)
                b->dev[b->ndev++] = d;
        }
    }
    if (rc < 0)
        fprintf(stderr, "%s: device watch: %s\n", b->drv->daemon, tdm_last_error());
}

/* A directory removed and written again between two scans of the device
 * watch (a domain's restart: the toolstack removes its devices and writes
 * them anew at the same paths, the same domid) is not seen as a removal:
 * the set of directories is the same. It shows as the backend's state
 * back at Initialising (what only the toolstack writes, when it makes the
 * directory) under a device that has written a later one. Serving it as
 * the old device would skip the probe (the keys it publishes: sectors,
 * features) and connect a new frontend to nothing; it is a new device. */
static bool recreated(struct tdm_xbdev *d)
{
    return d->state > TDM_XBS_INITIALISING &&
           tdm_xenbus_read_state(d->bus->xs, XBT_NULL, d->dir) == TDM_XBS_INITIALISING;
}

/* Whether the device at d's path is no longer d: a state switch found the
 * directory replaced (renew), or gone and now there again (a directory
 * written after this device saw its own go), or recreated. */
static bool replaced(struct tdm_xbdev *d)
{
    if (d->renew)
        return true;
    if (d->gone)
        return dir_present(d->bus->xs, XBT_NULL, d);
    return recreated(d);
}

static void renew_dev(struct tdm_xbback *b, unsigned i)
{
    struct tdm_xenbus_dev_event ev = { .kind = TDM_XENBUS_DEV_ADDED,
                                       .frontend_id = b->dev[i]->fe_id,
                                       .devid = b->dev[i]->devid };
    snprintf(ev.dir, sizeof(ev.dir), "%s", b->dev[i]->dir);
    remove_dev(b, i);
    struct tdm_xbdev *d = dev_new(b, &ev);
    if (d)
        b->dev[b->ndev++] = d;
}

static void state_events(struct tdm_xbback *b)
{
    char **w;

    while ((w = xs_check_watch(b->xs)) != NULL) {
        int i = find_dev(b, w[XS_WATCH_TOKEN]);

        if (i >= 0 && replaced(b->dev[i]))
            renew_dev(b, (unsigned)i);
        else if (i >= 0) {
            update(b->dev[i]);
            if (replaced(b->dev[i]))    /* found so by the update's own switch */
                renew_dev(b, (unsigned)i);
        }
        free(w);
    }
}

/* ---- the daemon ---- */

int tdm_xbback_signal_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int tdm_xbback_open(struct tdm_xbback *b, const struct tdm_xbdrv *drv, const char *run_dir,
                    void *priv)
{
    memset(b, 0, sizeof(*b));
    b->drv = drv;
    b->priv = priv;
    b->xs = xs_open(0);
    if (!b->xs) {
        fprintf(stderr, "%s: startup: cannot reach xenstored: %s\n", drv->daemon,
                strerror(errno));
        return -1;
    }
    b->gnt = tdm_gnttab_open(run_dir);
    b->evh = b->gnt ? tdm_evtchn_open(run_dir) : NULL;
    b->watch = b->evh ? tdm_xenbus_watch_backends(drv->type) : NULL;
    if (!b->watch) {
        fprintf(stderr, "%s: startup: %s\n", drv->daemon, tdm_last_error());
        return -1;
    }
    return 0;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

int tdm_xbback_serve(struct tdm_xbback *b, int sfd)
{
    struct pollfd p[3] = {
        { .fd = sfd, .events = POLLIN },
        { .fd = tdm_xenbus_watch_fd(b->watch), .events = POLLIN },
        { .fd = xs_fileno(b->xs), .events = POLLIN },
    };

    int timeout = b->drv->tick ? TDM_XBBACK_TICK_MS : -1;
    struct timespec last;

    clock_gettime(CLOCK_MONOTONIC, &last);
    device_events(b);
    fprintf(stderr, "%s: ready\n", b->drv->daemon);
    for (;;) {
        if (b->drv->tick && elapsed_ms(&last) >= TDM_XBBACK_TICK_MS) {
            clock_gettime(CLOCK_MONOTONIC, &last);
            for (unsigned i = 0; i < b->ndev; i++)
                if (b->dev[i]->usable)
                    b->drv->tick(b->dev[i]);
        }
        if (poll(p, 3, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: poll: %s\n", b->drv->daemon, strerror(errno));
            return -1;
        }
        if (p[0].revents)
            return 0;
        if (p[1].revents & (POLLERR | POLLHUP) || p[2].revents & (POLLERR | POLLHUP)) {
            fprintf(stderr, "%s: lost the xenstored connection\n", b->drv->daemon);
            return -1;
        }
        if (p[1].revents)
            device_events(b);
        if (p[2].revents)
            state_events(b);
    }
}

void tdm_xbback_close(struct tdm_xbback *b)
{
    while (b->ndev) {
        dev_free(b->dev[b->ndev - 1], true);
        b->ndev--;
    }
    tdm_xenbus_watch_close(b->watch);
    tdm_evtchn_close(b->evh);
    tdm_gnttab_close(b->gnt);
    if (b->xs)
        xs_close(b->xs);
    memset(b, 0, sizeof(*b));
}

int tdm_xbback_run(const struct tdm_xbdrv *drv, const char *run_dir, void *priv)
{
    struct tdm_xbback bus;
    int sfd = tdm_xbback_signal_fd(), rc;

    if (sfd < 0) {
        fprintf(stderr, "%s: signalfd: %s\n", drv->daemon, strerror(errno));
        return 1;
    }
    if (tdm_xbback_open(&bus, drv, run_dir, priv) < 0) {
        tdm_xbback_close(&bus);
        return 1;
    }
    rc = tdm_xbback_serve(&bus, sfd);
    tdm_xbback_close(&bus);
    return rc < 0 ? 1 : 0;
}

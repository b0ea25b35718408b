/* The xenbus backend framework every Tandem backend daemon runs on, after
 * Linux's xenbus_driver: a driver names its device type and gives
 * per-device callbacks (probe, otherend_changed, remove, and connect /
 * disconnect for the common handshake); the framework owns the device
 * table, the watch on /local/domain/0/backend/<type>, the watches on each
 * frontend's state and the device's `online` node, the `error` node, and
 * the per-domain bookkeeping of the grant library's memory mappings.
 *
 * Everything here runs on the daemon's one xenstore thread. */
#ifndef TANDEM_BACKENDS_TDM_XBBACK_H
#define TANDEM_BACKENDS_TDM_XBBACK_H

#include <stdbool.h>
#include <xenstore.h>
#include "tdm_evtchn.h"
#include "tdm_gnttab.h"
#include "tdm_xenbus.h"

#define TDM_XBBACK_MAX_DEVICES 1024

struct tdm_xbback;

/* One device: /local/domain/0/backend/<type>/<fe>/<devid>. */
struct tdm_xbdev {
    struct tdm_xbback *bus;
    char dir[96];                  /* the backend directory */
    char token[120];               /* watch token: "<type>:<dir>" */
    char name[48];                 /* "vbd 3/768", for messages */
    char *fe_path;                 /* the frontend directory (checked) */
    unsigned fe_id, devid;
    int state;                     /* what we last wrote; UNKNOWN = fresh */
    bool usable;                   /* probe succeeded, watches set */
    bool counted;                  /* counted as connected for its domain */
    bool gone;                     /* a switch found its directory removed */
    bool renew;                    /* a switch found a new directory at its path */
    void *priv;                    /* the driver's */
    char fe_state[192], online[128];
};

struct tdm_xbdrv {
    const char *type;              /* "vbd", "vif" */
    const char *daemon;            /* "tandem-blkback", for messages */
    /* After the framework checked the frontend path and id: the driver
     * sets d->priv, opens what it serves and publishes its keys. 0, or -1
     * after tdm_xbdev_error (the device goes to Closing). */
    int (*probe)(struct tdm_xbdev *d);
    /* The frontend's state (or `online`) changed; fe = its state now.
     * Drivers with the usual handshake use tdm_xbdev_otherend_changed. */
    void (*otherend_changed)(struct tdm_xbdev *d, int fe);
    /* The handshake's halves (used by tdm_xbdev_otherend_changed):
     * connect reads the frontend's keys and starts serving (0, or -1 after
     * tdm_xbdev_error); disconnect stops (idempotent). */
    int (*connect)(struct tdm_xbdev *d);
    void (*disconnect)(struct tdm_xbdev *d);
    /* The device is going (directory removed, or the daemon stops; the
     * framework called disconnect first): free d->priv. */
    void (*remove)(struct tdm_xbdev *d);
    /* Optional: called about once a second for every usable device (e.g.
     * to publish counters, or report what a queue thread found). */
    void (*tick)(struct tdm_xbdev *d);
};

#define TDM_XBBACK_TICK_MS 1000

/* The daemon-wide handles, shared by every device. */
struct tdm_xbback {
    const struct tdm_xbdrv *drv;
    struct xs_handle *xs;
    struct tdm_gnttab *gnt;
    struct tdm_evtchn *evh;
    void *priv;                    /* the driver's options */
    struct tdm_xenbus_watch *watch;
    struct tdm_xbdev *dev[TDM_XBBACK_MAX_DEVICES];
    unsigned ndev;
};

/* Opens xenstore, the grant and event-channel libraries (run_dir as for
 * tdm_evtchn_open) and the device watch. 0, or -1 with a message printed. */
int tdm_xbback_open(struct tdm_xbback *b, const struct tdm_xbdrv *drv, const char *run_dir,
                    void *priv);

/* A signalfd for SIGTERM, SIGINT and SIGHUP (blocked in every thread
 * created after it); SIGPIPE ignored. -1 on error. */
int tdm_xbback_signal_fd(void);

/* Serves devices until a signal arrives on sfd (0) or xenstored goes away
 * (-1). Prints "<daemon>: ready" once the existing devices are probed. */
int tdm_xbback_serve(struct tdm_xbback *b, int sfd);

/* Switches every device to Closed, removes them and closes the handles. */
void tdm_xbback_close(struct tdm_xbback *b);

/* A backend daemon's main after its command line: signals, open, serve
 * until SIGTERM/SIGINT/SIGHUP, close. The exit status: 0 after a signal,
 * 1 if it could not start or lost xenstored. */
int tdm_xbback_run(const struct tdm_xbdrv *drv, const char *run_dir, void *priv);

/* ---- for the drivers ---- */

/* Logs "<daemon>: <name>: msg" and writes it to the device's `error` node. */
void tdm_xbdev_error(struct tdm_xbdev *d, const char *msg);

/* Writes our state, unless the device directory is gone (then nothing is
 * written: a late event must not re-create a removed directory). */
void tdm_xbdev_switch_state(struct tdm_xbdev *d, int state);

/* <dir>/<key> (malloc'd), NULL if absent. */
char *tdm_xbdev_read(struct tdm_xbdev *d, const char *key);

/* <dir>/<key> = v in decimal, in transaction t. */
bool tdm_xs_put_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key,
                     unsigned long long v);

/* Runs put(d, t, ctx) in a transaction of its own, started again on
 * EAGAIN (up to 16 times): the way to publish several keys at once. 0,
 * or -1 (put failed, or xenstore did). */
int tdm_xbdev_transact(struct tdm_xbdev *d,
                       bool (*put)(struct tdm_xbdev *d, xs_transaction_t t, void *ctx), void *ctx);

/* The toolstack asked for a detach (online = 0, as libxl writes). */
bool tdm_xbdev_offline(struct tdm_xbdev *d);

/* The usual backend half of the XenbusState handshake (level triggered:
 * coalesced or repeated events are harmless): frontend Initialised or
 * Connected while we wait in InitWait -> connect -> Connected; a frontend
 * that is connected to a ring from before we started -> Closed (it must
 * start over); Closing/Closed follow the frontend; online = 0 closes. */
void tdm_xbdev_otherend_changed(struct tdm_xbdev *d, int fe);

/* Around a connect: the first device of a domain to connect drops the
 * grant library's mapping of that domain (a domain destroyed and started
 * again under the same domid has a new VMM and new memory). */
void tdm_xbdev_connecting(struct tdm_xbdev *d);
void tdm_xbdev_mark_connected(struct tdm_xbdev *d, bool connected);

#endif

/*
 * xenbus: what split drivers use to talk to xenstore and to step through
 * the frontend/backend state machine (guest side).  Built on the xenstore
 * ring client (xenstore.h).  Paths without a leading '/' are relative to
 * /local/domain/<domid>.  Functions return 0 / a length / a count, or a
 * negative errno (-ENOENT, -EACCES, -EAGAIN, -ETIMEDOUT, -EIO, ...).
 *
 * Watches run a callback on the xenbus thread ("xenbus"), which reads every
 * watch event and dispatches it by token.  Callbacks run in thread context
 * (they may block and use every call here) but one at a time: a slow
 * callback delays the others.  As on Xen, xenstored fires each watch once
 * right after it is registered.
 *
 * Names follow dom0/xenbus (tdm_xenbus_*) and Xen's XenbusState.
 */
#ifndef TANDEM_GUEST_XENBUS_H
#define TANDEM_GUEST_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kerrno.h"
/* Linux/Xen numbers kerrno.h does not list (yet) */
#ifndef ENODEV
#define ENODEV 19
#endif
#ifndef ENAMETOOLONG
#define ENAMETOOLONG 36
#endif
#include "public/xen.h"

#define XENBUS_PATH_MAX  256 /* paths drivers build; longer ones get -ENAMETOOLONG */
#define XENBUS_TOKEN_MAX 32

/* Starts the watch thread; needs xenstore (xs_init).  0 or -errno. */
int xenbus_init(void);

/* ---- plain operations (t = XBT_NIL outside a transaction) ---- */

typedef uint32_t xenbus_transaction_t;
#define XBT_NIL ((xenbus_transaction_t)0)

/* Value into buf (NUL-terminated, truncated to len); returns its full length. */
int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t len);
int xenbus_write(xenbus_transaction_t t, const char *path, const char *value);
/* Writes <dir>/<node> = printf(fmt, ...). */
int xenbus_printf(xenbus_transaction_t t, const char *dir, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* <dir>/<node> as a strict decimal number <= max: 0, -ENOENT, -EINVAL (not a number). */
int xenbus_read_u64(xenbus_transaction_t t, const char *dir, const char *node, uint64_t max,
                    uint64_t *out);
/* The number a xenstore value holds: canonical decimal ("0", "42"; no
 * sign, space, hex or leading zero), at most max.  0 or -EINVAL. */
int xenbus_parse_u64(const char *s, uint64_t max, uint64_t *out);
int xenbus_mkdir(xenbus_transaction_t t, const char *path);
int xenbus_rm(xenbus_transaction_t t, const char *path);
/* Children of path into buf as NUL-separated names; returns how many
 * (-E2BIG if they do not fit). */
int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t len);
bool xenbus_exists(xenbus_transaction_t t, const char *path);

/* ---- transactions ---- */

int xenbus_transaction_start(xenbus_transaction_t *t);
/* Commits (abort = false) or aborts; -EAGAIN: someone else changed what
 * the transaction read or wrote — run it again. */
int xenbus_transaction_end(xenbus_transaction_t t, bool abort);

/* Runs fn(t, arg) in a transaction and commits it; when the commit (or a
 * call inside fn) reports -EAGAIN the whole transaction is run again, up to
 * max_tries times (0 = XENBUS_TX_TRIES).  If fn returns < 0 the transaction
 * is aborted and that value returned.  Returns 0 once committed, or
 * -EAGAIN when every try conflicted.  *tries (if given) = runs made. */
#define XENBUS_TX_TRIES 16
int xenbus_transaction_run(int (*fn)(xenbus_transaction_t t, void *arg), void *arg,
                           unsigned int max_tries, unsigned int *tries);

/* ---- watches with callbacks ---- */

struct xenbus_watch;
/* path: the node that changed (at or below the watched path). */
typedef void (*xenbus_watch_fn)(struct xenbus_watch *w, const char *path, void *arg);

/* Caller-owned (static or inside a driver's struct); fields are private. */
struct xenbus_watch {
    char path[XENBUS_PATH_MAX];
    char token[XENBUS_TOKEN_MAX];
    xenbus_watch_fn fn;
    void *arg;
    struct xenbus_watch *next;
    bool registered;
};

/* Registers a watch on path calling fn(w, changed_path, arg) on the xenbus
 * thread.  0 or -errno (w is then not registered); -EBUSY if w is
 * registered already, -EIO once xenstore is unusable.  Zero a new w (or
 * make it static) before the first call. */
int xenbus_watch_path(struct xenbus_watch *w, const char *path, xenbus_watch_fn fn, void *arg);
/* Removes it (may be called from any callback, its own included); no
 * call of fn starts after it returns and queued events for it are
 * dropped.  Called from another thread, a call already running on the
 * xenbus thread may still be finishing. */
int xenbus_unwatch(struct xenbus_watch *w);

/* Watch events dispatched so far (statistics, tests). */
uint64_t xenbus_watch_events(void);

/* ---- waiting ---- */

/* Waiting is driven by a watch on the node (no polling); timeout_ns 0
 * means no limit. */

/* Waits until path holds exactly `value`: 0, or -ETIMEDOUT after
 * timeout_ns (the node may also be absent meanwhile). */
int xenbus_wait_for_value(const char *path, const char *value, uint64_t timeout_ns);

/* Waits until check(value, ctx) is true, value being path's current value
 * or NULL while the node is absent or unreadable: 0 or -ETIMEDOUT. */
typedef bool (*xenbus_check_fn)(const char *value, void *ctx);
int xenbus_wait_for(const char *path, xenbus_check_fn check, void *ctx, uint64_t timeout_ns);

/* ---- the XenbusState machine ---- */

/* Xen's XenbusState numbers (io/xenbus.h). */
enum xenbus_state {
    XenbusStateUnknown       = 0,
    XenbusStateInitialising  = 1,
    XenbusStateInitWait      = 2,
    XenbusStateInitialised   = 3,
    XenbusStateConnected     = 4,
    XenbusStateClosing       = 5,
    XenbusStateClosed        = 6,
    XenbusStateReconfiguring = 7,
    XenbusStateReconfigured  = 8,
};
#define XENBUS_STATE_BIT(s) (1U << (s))

/* "Initialising", "InitWait", ...; "Invalid" for anything else. */
const char *xenbus_state_name(int state);
/* The state a value names (decimal 0..8, nothing else), or -EINVAL. */
int xenbus_state_parse(const char *value, size_t len);
/* <dir>/state: the state, XenbusStateUnknown if the node does not exist,
 * -EINVAL if it holds no state, other -errno if unreadable. */
int xenbus_read_state(xenbus_transaction_t t, const char *dir);
/* Writes <dir>/state unless it already holds `state`; with t == XBT_NIL
 * the read and the write share a transaction of their own (retried). */
int xenbus_switch_state(xenbus_transaction_t t, const char *dir, int state);
/* Waits until <dir>/state is one of the states in mask (XENBUS_STATE_BIT);
 * returns that state, or -ETIMEDOUT. */
int xenbus_wait_for_state_mask(const char *dir, unsigned int mask, uint64_t timeout_ns);
int xenbus_wait_for_state(const char *dir, int state, uint64_t timeout_ns);

/* Reads <dir>/<which> and <dir>/<which>-id, which = "backend" (from a
 * frontend directory) or "frontend".  The path must be absolute, below
 * /local/domain/<id>/backend/ (resp. /device/), with <id> equal to the
 * -id node (a strict decimal below DOMID_FIRST_RESERVED).  0, -ENOENT,
 * -EINVAL (inconsistent), -ENAMETOOLONG (path does not fit in len). */
int xenbus_read_otherend(xenbus_transaction_t t, const char *dir, const char *which, char *path,
                         size_t len, domid_t *domid);

/* ---- a frontend device (blkfront, netfront, ...) ---- */

struct xenbus_device;
/* Called on the xenbus thread when the other end's state node changes. */
typedef void (*xenbus_otherend_fn)(struct xenbus_device *dev, int state);

struct xenbus_device {
    char nodename[XENBUS_PATH_MAX]; /* absolute: /local/domain/<me>/device/<type>/<id> */
    char otherend[XENBUS_PATH_MAX]; /* backend directory */
    domid_t otherend_id;
    int otherend_state;             /* last state seen by the watch */
    xenbus_otherend_fn otherend_changed;
    void *priv;                     /* the driver's */
    struct xenbus_watch otherend_watch;
};

/* Lists device/<type> (e.g. "vbd"): ids as NUL-separated names; count. */
int xenbus_list_devices(const char *type, char *buf, size_t len);
/* Fills dev for device/<type>/<id>: nodename and the backend (otherend). */
int xenbus_device_init(struct xenbus_device *dev, const char *type, const char *id);
/* After a resume in a new domain (platform.domid is the new one): the
 * device's paths for the new domid, the backend read again and, if it was
 * watched, watched again with the same callback.  0 or -errno. */
int xenbus_device_resume(struct xenbus_device *dev, const char *type, const char *id);
/* Watches <otherend>/state; fn (may be NULL) runs on every change.  The
 * first call comes right away with the current state. */
int xenbus_watch_otherend(struct xenbus_device *dev, xenbus_otherend_fn fn);
void xenbus_unwatch_otherend(struct xenbus_device *dev);
/* Our own state node (nodename/state). */
int xenbus_dev_switch_state(struct xenbus_device *dev, int state);
/* Waits for the backend's state to be in mask; the state or -ETIMEDOUT. */
int xenbus_dev_wait_otherend(struct xenbus_device *dev, unsigned int mask, uint64_t timeout_ns);
/* Reports a fatal error as Xen's xenbus_dev_fatal: writes
 * error/<nodename>/error = "<-err> <message>", printk's it and switches
 * to Closing. */
void xenbus_dev_fatal(struct xenbus_device *dev, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

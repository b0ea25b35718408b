/* Backend-side xenbus helpers over libxenstore: the XenbusState machine's
 * `state` nodes, the other end's path and domid, and a watch that reports
 * devices appearing and disappearing under /local/domain/0/backend/<type>.
 * Everything read from xenstore is checked here before it is returned.
 *
 * Functions return -1 with errno and tdm_last_error() on failure. */
#ifndef TANDEM_DOM0_TDM_XENBUS_H
#define TANDEM_DOM0_TDM_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>
#include "tdm_error.h"

/* Xen's XenbusState numbers (io/xenbus.h). */
enum tdm_xenbus_state {
    TDM_XBS_UNKNOWN       = 0,
    TDM_XBS_INITIALISING  = 1,
    TDM_XBS_INIT_WAIT     = 2,
    TDM_XBS_INITIALISED   = 3,
    TDM_XBS_CONNECTED     = 4,
    TDM_XBS_CLOSING       = 5,
    TDM_XBS_CLOSED        = 6,
    TDM_XBS_RECONFIGURING = 7,
    TDM_XBS_RECONFIGURED  = 8,
};

/* "Initialising", "InitWait", ...; "Invalid" for anything else. */
const char *tdm_xenbus_state_name(int state);

/* The state a node's value names (decimal 0..8, nothing else), or -1. */
int tdm_xenbus_state_parse(const char *value, size_t len);

/* <dir>/state: the state, TDM_XBS_UNKNOWN if the node does not exist (as
 * Xen's xenbus_read_driver_state), -1 if unreadable or not a state. */
int tdm_xenbus_read_state(struct xs_handle *h, xs_transaction_t t, const char *dir);

/* Writes <dir>/state unless it already holds `state`. With t == XBT_NULL
 * the read and the write share a transaction of their own (retried on
 * EAGAIN). */
int tdm_xenbus_switch_state(struct xs_handle *h, xs_transaction_t t,
                            const char *dir, int state);

/* /local/domain/0/backend/<type>/<frontend-id>/<devid>[/...] */
struct tdm_xenbus_backend_id {
    char type[32];
    unsigned frontend_id;
    unsigned devid;
    size_t dir_len;          /* length of the device directory prefix */
};

/* 0 if `path` is a backend device directory or below one, -1 otherwise. */
int tdm_xenbus_parse_backend_path(const char *path, struct tdm_xenbus_backend_id *id);

/* Reads <dir>/<which> and <dir>/<which>-id, which = "frontend" (from a
 * backend directory) or "backend" (from a frontend directory). The path
 * must be /local/domain/<id>/device/... resp. /local/domain/<id>/backend/...
 * with <id> equal to the -id node. *path is malloc'd. */
int tdm_xenbus_read_otherend(struct xs_handle *h, xs_transaction_t t, const char *dir,
                             const char *which, char **path, unsigned *domid);

/* ---- Watching a backend type directory for devices ---- */

#define TDM_XENBUS_MAX_DEVICES 4096  /* per watch; more are reported as an error */

enum tdm_xenbus_dev_kind { TDM_XENBUS_DEV_ADDED = 1, TDM_XENBUS_DEV_REMOVED = 2 };

struct tdm_xenbus_dev_event {
    enum tdm_xenbus_dev_kind kind;
    unsigned frontend_id;
    unsigned devid;
    char dir[96];            /* /local/domain/0/backend/<type>/<fe>/<devid> */
};

struct tdm_xenbus_watch;

/* Watches /local/domain/0/backend/<type> on a xenstore connection of its
 * own (xs_open), so its events never mix with the caller's. Devices that
 * already exist are reported as added by the first tdm_xenbus_watch_next. */
struct tdm_xenbus_watch *tdm_xenbus_watch_backends(const char *type);
void tdm_xenbus_watch_close(struct tdm_xenbus_watch *w);

/* Readable when tdm_xenbus_watch_next may have something. */
int tdm_xenbus_watch_fd(struct tdm_xenbus_watch *w);

/* Non-blocking: 1 and *ev filled, 0 if nothing new, -1 on error. */
int tdm_xenbus_watch_next(struct tdm_xenbus_watch *w, struct tdm_xenbus_dev_event *ev);

/* Runs body(h, t, ctx) in a transaction and commits; a commit that fails
 * with EAGAIN (another writer touched a node the transaction read; every
 * new domain or device adds a child to a shared parent, so concurrent
 * creators conflict, as in Xen's xenstored) is retried, as libxl does,
 * after a random backoff that grows to TDM_XENBUS_TX_BACKOFF_MAX_US, for up
 * to TDM_XENBUS_TX_DEADLINE_NS. body returns >= 0 to commit (returned by
 * this function) or -1 with errno set to abort. -1 with errno on failure
 * (EAGAIN when the deadline passed). */
#define TDM_XENBUS_TX_DEADLINE_NS (30ULL * 1000000000ULL)
#define TDM_XENBUS_TX_BACKOFF_MAX_US 64000u
int tdm_xenbus_transact(struct xs_handle *h, int (*body)(struct xs_handle *h, xs_transaction_t t,
                                                         void *ctx),
                        void *ctx);

#endif

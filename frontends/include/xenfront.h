/*
 * xenfront: what every PV frontend (blkfront, netfront) shares of its
 * control path — finding device/<type>/<id> and its backend, the
 * XenbusState handshake (Initialising -> backend InitWait -> the driver's
 * keys + Initialised -> backend Connected -> Connected), a worker thread
 * that runs every (re)connect so the xenbus watch thread is never blocked,
 * and the reconnect when the backend leaves Connected (closed by the
 * toolstack, or killed and restarted: the new daemon writes Closed, or the
 * domain was saved and is restored under a new domid: a resume hook).
 *
 * The driver supplies callbacks (all run on the worker thread):
 *   setup(f)     backend is in InitWait: negotiate from its keys, build
 *                rings, grants, event channels; < 0 fails the attempt
 *   keys(t, f)   write the connection keys inside one transaction
 *   connected(f) backend is Connected: read what it published; < 0 fails
 *   up(f, again) we are Connected (again: after a reconnect)
 *   down(f)      the connection was lost (or an attempt failed): keep what
 *                must survive, tear the rings down
 *   dead(f)      cannot connect within the timeout, or detached: fail
 *                what waits
 * The driver's own threads wait on f->state_wq for f->state, and treat
 * f->backend_lost like "not connected".
 */
#ifndef TANDEM_GUEST_XENFRONT_H
#define TANDEM_GUEST_XENFRONT_H

#include <stdbool.h>
#include <stdint.h>
#include "suspend.h"
#include "thread.h"
#include "xenbus.h"

#define XENFRONT_CONNECT_TIMEOUT_NS (30ULL * 1000000000ULL)
#define XENFRONT_STEP_TIMEOUT_NS    (10ULL * 1000000000ULL)

enum xenfront_state { XENFRONT_CONNECTING, XENFRONT_CONNECTED, XENFRONT_DEAD };

struct xenfront;
struct xenfront_ops {
    int (*setup)(struct xenfront *f);
    int (*keys)(xenbus_transaction_t t, struct xenfront *f);
    int (*connected)(struct xenfront *f);
    void (*up)(struct xenfront *f, bool again);
    void (*down)(struct xenfront *f);
    void (*dead)(struct xenfront *f);
    /* Optional: a wake-up of every waiter of the driver (its queues). */
    void (*wake)(struct xenfront *f);
    /* Optional: restored in a new domain (suspend.h): the old domain's
     * event channels are gone, forget their ports (closing them would
     * close the new domain's). Runs before the reconnect. */
    void (*resumed)(struct xenfront *f);
};

struct xenfront {
    char name[24];                 /* for messages: "blkfront xvda" */
    struct xenbus_device xb;
    const struct xenfront_ops *ops;
    void *priv;                    /* the driver's device */
    volatile enum xenfront_state state;
    volatile bool backend_lost;    /* set by the watch: reconnect needed */
    volatile bool detached;        /* the toolstack removed the device (DEAD too) */
    struct waitq state_wq;         /* state changes; reconnect requests */
    struct thread *worker;
    uint64_t reconnects;
    char type[8], id[16];          /* device/<type>/<id>, for a resume */
    struct resume_hook resume;     /* after a restore: reconnect (suspend.h) */
};

/* Finds device/<type>/<id>, watches the backend, starts the worker and
 * waits until the first connect succeeded (0) or failed (-EIO; the error
 * is in xenstore, written with xenbus_dev_fatal).  On a failure after the
 * watch was registered f must stay allocated (the watch refers to it). */
int xenfront_start(struct xenfront *f, const char *type, const char *id,
                   const struct xenfront_ops *ops, void *priv);
/* True when f must not be freed after a failed xenfront_start. */
bool xenfront_in_use(const struct xenfront *f);
/* Frontend-initiated close, as Linux: Closing, backend Closing/Closed,
 * Closed.  The driver drains its requests first; down() runs at the end. */
void xenfront_close(struct xenfront *f);
/* Prints "<name>: <step>: error <rc>" and returns rc (< 0). */
int xenfront_fail(struct xenfront *f, const char *step, int rc);
/* <backend>/<node> as a number <= max, or dflt when absent or bad. */
uint64_t xenfront_backend_u64(struct xenfront *f, const char *node, uint64_t max, uint64_t dflt);
/* Hotplug. A device attached after boot (tandem block-attach /
 * network-attach): waits until device/<type>/<id> is written (a watch, no
 * polling): 0 or -ETIMEDOUT. A detach (xl's: backend Closing with
 * online = 0, the frontend closes, the toolstack removes the directories)
 * is noticed when the reset finds the backend's directory gone: down()
 * and dead() run, the state is DEAD and detached is set, instead of a
 * reconnect. xenfront_wait_detached waits for that (deadline: system
 * time, 0 = none): true, or false when it passed. */
int xenfront_wait_present(const char *type, const char *id, uint64_t timeout_ns);
bool xenfront_wait_detached(struct xenfront *f, uint64_t deadline);
/* Wakes state_wq and the driver's waiters. */
void xenfront_wake(struct xenfront *f);

#endif

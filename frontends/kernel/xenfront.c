/*
 * The control path every PV frontend shares (xenfront.h): the handshake,
 * the worker that runs each (re)connect, and the reconnect when the
 * backend leaves Connected (docs/blkback.md "frontend duty"; the same for
 * netback).  The drivers only say what their rings and keys are.
 */
#include "xenfront.h"
#include "kerrno.h"
#include "kernel.h"
#include "ktime.h"

int xenfront_fail(struct xenfront *f, const char *step, int rc)
{
    printk("%s: %s: error %d\n", f->name, step, rc);
    return rc < 0 ? rc : -EIO;
}

uint64_t xenfront_backend_u64(struct xenfront *f, const char *node, uint64_t max, uint64_t dflt)
{
    uint64_t v;
    return xenbus_read_u64(XBT_NIL, f->xb.otherend, node, max, &v) == 0 ? v : dflt;
}

void xenfront_wake(struct xenfront *f)
{
    waitq_wake_all(&f->state_wq);
    if (f->ops->wake)
        f->ops->wake(f);
}

/* The toolstack removed the backend's directory (tandem block-detach /
 * network-detach, xl's, once the backend reached Closed): the device is
 * gone, it is not a backend restart. */
static bool backend_gone(struct xenfront *f)
{
    return !xenbus_exists(XBT_NIL, f->xb.otherend);
}

/* Back to Initialising after a connection was lost, so that the backend
 * resets (Closed) and offers InitWait again; -ENODEV when its directory
 * went meanwhile (a detach). As Linux's xenbus_reset_frontend, only the
 * backend's Closed answers our Closed: an InitWait seen then is from
 * before it read ours (a restored domain's fresh backend sits in InitWait),
 * and taking it let us reach Initialised just as the backend's answer,
 * Closed, came, which failed the connect (pv_restart, 2026-12-04). */
static int reset_handshake(struct xenfront *f)
{
    xenbus_dev_switch_state(&f->xb, XenbusStateClosed);
    int s = xenbus_dev_wait_otherend(&f->xb, XENBUS_STATE_BIT(XenbusStateClosed) |
                                                 XENBUS_STATE_BIT(XenbusStateUnknown),
                                     XENFRONT_CONNECT_TIMEOUT_NS);
    if (s == XenbusStateUnknown && backend_gone(f))
        return -ENODEV;
    if (s < 0 || s == XenbusStateUnknown)
        return xenfront_fail(f, "waiting for the backend to close", s < 0 ? s : -EIO);
    return xenbus_dev_switch_state(&f->xb, XenbusStateInitialising);
}

static int write_keys(xenbus_transaction_t t, void *arg)
{
    struct xenfront *f = arg;
    return f->ops->keys(t, f);
}

static int connect(struct xenfront *f, bool again)
{
    int rc;
    if (again && (rc = reset_handshake(f)) < 0)
        return rc;
    /* After a close the backend's directory may go (a detach): -ENODEV. */
    unsigned int gone = again ? XENBUS_STATE_BIT(XenbusStateUnknown) : 0;
    int s = xenbus_dev_wait_otherend(&f->xb, XENBUS_STATE_BIT(XenbusStateInitWait) | gone,
                                     XENFRONT_CONNECT_TIMEOUT_NS);
    if (s == XenbusStateUnknown && backend_gone(f))
        return -ENODEV;
    if (s < 0 || s == XenbusStateUnknown)
        return xenfront_fail(f, "waiting for backend InitWait", s < 0 ? s : -EIO);
    if ((rc = f->ops->setup(f)) < 0)
        return rc;
    if ((rc = xenbus_transaction_run(write_keys, f, 0, NULL)) < 0)
        return xenfront_fail(f, "writing the ring keys", rc);
    xenbus_dev_switch_state(&f->xb, XenbusStateInitialised);
    s = xenbus_dev_wait_otherend(&f->xb, XENBUS_STATE_BIT(XenbusStateConnected) |
                                             XENBUS_STATE_BIT(XenbusStateClosing) |
                                             XENBUS_STATE_BIT(XenbusStateClosed),
                                 XENFRONT_STEP_TIMEOUT_NS);
    if (s != XenbusStateConnected)
        return xenfront_fail(f, "waiting for backend Connected", s < 0 ? s : -EIO);
    if (f->ops->connected && (rc = f->ops->connected(f)) < 0)
        return rc;
    return xenbus_dev_switch_state(&f->xb, XenbusStateConnected);
}

static void otherend_changed(struct xenbus_device *xb, int state)
{
    struct xenfront *f = xb->priv;
    if (f->state != XENFRONT_CONNECTED)
        return;
    if (state == XenbusStateClosing || state == XenbusStateClosed ||
        state == XenbusStateUnknown || state == XenbusStateInitWait ||
        state == XenbusStateInitialising) {
        f->backend_lost = true;
        xenfront_wake(f);
    }
}

static void worker(void *arg)
{
    struct xenfront *f = arg;
    bool again = false;
    for (;;) {
        int rc = connect(f, again);
        /* A step of the reset may also fail because the directories went
         * meanwhile (our own state write, say): that is a detach too. */
        if (rc == -ENODEV || (rc < 0 && again && backend_gone(f))) {
            printk("%s: detached by the toolstack (backend directory removed)\n", f->name);
            f->ops->down(f);
            f->state = XENFRONT_DEAD;
            f->detached = true;
            f->ops->dead(f);
            xenfront_wake(f);
            thread_exit();
        }
        if (rc < 0) {
            f->ops->down(f);
            f->state = XENFRONT_DEAD;
            f->ops->dead(f);
            xenbus_dev_fatal(&f->xb, -EIO, "cannot connect to the backend");
            xenfront_wake(f);
            thread_exit();
        }
        f->state = XENFRONT_CONNECTED;
        f->ops->up(f, again);
        xenfront_wake(f);
        wait_event(&f->state_wq, f->backend_lost);
        f->state = XENFRONT_CONNECTING;
        printk("%s: backend left Connected (state %d); reconnecting\n", f->name,
               f->xb.otherend_state);
        f->ops->down(f);
        f->backend_lost = false;
        f->reconnects++;
        again = true;
    }
}

/* Restored in a new domain (suspend.h): the device's paths name the new
 * domid, the ports died with the old domain, and the reconnect a restarted
 * backend gets does the rest. */
static void resumed(void *arg)
{
    struct xenfront *f = arg;
    if (f->ops->resumed)
        f->ops->resumed(f);
    int rc = xenbus_device_resume(&f->xb, f->type, f->id);
    if (rc < 0)
        printk("%s: device/%s/%s after the restore: error %d\n", f->name, f->type, f->id, rc);
    if (f->state == XENFRONT_CONNECTED) {
        f->backend_lost = true;
        xenfront_wake(f);
    }
}

int xenfront_start(struct xenfront *f, const char *type, const char *id,
                   const struct xenfront_ops *ops, void *priv)
{
    int rc;
    f->ops = ops;
    f->priv = priv;
    snprintf(f->type, sizeof(f->type), "%s", type);
    snprintf(f->id, sizeof(f->id), "%s", id);
    if ((rc = xenbus_init()) < 0)
        return rc;
    if ((rc = xenbus_device_init(&f->xb, type, id)) < 0) {
        printk("%s: no device/%s/%s (%d)\n", f->name, type, id, rc);
        return rc;
    }
    f->xb.priv = f;
    f->state = XENFRONT_CONNECTING;
    if ((rc = xenbus_watch_otherend(&f->xb, otherend_changed)) < 0)
        return rc;
    f->worker = thread_create(type, worker, f);
    if (!f->worker)
        return -ENOMEM;
    wait_event(&f->state_wq, f->state != XENFRONT_CONNECTING);
    if (f->state == XENFRONT_DEAD)
        return -EIO;
    suspend_add_resume_hook(&f->resume, resumed, f);
    return 0;
}

bool xenfront_in_use(const struct xenfront *f)
{
    return f->worker || f->xb.otherend_watch.registered;
}

static bool node_present(const char *value, void *ctx)
{
    (void)ctx;
    return value != NULL;
}

int xenfront_wait_present(const char *type, const char *id, uint64_t timeout_ns)
{
    char path[64];
    int rc;
    if ((rc = xenbus_init()) < 0)
        return rc;
    /* The toolstack writes the directory in one transaction: its backend
     * link appears with everything else. */
    snprintf(path, sizeof(path), "device/%s/%s/backend", type, id);
    return xenbus_wait_for(path, node_present, NULL, timeout_ns);
}

bool xenfront_wait_detached(struct xenfront *f, uint64_t deadline)
{
    return wait_event_until(&f->state_wq, f->detached, deadline);
}

void xenfront_close(struct xenfront *f)
{
    suspend_remove_resume_hook(&f->resume);
    xenbus_unwatch_otherend(&f->xb);
    if (f->detached)   /* closed already; the directories are going */
        return;
    f->state = XENFRONT_DEAD;
    xenbus_dev_switch_state(&f->xb, XenbusStateClosing);
    xenbus_dev_wait_otherend(&f->xb, XENBUS_STATE_BIT(XenbusStateClosing) |
                                         XENBUS_STATE_BIT(XenbusStateClosed),
                             XENFRONT_STEP_TIMEOUT_NS);
    xenbus_dev_switch_state(&f->xb, XenbusStateClosed);
    xenbus_dev_wait_otherend(&f->xb, XENBUS_STATE_BIT(XenbusStateClosed),
                             XENFRONT_STEP_TIMEOUT_NS);
    f->ops->down(f);
}

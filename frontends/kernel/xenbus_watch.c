/*
 * xenbus watches (see xenbus.h): one thread reads every watch event from
 * the xenstore client and calls the callback registered under its token.
 * Tokens are ours ("xb<n>"), so an event naming an unknown token — one
 * queued before its watch was removed — is simply dropped.  Waiting for a
 * value is a temporary watch whose callback wakes the waiter, which then
 * reads the node again: no polling.
 */
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "spinlock.h"
#include "thread.h"
#include "xenbus.h"
#include "xenstore.h"

#define EVENT_PATH_MAX 1024 /* longer paths reach callbacks truncated */

static struct {
    bool started;
    bool dead;                     /* the thread stopped: xenstore is gone */
    struct spinlock lock;
    struct xenbus_watch *list;
    struct xenbus_watch *running;  /* whose callback is being called */
    struct thread *thread;
    struct waitq done_wq;          /* woken after each callback */
    uint32_t next_token;
    uint64_t events;
} xw;

uint64_t xenbus_watch_events(void)
{
    return READ_ONCE(xw.events);
}

/* Finds the watch for token and marks it running; NULL if none. */
static struct xenbus_watch *claim(const char *token)
{
    unsigned long flags = spin_lock_irqsave(&xw.lock);
    struct xenbus_watch *w = xw.list;
    while (w && strcmp(w->token, token) != 0)
        w = w->next;
    xw.running = w;
    spin_unlock_irqrestore(&xw.lock, flags);
    return w;
}

static void release(void)
{
    unsigned long flags = spin_lock_irqsave(&xw.lock);
    xw.running = NULL;
    spin_unlock_irqrestore(&xw.lock, flags);
    waitq_wake_all(&xw.done_wq);
}

static void watch_thread(void *arg)
{
    (void)arg;
    static char path[EVENT_PATH_MAX];
    char token[XENBUS_TOKEN_MAX];
    for (;;) {
        int r = xs_read_watch(path, sizeof(path), token, sizeof(token), 0);
        if (r < 0) {
            printk("xenbus: watch thread stops: xenstore unusable (%d)\n", r);
            __atomic_store_n(&xw.dead, true, __ATOMIC_RELEASE);
            thread_exit();
        }
        struct xenbus_watch *w = claim(token);
        if (w) {
            xw.events++;
            w->fn(w, path, w->arg);
        }
        release();
    }
}

int xenbus_init(void)
{
    if (__atomic_exchange_n(&xw.started, true, __ATOMIC_ACQ_REL)) {
        if (__atomic_load_n(&xw.dead, __ATOMIC_ACQUIRE))
            return -EIO;
        return xw.thread ? 0 : -ENOMEM;
    }
    if (!xs_available()) {
        xw.started = false;
        return -ENODEV;
    }
    xw.thread = thread_create_on(0, "xenbus", watch_thread, NULL);
    if (!xw.thread) {
        printk("xenbus: cannot create the watch thread\n");
        return -ENOMEM;
    }
    return 0;
}

static void unlink(struct xenbus_watch *w)
{
    unsigned long flags = spin_lock_irqsave(&xw.lock);
    for (struct xenbus_watch **pp = &xw.list; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    w->registered = false;
    spin_unlock_irqrestore(&xw.lock, flags);
}

int xenbus_watch_path(struct xenbus_watch *w, const char *path, xenbus_watch_fn fn, void *arg)
{
    int r = xenbus_init();
    if (r < 0)
        return r;
    if (w->registered)
        return -EBUSY; /* relinking it would corrupt the list */
    if (strlen(path) >= sizeof(w->path))
        return -ENAMETOOLONG;
    strlcpy(w->path, path, sizeof(w->path));
    w->fn = fn;
    w->arg = arg;
    unsigned long flags = spin_lock_irqsave(&xw.lock);
    snprintf(w->token, sizeof(w->token), "xb%u", ++xw.next_token);
    /* listed before XS_WATCH: its first event may be read before the reply */
    w->next = xw.list;
    xw.list = w;
    w->registered = true;
    spin_unlock_irqrestore(&xw.lock, flags);
    r = xs_watch(w->path, w->token);
    if (r < 0)
        unlink(w);
    return r;
}

static bool not_running(struct xenbus_watch *w)
{
    return READ_ONCE(xw.running) != w;
}

int xenbus_unwatch(struct xenbus_watch *w)
{
    if (!w->registered)
        return -EINVAL;
    unlink(w);
    /* from its own (or any) callback the xenbus thread is us: nothing to wait for */
    if (thread_current() != xw.thread)
        wait_event(&xw.done_wq, not_running(w));
    return xs_unwatch(w->path, w->token);
}

/* ---- waiting for a node ---- */

struct waiter {
    struct waitq wq;
    bool fired;
};

static void waiter_fired(struct xenbus_watch *w, const char *path, void *arg)
{
    (void)w;
    (void)path;
    struct waiter *wt = arg;
    wt->fired = true;
    waitq_wake_all(&wt->wq);
}

int xenbus_wait_for(const char *path, xenbus_check_fn check, void *ctx, uint64_t timeout_ns)
{
    uint64_t deadline = timeout_ns ? monotonic_ns() + timeout_ns : 0;
    struct waiter wt = { .wq = WAITQ_INIT };
    struct xenbus_watch w;
    memset(&w, 0, sizeof(w));
    int r = xenbus_watch_path(&w, path, waiter_fired, &wt);
    if (r < 0)
        return r;
    char value[XENBUS_PATH_MAX];
    for (;;) {
        wt.fired = false; /* before the read: a change after it fires again */
        int n = xs_read(path, value, sizeof(value));
        if (check(n >= 0 ? value : NULL, ctx)) {
            r = 0;
            break;
        }
        if (n == -EIO || n == -ETIMEDOUT) {
            r = n; /* xenstore itself is gone */
            break;
        }
        if (!wait_event_until(&wt.wq, wt.fired, deadline)) {
            r = -ETIMEDOUT;
            break;
        }
    }
    xenbus_unwatch(&w);
    return r;
}

static bool value_is(const char *value, void *ctx)
{
    return value && strcmp(value, ctx) == 0;
}

int xenbus_wait_for_value(const char *path, const char *value, uint64_t timeout_ns)
{
    return xenbus_wait_for(path, value_is, (void *)value, timeout_ns);
}

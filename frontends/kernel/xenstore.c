/*
 * Xenstore client (see xenstore.h).  Requests are written to req[] in
 * pieces as space frees up (a message may be larger than the ring), with
 * a doorbell notify after each piece.  Whoever waits — a requester or a
 * watch reader — pumps rsp[]: bytes are reassembled into one message
 * buffer, the header is checked (length within XENSTORE_PAYLOAD_MAX),
 * and complete messages are dispatched: watch events to a bounded queue,
 * the reply matching the outstanding req_id to the requester.  Anything
 * malformed marks the connection broken instead of being trusted.
 */
#include "evtchn.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"
#include "public/io/xs_wire.h"
#include "spinlock.h"
#include "thread.h"
#include "xenstore.h"
#include "xsframe.h"

#define MAX_QUEUED_EVENTS 64
#define MAX_WATCHES 64       /* registered watches, sent again after a resume */

struct watch_event {
    struct watch_event *next;
    char *path, *token; /* point into data */
    char data[];
};

static struct {
    volatile struct xenstore_domain_interface *ring;
    uint32_t port;
    bool broken;
    struct waitq wq;          /* woken on every event from xenstored */
    struct spinlock pump_lock;
    /* request side */
    struct thread *owner;     /* thread with the one request in flight */
    struct waitq busy_wq;
    uint32_t next_req_id;
    uint32_t want_req_id;
    bool reply_ready;
    uint32_t reply_type;
    char *reply;              /* malloc'd, NUL-terminated */
    uint32_t reply_len;
    struct xs_frame rx;       /* receive side */
    struct watch_event *ev_head, *ev_tail;
    unsigned int ev_count;
    char *watches[MAX_WATCHES]; /* "path\0token\0" of each watch xenstored holds for us */
} xs;

static void xs_event(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    waitq_wake_all(&xs.wq);
}

bool xs_init(uint64_t ring_gpa, uint32_t port)
{
    xs.ring = phys_to_virt(ring_gpa);
    xs.port = port;
    xs.next_req_id = 1;
    if (evtchn_bind(port, xs_event, NULL) < 0) {
        printk("xenstore: cannot bind event channel %u\n", port);
        xs.ring = NULL;
        return false;
    }
    return true;
}

bool xs_available(void)
{
    return xs.ring && !xs.broken;
}

static void mark_broken(const char *why)
{
    if (!xs.broken)
        printk("xenstore: connection unusable: %s\n", why);
    xs.broken = true;
    waitq_wake_all(&xs.wq);
}

static void queue_watch_event(const char *payload, uint32_t len)
{
    const char *path, *token;
    if (xs_parse_watch_event(payload, len, &path, &token) < 0) {
        printk("xenstore: dropping malformed watch event (%u bytes)\n", len);
        return;
    }
    if (xs.ev_count == MAX_QUEUED_EVENTS) {
        printk("xenstore: watch event queue full, dropping one\n");
        return;
    }
    struct watch_event *ev = malloc(sizeof(*ev) + len);
    if (!ev)
        return;
    memcpy(ev->data, payload, len);
    ev->path = ev->data;
    ev->token = ev->data + (token - payload);
    ev->next = NULL;
    if (xs.ev_tail)
        xs.ev_tail->next = ev;
    else
        xs.ev_head = ev;
    xs.ev_tail = ev;
    xs.ev_count++;
}

static void dispatch_message(void)
{
    const struct xsd_sockmsg *h = &xs.rx.msg.hdr;
    const char *payload = xs_frame_payload(&xs.rx);
    if (h->type == XS_WATCH_EVENT) {
        queue_watch_event(payload, h->len);
        return;
    }
    if (!xs.owner || xs.reply_ready || h->req_id != xs.want_req_id) {
        printk("xenstore: dropping unexpected reply (type %u, req_id %u)\n", h->type, h->req_id);
        return;
    }
    char *copy = malloc(h->len + 1);
    if (copy) {
        memcpy(copy, payload, h->len);
        copy[h->len] = '\0';
    }
    xs.reply = copy;
    xs.reply_len = h->len;
    xs.reply_type = copy ? h->type : XS_ERROR;
    xs.reply_ready = true;
}

/* Moves whatever xenstored has written into the reassembly buffer and
 * dispatches complete messages.  Non-blocking. */
static void pump(void)
{
    volatile struct xenstore_domain_interface *r = xs.ring;
    unsigned long flags = spin_lock_irqsave(&xs.pump_lock);
    uint32_t cons0 = r->rsp_cons, cons = cons0;
    while (!xs.broken) {
        uint32_t prod = READ_ONCE(r->rsp_prod);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        int st = xs_frame_feed(&xs.rx, r->rsp, &cons, prod);
        if (st == XS_FRAME_BAD_INDEX)
            mark_broken("rsp ring indexes out of range");
        else if (st == XS_FRAME_TOO_LONG)
            mark_broken("message longer than XENSTORE_PAYLOAD_MAX");
        if (st != XS_FRAME_READY)
            break;
        dispatch_message();
        xs_frame_reset(&xs.rx);
    }
    if (cons != cons0) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        r->rsp_cons = cons;
    }
    spin_unlock_irqrestore(&xs.pump_lock, flags);
    if (cons != cons0)
        evtchn_notify(xs.port);
}

/* Waits on the xenstore event until cond() or the deadline.  No doorbell
 * re-ringing: tandem-vmm introduces the domain while it boots, so our
 * first requests may be on the ring before xenstored attaches, but
 * xenstored serves whatever is queued at INTRODUCE and then notifies us
 * (docs/xenstore.md, "Domains and the ring"); cond() pumps the ring, so a
 * reply that arrived before we slept is seen without an event. */
static bool xs_wait(bool (*cond)(void), uint64_t deadline)
{
    return wait_event_until(&xs.wq, cond(), deadline);
}

static bool pump_until_reply(void)
{
    pump();
    return xs.reply_ready || xs.broken;
}

static bool pump_until_space(void)
{
    pump();
    return xs.broken || xs.ring->req_prod - READ_ONCE(xs.ring->req_cons) < XENSTORE_RING_SIZE;
}

static int write_bytes(const void *data, size_t len, uint64_t deadline)
{
    volatile struct xenstore_domain_interface *r = xs.ring;
    const char *p = data;
    while (len) {
        if (!xs_wait(pump_until_space, deadline))
            return -ETIMEDOUT;
        if (xs.broken)
            return -EIO;
        uint32_t prod = r->req_prod, cons = READ_ONCE(r->req_cons);
        if (prod - cons > XENSTORE_RING_SIZE) {
            mark_broken("req ring indexes out of range");
            return -EIO;
        }
        while (len && prod - cons < XENSTORE_RING_SIZE) {
            r->req[MASK_XENSTORE_IDX(prod)] = *p++;
            prod++;
            len--;
        }
        __atomic_thread_fence(__ATOMIC_RELEASE);
        r->req_prod = prod;
        evtchn_notify(xs.port);
    }
    return 0;
}

/* Takes the single request slot; true again if we already hold it (the
 * wait_event condition may be evaluated more than once). */
static bool try_own(void)
{
    struct thread *me = thread_current(), *none = NULL;
    if (__atomic_load_n(&xs.owner, __ATOMIC_ACQUIRE) == me)
        return true;
    return __atomic_compare_exchange_n(&xs.owner, &none, me, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* Sends one request made of NUL-separated parts and waits for its reply.
 * On success *reply (if given) gets the malloc'd payload. */
static int request(uint32_t type, uint32_t tx, const char *const parts[], const size_t lens[],
                   int nparts, char **reply, uint32_t *reply_len)
{
    if (!xs_available())
        return -EIO;
    uint64_t deadline = monotonic_ns() + XS_TIMEOUT_NS;
    uint32_t total = 0;
    for (int i = 0; i < nparts; i++)
        total += (uint32_t)lens[i];
    if (total > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    if (!wait_event_until(&xs.busy_wq, try_own(), deadline))
        return -ETIMEDOUT;
    xs.reply_ready = false;
    xs.want_req_id = xs.next_req_id++;
    struct xsd_sockmsg h = { .type = type, .req_id = xs.want_req_id, .tx_id = tx, .len = total };
    int r = write_bytes(&h, sizeof(h), deadline);
    for (int i = 0; r == 0 && i < nparts; i++)
        r = write_bytes(parts[i], lens[i], deadline);
    if (r == 0 && !xs_wait(pump_until_reply, deadline))
        r = -ETIMEDOUT;
    if (r == 0 && !xs.reply_ready)
        r = -EIO;
    if (r == 0 && xs.reply_type == XS_ERROR)
        r = xs.reply ? xs_error_from_name(xs.reply, xs.reply_len) : -ENOMEM;
    else if (r == 0 && xs.reply_type != type)
        r = -EPROTO;
    if (r == 0 && reply) {
        *reply = xs.reply;
        if (reply_len)
            *reply_len = xs.reply_len;
    } else {
        free(xs.reply);
    }
    xs.reply = NULL;
    xs.reply_ready = false;
    xs.want_req_id = 0;
    __atomic_store_n(&xs.owner, NULL, __ATOMIC_RELEASE);
    waitq_wake_all(&xs.busy_wq);
    return r;
}

int xs_read_tx(uint32_t tx, const char *path, char *buf, size_t len)
{
    const char *parts[] = { path };
    size_t lens[] = { strlen(path) + 1 };
    char *reply;
    uint32_t n;
    int r = request(XS_READ, tx, parts, lens, 1, &reply, &n);
    if (r < 0)
        return r;
    if (len)
        strlcpy(buf, reply, len); /* the value itself carries no NUL */
    free(reply);
    return (int)n;
}

int xs_directory_tx(uint32_t tx, const char *path, char *buf, size_t len)
{
    const char *parts[] = { path };
    size_t lens[] = { strlen(path) + 1 };
    char *reply;
    uint32_t n;
    int r = request(XS_DIRECTORY, tx, parts, lens, 1, &reply, &n);
    if (r < 0)
        return r;
    int count = 0;
    for (uint32_t i = 0; i < n; i++)
        count += reply[i] == '\0';
    if (n > len)
        r = -E2BIG;
    else
        memcpy(buf, reply, n);
    free(reply);
    return r < 0 ? r : count;
}

int xs_directory(const char *path, char *buf, size_t len)
{
    return xs_directory_tx(0, path, buf, len);
}

int xs_read(const char *path, char *buf, size_t len)
{
    return xs_read_tx(0, path, buf, len);
}

static int simple_request(uint32_t type, uint32_t tx, const char *a, const char *b, bool b_nul)
{
    const char *parts[] = { a, b };
    size_t lens[] = { strlen(a) + 1, b ? strlen(b) + (b_nul ? 1 : 0) : 0 };
    return request(type, tx, parts, lens, b ? 2 : 1, NULL, NULL);
}

int xs_write_tx(uint32_t tx, const char *path, const char *value)
{
    return simple_request(XS_WRITE, tx, path, value, false);
}

int xs_write(const char *path, const char *value)
{
    return xs_write_tx(0, path, value);
}

int xs_rm_tx(uint32_t tx, const char *path)
{
    return simple_request(XS_RM, tx, path, NULL, false);
}

int xs_rm(const char *path)
{
    return xs_rm_tx(0, path);
}

int xs_mkdir_tx(uint32_t tx, const char *path)
{
    return simple_request(XS_MKDIR, tx, path, NULL, false);
}

int xs_mkdir(const char *path)
{
    return xs_mkdir_tx(0, path);
}

/* The slot of (path, token) in xs.watches, or of a free one (path NULL). */
static int watch_slot(const char *path, const char *token)
{
    for (int i = 0; i < MAX_WATCHES; i++) {
        const char *w = xs.watches[i];
        if (!path ? !w : (w && !strcmp(w, path) && !strcmp(w + strlen(w) + 1, token)))
            return i;
    }
    return -1;
}

static void remember_watch(const char *path, const char *token)
{
    if (watch_slot(path, token) >= 0)
        return;
    int i = watch_slot(NULL, NULL);
    size_t lp = strlen(path) + 1, lt = strlen(token) + 1;
    char *w = i >= 0 ? malloc(lp + lt) : NULL;
    if (!w) {
        printk("xenstore: cannot remember watch %s; it is not renewed after a resume\n", path);
        return;
    }
    memcpy(w, path, lp);
    memcpy(w + lp, token, lt);
    xs.watches[i] = w;
}

static void forget_watch(const char *path, const char *token)
{
    int i = watch_slot(path, token);
    if (i >= 0) {
        free(xs.watches[i]);
        xs.watches[i] = NULL;
    }
}

int xs_watch(const char *path, const char *token)
{
    int r = simple_request(XS_WATCH, 0, path, token, true);
    if (r == 0)
        remember_watch(path, token);
    return r;
}

int xs_unwatch(const char *path, const char *token)
{
    forget_watch(path, token);
    return simple_request(XS_UNWATCH, 0, path, token, true);
}

/* ---- suspend and resume ---- */

int xs_suspend(void)
{
    if (!xs.ring)
        return 0;
    uint64_t deadline = monotonic_ns() + XS_TIMEOUT_NS;
    return wait_event_until(&xs.busy_wq, try_own(), deadline) ? 0 : -ETIMEDOUT;
}

static void drop_events(void)
{
    unsigned long flags = spin_lock_irqsave(&xs.pump_lock);
    struct watch_event *ev = xs.ev_head;
    xs.ev_head = xs.ev_tail = NULL;
    xs.ev_count = 0;
    xs_frame_reset(&xs.rx);
    spin_unlock_irqrestore(&xs.pump_lock, flags);
    while (ev) {
        struct watch_event *next = ev->next;
        free(ev);
        ev = next;
    }
}

void xs_resume(bool new_domain)
{
    if (!xs.ring)
        return;
    if (new_domain) {
        /* A new connection: the ring starts at 0 (tandem-vmm reset it),
         * nothing half-read survives, the events queued were the old
         * domain's, and the port is bound again. */
        drop_events();
        xs.broken = false;
        evtchn_bind(xs.port, xs_event, NULL);
    }
    __atomic_store_n(&xs.owner, NULL, __ATOMIC_RELEASE);
    waitq_wake_all(&xs.busy_wq);
    if (!new_domain)
        return;
    for (int i = 0; i < MAX_WATCHES; i++) {
        const char *w = xs.watches[i];
        if (w && simple_request(XS_WATCH, 0, w, w + strlen(w) + 1, true) < 0)
            printk("xenstore: watch %s could not be renewed\n", w);
    }
}

int xs_transaction_start(uint32_t *tx)
{
    const char *parts[] = { "" };
    size_t lens[] = { 1 };
    char *reply;
    uint32_t n;
    int r = request(XS_TRANSACTION_START, 0, parts, lens, 1, &reply, &n);
    if (r < 0)
        return r;
    uint64_t id;
    /* the id is decimal text; 0 would mean "no transaction" */
    if (parse_u64(reply, UINT32_MAX, &id) < 0 || id == 0)
        r = -EPROTO;
    else
        *tx = (uint32_t)id;
    free(reply);
    return r;
}

int xs_transaction_end(uint32_t tx, bool commit)
{
    return simple_request(XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL, false);
}

static bool pump_until_event(void)
{
    pump();
    return xs.ev_head || xs.broken;
}

int xs_read_watch(char *path, size_t plen, char *token, size_t tlen, uint64_t deadline)
{
    if (!xs.ring)
        return -EIO;
    if (!wait_event_until(&xs.wq, pump_until_event(), deadline))
        return -ETIMEDOUT; /* events come unasked: no need to ring */
    unsigned long flags = spin_lock_irqsave(&xs.pump_lock);
    struct watch_event *ev = xs.ev_head;
    if (ev) {
        xs.ev_head = ev->next;
        if (!xs.ev_head)
            xs.ev_tail = NULL;
        xs.ev_count--;
    }
    spin_unlock_irqrestore(&xs.pump_lock, flags);
    if (!ev)
        return -EIO;
    strlcpy(path, ev->path, plen);
    strlcpy(token, ev->token, tlen);
    free(ev);
    return 0;
}

/*
 * Connections, whatever the transport (unix socket, domain ring, in-memory
 * for tests): input framing buffer, per-connection output queue written
 * through when possible, the outstanding-requests limit (stop reading, as
 * Xen), and dropping of clients that stall or overflow their queue.
 *
 * Memory: besides each connection's XSD_OUTQ_MAX, all queued output
 * together is bounded by xsd_outq_total_max.  Past it the slowest reader
 * (the connection with the most queued) pays: a domain's ring loses its
 * unsent watch events, as Xen drops a guest's events past its memory
 * quota; a socket client is closed.  Logged either way.
 *
 * Fairness: a connection is served at most XSD_BATCH requests per round of
 * the event loop (ev_run_once).  One that had more is put on the backlog;
 * the loop then polls without sleeping and serves the backlog after the
 * ready descriptors, so a client pipelining requests (or a guest spinning
 * on its ring) shares the loop with everybody else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xenstored.h"

struct conn *xsd_conns;
size_t xsd_outq_total_max = XSD_OUTQ_TOTAL_MAX;
static size_t out_total; /* queued bytes of every connection */

size_t conn_out_total(void)
{
    return out_total;
}

static void out_add(struct conn *c, size_t n)
{
    c->out_bytes += n;
    out_total += n;
}

static void out_sub(struct conn *c, size_t n)
{
    c->out_bytes -= n;
    out_total -= n;
}

static void drop_events(struct conn *c, bool (*which)(const struct outmsg *o, uint64_t now_ms),
                        uint64_t now_ms);
static bool any_event(const struct outmsg *o, uint64_t now_ms);
static uint64_t round_no = 1;
static unsigned int ndead; /* closed, not yet freed */
static unsigned int nbacklog;

void conn_next_round(void)
{
    round_no++;
}

bool conn_backlogged(void)
{
    return nbacklog != 0;
}

static void set_backlog(struct conn *c, bool on)
{
    if (c->backlog == on)
        return;
    c->backlog = on;
    if (on)
        nbacklog++;
    else
        nbacklog--;
}

/* Requests this connection may still be served in this round. */
static bool budget_left(struct conn *c)
{
    if (c->batch_round != round_no) {
        c->batch_round = round_no;
        c->batch = 0;
    }
    return c->batch < XSD_BATCH;
}

uint64_t xsd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t xsd_now_ms(void)
{
    return xsd_now_ns() / 1000000u;
}

/* When a header came without its payload (Xen's library writes the two
 * with separate system calls), the payload is a system call away: the
 * loop polls for a moment instead of sleeping (see ev_run_once). */
uint64_t xsd_half_message_ns;

static void note_half_message(struct conn *c)
{
    struct xsd_sockmsg h;

    if (c->half_noted || c->inlen < XSD_HDR_LEN)
        return; /* once a message: a client dripping bytes gets no more */
    memcpy(&h, c->inbuf, sizeof(h));
    if (h.len <= XENSTORE_PAYLOAD_MAX && c->inlen < XSD_HDR_LEN + h.len) {
        xsd_half_message_ns = xsd_now_ns();
        c->half_noted = true;
    }
}

struct conn *conn_new(const struct conn_ops *ops, void *priv, int fd, unsigned int domid)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->ops = ops;
    c->priv = priv;
    c->fd = fd;
    c->id = domid;
    c->next_txid = 1;
    c->next = xsd_conns;
    if (xsd_conns)
        xsd_conns->prev = c;
    xsd_conns = c;
    return c;
}

static void update(struct conn *c)
{
    if (!c->dead && c->ops->update)
        c->ops->update(c);
}

static void drop_output(struct conn *c)
{
    while (c->out_head) {
        struct outmsg *o = c->out_head;
        c->out_head = o->next;
        free(o);
    }
    c->out_tail = NULL;
    out_sub(c, c->out_bytes);
    c->out_replies = 0;
    c->stall_since_ms = 0;
}

/* What freeing room may take from c: a socket client's whole queue (it is
 * closed), a ring's unsent watch events; 0 if nothing. */
static size_t reclaimable(const struct conn *c)
{
    size_t n = 0;

    if (c->dead || !c->out_bytes)
        return 0;
    if (!c->domain)
        return c->out_bytes;
    for (const struct outmsg *o = c->out_head; o; o = o->next)
        if (!o->is_reply && o->off == 0)
            n += o->len;
    return n;
}

/* Frees queued output until need more bytes fit under the global bound,
 * taking from the slowest reader (the most queued) first.  False: the
 * message for c is to be dropped (c may have been closed). */
static bool make_room(struct conn *c, size_t need, bool is_reply)
{
    while (out_total + need > xsd_outq_total_max) {
        struct conn *v = NULL;
        size_t most = 0;

        for (struct conn *x = xsd_conns; x; x = x->next) {
            size_t r = reclaimable(x);
            if (r && (!v || x->out_bytes > v->out_bytes)) {
                v = x;
                most = r;
            }
        }
        if (!v) {
            static uint64_t logged_ms;
            uint64_t now = xsd_now_ms();

            if (is_reply)
                return true; /* replies are bounded by `outstanding` */
            if (now - logged_ms >= 1000) { /* at most once a second */
                xsd_log(XSD_LOG_ERR, "%s connection (domain %u): watch event dropped, queued "
                        "output at the daemon's %zu-byte bound", c->ops->kind, c->id,
                        xsd_outq_total_max);
                logged_ms = now;
            }
            return false;
        }
        if (v->domain) {
            drop_events(v, any_event, 0);
            xsd_log(XSD_LOG_ERR, "domain %u: slowest reader at the daemon's %zu-byte output "
                    "bound: %zu bytes of unsent watch events dropped", v->id,
                    xsd_outq_total_max, most);
            continue;
        }
        xsd_log(XSD_LOG_ERR, "%s connection (domain %u): slowest reader at the daemon's "
                "%zu-byte output bound (%zu bytes queued): closed", v->ops->kind, v->id,
                xsd_outq_total_max, v->out_bytes);
        conn_close(v, "slowest reader past the global output bound");
        drop_output(v); /* its memory goes now, not at reaping */
        if (v == c)
            return false;
    }
    return true;
}

void conn_queue(struct conn *c, const void *msg, size_t len, bool is_reply)
{
    struct outmsg *o;
    ssize_t n = 0;

    if (c->dead || c->ignored)
        return;
    if (!c->out_head) {
        n = c->ops->write(c, msg, len);
        if (n < 0) {
            conn_close(c, "write failed");
            return;
        }
        if ((size_t)n == len || c->ignored)
            return;
    }
    if (c->out_bytes + len - (size_t)n > XSD_OUTQ_MAX) {
        conn_close(c, "output queue overflow");
        return;
    }
    if (out_total + len - (size_t)n > xsd_outq_total_max && !make_room(c, len - (size_t)n, is_reply))
        return;
    o = malloc(sizeof(*o) + len);
    if (!o) {
        conn_close(c, "out of memory");
        return;
    }
    memcpy(o->data, msg, len);
    o->len = len;
    o->off = (size_t)n;
    o->is_reply = is_reply;
    o->queued_ms = xsd_now_ms();
    o->next = NULL;
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out_head = o;
    c->out_tail = o;
    out_add(c, len - (size_t)n);
    if (is_reply)
        c->out_replies++;
    if (!c->stall_since_ms)
        c->stall_since_ms = xsd_now_ms();
    update(c);
}

void conn_flush(struct conn *c)
{
    bool reply_sent = false;

    while (c->out_head && !c->dead && !c->ignored) {
        struct outmsg *o = c->out_head;
        ssize_t n = c->ops->write(c, o->data + o->off, o->len - o->off);
        if (n < 0) {
            conn_close(c, "write failed");
            return;
        }
        if (n == 0)
            break;
        c->stall_since_ms = xsd_now_ms();
        o->off += (size_t)n;
        out_sub(c, (size_t)n);
        if (o->off < o->len)
            continue;
        c->out_head = o->next;
        if (!c->out_head)
            c->out_tail = NULL;
        if (o->is_reply) {
            c->out_replies--;
            reply_sent = true;
        }
        free(o);
    }
    if (!c->out_head)
        c->stall_since_ms = 0;
    update(c);
    if (reply_sent && c->inlen)
        conn_process(c); /* requests held back by the outstanding limit */
}

static void bad_client(struct conn *c, const char *why)
{
    xsd_log(XSD_LOG_ERR, "%s connection (domain %u): %s", c->ops->kind, c->id, why);
    if (c->domain) {
        /* Ring: flag the error for the guest and stop serving it. */
        struct xenstore_domain_interface *intf = c->domain->ra.page;
        intf->error = XENSTORE_ERROR_PROTO;
        c->ignored = true;
        return;
    }
    conn_close(c, why);
}

void conn_process(struct conn *c)
{
    size_t off = 0;

    while (!c->dead && !c->ignored && c->out_replies < (unsigned int)xsd_quota[Q_OUTSTANDING]) {
        struct xsd_msg m;
        size_t used;
        int r;

        if (!budget_left(c)) {
            set_backlog(c, true); /* the rest in a later round */
            break;
        }
        r = wire_parse(c->inbuf + off, c->inlen - off, &m, &used);
        if (r == 0)
            break;
        if (r < 0) {
            bad_client(c, "message payload over 4096 bytes");
            return;
        }
        c->batch++;
        c->half_noted = false;
        ops_dispatch(c, &m);
        off += used;
    }
    if (c->dead || c->ignored)
        return;
    if (off) {
        memmove(c->inbuf, c->inbuf + off, c->inlen - off);
        c->inlen -= off;
    }
    update(c);
}

bool conn_wants_read(const struct conn *c)
{
    return !c->dead && !c->ignored && c->inlen < sizeof(c->inbuf);
}

void conn_input(struct conn *c)
{
    set_backlog(c, false);
    if (c->inlen)
        conn_process(c); /* what an earlier round left */
    while (conn_wants_read(c) && budget_left(c)) {
        size_t room = sizeof(c->inbuf) - c->inlen;
        ssize_t n = c->ops->read(c, c->inbuf + c->inlen, room);
        if (n < 0) {
            conn_close(c, "closed by peer");
            return;
        }
        if (n == 0)
            break;
        c->inlen += (size_t)n;
        conn_process(c);
        if ((size_t)n < room) {
            if (!c->dead && !c->ignored)
                note_half_message(c);
            break; /* drained: the next readiness event (or kick) says more */
        }
    }
    if (!c->dead && !c->ignored && !budget_left(c))
        set_backlog(c, true);
}

void conn_serve_backlog(void)
{
    struct conn *c, *next;

    for (c = xsd_conns; c && nbacklog; c = next) {
        next = c->next;
        if (!c->backlog || c->batch_round == round_no)
            continue; /* none, or already served in this round */
        if (c->dead || c->ignored) {
            set_backlog(c, false);
            continue;
        }
        if (c->domain)
            ring_event(c);
        else
            conn_input(c);
    }
}

void conn_close(struct conn *c, const char *why)
{
    if (c->dead)
        return;
    /* Clients come and go all the time: only unusual closes are news. */
    xsd_log(strcmp(why, "closed by peer") == 0 ? XSD_LOG_DEBUG : XSD_LOG_INFO,
            "%s connection (domain %u) closed: %s", c->ops->kind, c->id, why);
    c->dead = true;
    ndead++;
    if (c->ops->close)
        c->ops->close(c);
}

void conn_reset(struct conn *c)
{
    watch_remove_all(c);
    while (c->txs) {
        struct transaction *t = c->txs;
        tx_unlink(c, t);
        tx_free(t);
    }
    drop_output(c);
    c->inlen = 0;
}

static void conn_free(struct conn *c)
{
    set_backlog(c, false);
    conn_reset(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        xsd_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->domain && c->domain->conn == c)
        c->domain->conn = NULL;
    free(c->cap);
    free(c);
}

void conn_reap(void)
{
    struct conn *c = xsd_conns, *next;

    if (!ndead)
        return;
    ndead = 0;
    for (; c; c = next) {
        next = c->next;
        if (c->dead)
            conn_free(c);
    }
}

void conn_close_all(void)
{
    for (struct conn *c = xsd_conns; c; c = c->next)
        conn_close(c, "shutdown");
    conn_reap();
}

static bool stale_event(const struct outmsg *o, uint64_t now_ms)
{
    return now_ms - o->queued_ms > XSD_STALL_MS;
}

static bool any_event(const struct outmsg *o, uint64_t now_ms)
{
    (void)o; (void)now_ms;
    return true;
}

/* Discards queued watch events (not begun, chosen by which); replies are
 * kept. */
static void drop_events(struct conn *c, bool (*which)(const struct outmsg *o, uint64_t now_ms),
                        uint64_t now_ms)
{
    struct outmsg **pp = &c->out_head, *last = NULL;

    while (*pp) {
        struct outmsg *o = *pp;
        if (!o->is_reply && o->off == 0 && which(o, now_ms)) {
            *pp = o->next;
            out_sub(c, o->len);
            free(o);
            continue;
        }
        last = o;
        pp = &o->next;
    }
    c->out_tail = last;
    if (!c->out_head)
        c->stall_since_ms = 0;
}

/* A guest's ring is not dropped (a paused domain must survive): its watch
 * events that waited 20 s are discarded instead, as Xen discards expired
 * watch events.  Replies are kept. */
static void drop_stale_events(struct conn *c, uint64_t now_ms)
{
    drop_events(c, stale_event, now_ms);
    c->stall_since_ms = c->out_head ? now_ms : 0;
}

void conn_check_stalls(uint64_t now_ms)
{
    for (struct conn *c = xsd_conns; c; c = c->next) {
        if (c->dead || !c->out_head || !c->stall_since_ms ||
            now_ms - c->stall_since_ms <= XSD_STALL_MS)
            continue;
        if (c->domain) {
            xsd_log(XSD_LOG_ERR, "domain %u: ring not read for 20 s, old watch events dropped", c->id);
            drop_stale_events(c, now_ms);
        } else {
            conn_close(c, "stalled: output not read for 20 s");
        }
    }
}

/* In-memory transport: output is captured (bounded), input is fed. */
static ssize_t mem_read(struct conn *c, void *buf, size_t len)
{
    (void)c; (void)buf; (void)len;
    return 0;
}

static ssize_t mem_write(struct conn *c, const void *buf, size_t len)
{
    if (c->caplen + len > c->capsize) {
        size_t sz = c->capsize ? c->capsize : 4096;
        char *p;
        while (sz < c->caplen + len)
            sz *= 2;
        if (sz > XSD_OUTQ_MAX)
            return (ssize_t)len; /* discard past the bound */
        p = realloc(c->cap, sz);
        if (!p)
            return (ssize_t)len;
        c->cap = p;
        c->capsize = sz;
    }
    memcpy(c->cap + c->caplen, buf, len);
    c->caplen += len;
    return (ssize_t)len;
}

static const struct conn_ops mem_ops = {
    .read = mem_read, .write = mem_write, .kind = "memory",
};

struct conn *conn_new_mem(unsigned int domid)
{
    return conn_new(&mem_ops, NULL, -1, domid);
}

void conn_mem_feed(struct conn *c, const void *data, size_t len)
{
    const char *p = data;

    /* The caller is the scheduler here: each chunk gets a fresh round. */
    while (len && conn_wants_read(c)) {
        size_t n = sizeof(c->inbuf) - c->inlen;
        if (n > len)
            n = len;
        memcpy(c->inbuf + c->inlen, p, n);
        c->inlen += n;
        p += n;
        len -= n;
        do {
            conn_next_round();
            set_backlog(c, false);
            conn_process(c);
        } while (c->backlog && !c->dead);
    }
}

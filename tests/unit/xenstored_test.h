/*
 * Helpers shared by the xenstored unit tests: a fresh core per test, and
 * request/reply over in-memory connections (replies are captured; watch
 * events met on the way are kept for xt_event()).
 */
#ifndef XENSTORED_TEST_H
#define XENSTORED_TEST_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct xt_msg {
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX + 1]; /* NUL added after len bytes */
};

#define XT_MAX_EVENTS 512
static struct {
    struct conn *c;
    char path[256];
    char token[64];
} xt_events[XT_MAX_EVENTS];
static int xt_nevents;
static uint32_t xt_req_id = 100;

static inline void xt_setup(void)
{
    quota_reset();
    if (!getenv("XT_LOG")) xsd_log_open("/dev/null");
    ck_assert_int_eq(xsd_core_init(), 0);
    xt_nevents = 0;
}

static inline void xt_teardown(void)
{
    xsd_core_fini();
}

/* Pops the next captured message of c; false if none. */
static inline bool xt_pop(struct conn *c, struct xt_msg *m)
{
    size_t len;

    if (c->caplen < sizeof(m->hdr))
        return false;
    memcpy(&m->hdr, c->cap, sizeof(m->hdr));
    len = sizeof(m->hdr) + m->hdr.len;
    ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
    ck_assert_uint_ge(c->caplen, len);
    memcpy(m->body, c->cap + sizeof(m->hdr), m->hdr.len);
    m->body[m->hdr.len] = '\0';
    memmove(c->cap, c->cap + len, c->caplen - len);
    c->caplen -= len;
    return true;
}

static inline void xt_stash_event(struct conn *c, const struct xt_msg *m)
{
    if (xt_nevents == XT_MAX_EVENTS)
        return;
    xt_events[xt_nevents].c = c;
    snprintf(xt_events[xt_nevents].path, sizeof(xt_events[0].path), "%.255s", m->body);
    snprintf(xt_events[xt_nevents].token, sizeof(xt_events[0].token), "%.63s",
             m->body + strlen(m->body) + 1);
    xt_nevents++;
}

/* Moves every captured event of c to the event list. */
static inline void xt_collect(struct conn *c)
{
    struct xt_msg m;

    while (xt_pop(c, &m)) {
        ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
        xt_stash_event(c, &m);
    }
}

/* Takes the first pending event of c into path/token; false if none. */
static inline bool xt_event(struct conn *c, char *path, char *token)
{
    xt_collect(c);
    for (int i = 0; i < xt_nevents; i++) {
        if (xt_events[i].c != c)
            continue;
        if (path)
            strcpy(path, xt_events[i].path);
        if (token)
            strcpy(token, xt_events[i].token);
        memmove(&xt_events[i], &xt_events[i + 1], (size_t)(xt_nevents - i - 1) * sizeof(xt_events[0]));
        xt_nevents--;
        return true;
    }
    return false;
}

static inline int xt_count_events(struct conn *c)
{
    int n = 0;

    xt_collect(c);
    for (int i = 0; i < xt_nevents; i++)
        n += xt_events[i].c == c;
    return n;
}

static inline void xt_send_raw(struct conn *c, uint32_t type, uint32_t tx, const void *p, size_t len)
{
    char buf[XSD_HDR_LEN + 2 * XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg h = { type, ++xt_req_id, tx, (uint32_t)len };

    ck_assert_uint_le(len, sizeof(buf) - XSD_HDR_LEN);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    conn_mem_feed(c, buf, sizeof(h) + len);
}

/* Sends a request and returns its reply (events on the way are stashed). */
static inline struct xt_msg *xt_call(struct conn *c, uint32_t type, uint32_t tx, const void *p, size_t len)
{
    static struct xt_msg m;

    xt_send_raw(c, type, tx, p, len);
    while (xt_pop(c, &m)) {
        if (m.hdr.type == XS_WATCH_EVENT) {
            xt_stash_event(c, &m);
            continue;
        }
        ck_assert_uint_eq(m.hdr.req_id, xt_req_id);
        ck_assert_uint_eq(m.hdr.tx_id, tx);
        return &m;
    }
    ck_abort_msg("no reply to %s", ops_name(type));
    return NULL;
}

/* Payload from n strings, each NUL-terminated. */
static inline struct xt_msg *xt_calls(struct conn *c, uint32_t type, uint32_t tx, int n, ...)
{
    char buf[2 * XENSTORE_PAYLOAD_MAX];
    size_t len = 0;
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *s = va_arg(ap, const char *);
        size_t l = strlen(s) + 1;
        ck_assert_uint_le(len + l, sizeof(buf));
        memcpy(buf + len, s, l);
        len += l;
    }
    va_end(ap);
    return xt_call(c, type, tx, buf, len);
}

/* Error name of a reply, or "" if it is no error. */
static inline const char *xt_errname(const struct xt_msg *m)
{
    return m->hdr.type == XS_ERROR ? m->body : "";
}

#define xt_ok(m) do { const struct xt_msg *m_ = (m); \
    ck_assert_msg(m_->hdr.type != XS_ERROR, "unexpected error %s", m_->body); \
    ck_assert_str_eq(m_->body, "OK"); } while (0)
#define xt_err(m, name) do { const struct xt_msg *m_ = (m); \
    ck_assert_msg(m_->hdr.type == XS_ERROR, "expected %s, got success '%s'", name, m_->body); \
    ck_assert_str_eq(m_->body, name); } while (0)

static inline struct xt_msg *xt_write(struct conn *c, uint32_t tx, const char *path, const char *val)
{
    char buf[2 * XENSTORE_PAYLOAD_MAX];
    size_t pl = strlen(path) + 1, vl = strlen(val);

    memcpy(buf, path, pl);
    memcpy(buf + pl, val, vl);
    return xt_call(c, XS_WRITE, tx, buf, pl + vl);
}

static inline struct xt_msg *xt_read(struct conn *c, uint32_t tx, const char *path)
{
    return xt_calls(c, XS_READ, tx, 1, path);
}

#define xt_read_eq(c, tx, path, val) do { const struct xt_msg *r_ = xt_read(c, tx, path); \
    ck_assert_msg(r_->hdr.type == XS_READ, "read %s: %s", path, r_->body); \
    ck_assert_str_eq(r_->body, val); } while (0)

static inline uint32_t xt_tx_start(struct conn *c)
{
    struct xt_msg *m = xt_call(c, XS_TRANSACTION_START, 0, "", 1);
    ck_assert_msg(m->hdr.type == XS_TRANSACTION_START, "tx start: %s", m->body);
    return (uint32_t)strtoul(m->body, NULL, 10);
}

static inline struct xt_msg *xt_tx_end(struct conn *c, uint32_t tx, bool commit)
{
    return xt_call(c, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2);
}

/* Joins the strings of a DIRECTORY-style reply with commas. */
static inline const char *xt_list(const struct xt_msg *m)
{
    static char out[XENSTORE_PAYLOAD_MAX + 1];
    size_t len = 0;

    out[0] = '\0';
    for (uint32_t off = 0; off < m->hdr.len;) {
        size_t l = strlen(m->body + off);
        if (len)
            out[len++] = ',';
        memcpy(out + len, m->body + off, l);
        len += l;
        out[len] = '\0';
        off += (uint32_t)l + 1;
    }
    return out;
}

static inline void xt_store_ok(void)
{
    char msg[256];
    ck_assert_msg(tree_check(msg, sizeof(msg)) == 0, "store check: %s", msg);
}

#define XT_RUN(suite_fn) int main(void) { \
    SRunner *sr = srunner_create(suite_fn()); \
    srunner_run_all(sr, CK_NORMAL); \
    int nf = srunner_ntests_failed(sr); \
    srunner_free(sr); \
    return nf ? 1 : 0; }

#endif

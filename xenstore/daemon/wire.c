/*
 * Framing and payload parsing for every request, in one place: a message is
 * a 16-byte header and at most XENSTORE_PAYLOAD_MAX bytes; arguments are
 * NUL-terminated strings (Xen's get_strings/onearg).  Replies too.
 */
#include <errno.h>
#include <string.h>

#include "xenstored.h"

int wire_parse(const char *buf, size_t len, struct xsd_msg *m, size_t *consumed)
{
    if (len < XSD_HDR_LEN)
        return 0;
    memcpy(&m->hdr, buf, XSD_HDR_LEN);
    if (xsc_check_header(&m->hdr))
        return -1;
    if (len < XSD_HDR_LEN + m->hdr.len)
        return 0;
    m->body = buf + XSD_HDR_LEN;
    *consumed = XSD_HDR_LEN + m->hdr.len;
    return 1;
}

unsigned int wire_strings(const struct xsd_msg *m, const char **vec, unsigned int max)
{
    unsigned int i = 0;
    size_t off = 0;

    while (i < max && off < m->hdr.len) {
        const char *nul = memchr(m->body + off, '\0', m->hdr.len - off);
        if (!nul)
            break;
        vec[i++] = m->body + off;
        off = (size_t)(nul - m->body) + 1;
    }
    return i;
}

const char *wire_onearg(const struct xsd_msg *m)
{
    if (m->hdr.len == 0 || memchr(m->body, '\0', m->hdr.len) != m->body + m->hdr.len - 1)
        return NULL;
    return m->body;
}

static void send_msg(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                     const void *data, size_t len, bool is_reply)
{
    char buf[XSD_MSG_MAX];
    struct xsd_sockmsg h = { type, req_id, tx_id, (uint32_t)len };

    memcpy(buf, &h, sizeof(h));
    if (len)
        memcpy(buf + sizeof(h), data, len);
    conn_queue(c, buf, sizeof(h) + len, is_reply);
}

void send_reply(struct conn *c, const struct xsd_msg *req, uint32_t type,
                const void *data, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX) {
        send_error(c, req, E2BIG);
        return;
    }
    send_msg(c, type, req->hdr.req_id, req->hdr.tx_id, data, len, true);
}

void send_ack(struct conn *c, const struct xsd_msg *req)
{
    send_reply(c, req, req->hdr.type, "OK", 3);
}

void send_error(struct conn *c, const struct xsd_msg *req, int err)
{
    const char *name = xsc_error_name(err);

    if (!xsc_error_known(err))
        xsd_log(XSD_LOG_ERR, "error %d has no xenstore name, sent as EINVAL", err);
    send_msg(c, XS_ERROR, req->hdr.req_id, req->hdr.tx_id, name, strlen(name) + 1, true);
}

void send_event(struct conn *c, const char *path, const char *token)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t pl = strlen(path) + 1, tl = strlen(token) + 1;

    if (pl + tl > XENSTORE_PAYLOAD_MAX)
        return; /* Xen drops over-long events */
    memcpy(buf, path, pl);
    memcpy(buf + pl, token, tl);
    send_msg(c, XS_WATCH_EVENT, 0, 0, buf, pl + tl, false);
}

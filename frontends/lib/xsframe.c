/*
 * Xenstore framing (see xsframe.h).  The ring indexes are free-running
 * 32-bit counters; their difference must never exceed the ring size, or
 * xenstored (or memory corruption) broke the protocol.
 */
#include "kerrno.h"
#include "klib.h"
#include "xsframe.h"

void xs_frame_reset(struct xs_frame *f)
{
    f->have = 0;
}

/* Bytes still needed to finish the header or the whole message. */
static size_t frame_need(const struct xs_frame *f)
{
    if (f->have < sizeof(struct xsd_sockmsg))
        return sizeof(struct xsd_sockmsg) - f->have;
    return sizeof(struct xsd_sockmsg) + f->msg.hdr.len - f->have;
}

int xs_frame_feed(struct xs_frame *f, const volatile char *ring, uint32_t *cons, uint32_t prod)
{
    uint32_t c = *cons;
    if (prod - c > XENSTORE_RING_SIZE)
        return XS_FRAME_BAD_INDEX;
    for (;;) {
        size_t need = frame_need(f);
        while (need && c != prod) {
            f->msg.bytes[f->have++] = ring[MASK_XENSTORE_IDX(c)];
            c++;
            need--;
        }
        *cons = c;
        if (f->have == sizeof(struct xsd_sockmsg) && f->msg.hdr.len > XENSTORE_PAYLOAD_MAX)
            return XS_FRAME_TOO_LONG;
        if (need == 0 && f->have >= sizeof(struct xsd_sockmsg) &&
            f->have == sizeof(struct xsd_sockmsg) + f->msg.hdr.len)
            return XS_FRAME_READY;
        if (c == prod)
            return XS_FRAME_MORE;
        /* the header just completed; go on with the payload */
    }
}

int xs_parse_watch_event(const char *payload, uint32_t len, const char **path,
                         const char **token)
{
    const char *path_end = memchr(payload, '\0', len);
    if (!path_end)
        return -1;
    uint32_t rest = len - (uint32_t)(path_end + 1 - payload);
    if (!memchr(path_end + 1, '\0', rest))
        return -1;
    *path = payload;
    *token = path_end + 1;
    return 0;
}

static const struct {
    const char *name;
    int err;
} error_names[] = {
    { "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST }, { "EISDIR", EISDIR },
    { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC }, { "EIO", EIO },
    { "ENOTEMPTY", ENOTEMPTY }, { "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
    { "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG }, { "EPERM", EPERM },
};

int xs_error_from_name(const char *name, uint32_t len)
{
    size_t n = strnlen(name, len);
    for (unsigned int i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
        if (strlen(error_names[i].name) == n && memcmp(name, error_names[i].name, n) == 0)
            return -error_names[i].err;
    return -EIO;
}

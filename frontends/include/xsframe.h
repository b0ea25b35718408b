/*
 * Xenstore message framing on the guest side (pure, host-tested): pulls
 * bytes from the rsp[] ring into one message buffer, checks the header,
 * and splits watch-event payloads.  Everything xenstored writes is checked
 * here before the client acts on it.
 */
#ifndef TANDEM_GUEST_XSFRAME_H
#define TANDEM_GUEST_XSFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "public/io/xs_wire.h"

struct xs_frame {
    union {
        struct xsd_sockmsg hdr;
        char bytes[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    } msg;
    size_t have;
};

enum {
    XS_FRAME_MORE = 0,      /* consumed what there was; message incomplete */
    XS_FRAME_READY = 1,     /* a whole message is in msg; call xs_frame_reset */
    XS_FRAME_BAD_INDEX = -1, /* prod - cons exceeds the ring */
    XS_FRAME_TOO_LONG = -2,  /* header len > XENSTORE_PAYLOAD_MAX */
};

void xs_frame_reset(struct xs_frame *f);

/* Consumes bytes of ring (XENSTORE_RING_SIZE) from *cons towards prod,
 * stopping at the end of one message.  Advances *cons. */
int xs_frame_feed(struct xs_frame *f, const volatile char *ring, uint32_t *cons, uint32_t prod);

static inline const char *xs_frame_payload(const struct xs_frame *f)
{
    return f->msg.bytes + sizeof(struct xsd_sockmsg);
}

/* A watch event payload is "path\0token\0"; returns 0 and points path and
 * token into it, or -1 if either string is not terminated. */
int xs_parse_watch_event(const char *payload, uint32_t len, const char **path,
                         const char **token);

/* Maps an XS_ERROR payload ("ENOENT") to a negative errno (-EIO if unknown). */
int xs_error_from_name(const char *name, uint32_t len);

#endif

/* A fake blkfront for the blkback tests: plays the guest on top of the
 * fake VMM (tests/unit/evtchn_fake_vmm.c) — guest pages and a v1 grant
 * table in its memfd, a shared ring, an event channel — and does the
 * frontend's side of the xenstore handshake against a real xenstored.
 * Helpers return false / -1 on failure with a message in ff_error(). */
#ifndef TANDEM_TESTS_BLKBACK_FAKEFRONT_H
#define TANDEM_TESTS_BLKBACK_FAKEFRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>

#include "evtchn_fake_vmm.h"
#include "public/io/blkif.h"

#define FF_MAX_QUEUES 4

struct ff_queue {
    blkif_front_ring_t ring;
    uint32_t ring_refs[16];
    unsigned port;
};

struct ff {
    struct fake_vmm *vmm;
    struct xs_handle *xs;
    unsigned domid, devid;
    char fe[96], be[96];
    unsigned nq, order;
    const char *protocol;           /* published by ff_publish; NULL: x86_64-abi */
    bool persistent;                /* publish feature-persistent=1 */
    struct ff_queue q[FF_MAX_QUEUES];
};

const char *ff_error(void);

/* Toolstack part: writes both directories (one transaction). */
bool ff_create(struct ff *f, struct fake_vmm *vmm, struct xs_handle *xs, unsigned devid,
               const char *params, const char *mode);

/* Waits until the backend's state is `state` (watch, timeout_ms). */
bool ff_wait_backend(struct ff *f, int state, int timeout_ms);
/* A backend key (malloc'd) or NULL. */
char *ff_backend_key(struct ff *f, const char *key);
bool ff_set_state(struct ff *f, int state);

/* Guest memory: a fresh page (frame number) and its address. */
unsigned ff_page(struct ff *f);
uint8_t *ff_addr(struct ff *f, unsigned frame);

/* Grants `frame` to dom0; returns the ref. */
uint32_t ff_grant(struct ff *f, unsigned frame, bool readonly);
/* Linux's end_foreign_access: false while dom0 still has it mapped. */
bool ff_end_access(struct ff *f, uint32_t ref);
/* An entry in the table that was never granted. */
uint32_t ff_ungranted_ref(struct ff *f);

/* Sets up nq queues with rings of 2^order pages (fresh pages, grants
 * and ports starting at first_port), publishes them, switches to
 * Initialised and waits for Connected. */
bool ff_connect(struct ff *f, unsigned nq, unsigned order, unsigned first_port);
/* The same without waiting. */
bool ff_publish(struct ff *f, unsigned nq, unsigned order, unsigned first_port);

/* Puts a request (any layout, copied) on queue qi and pushes; kicks
 * the backend only if it asked (ff_push returns whether it did). */
void ff_put(struct ff *f, unsigned qi, const void *req, size_t len);
bool ff_push(struct ff *f, unsigned qi);

/* Collects responses on queue qi until `n` arrived (or timeout); returns
 * how many were stored in out. */
unsigned ff_collect(struct ff *f, unsigned qi, struct blkif_response *out, unsigned n,
                    int timeout_ms);

/* For a frontend that polls: takes up to `max` responses already on
 * queue qi's ring — no syscall, and rsp_event is left where it is, so
 * while the frontend keeps polling the backend has no reason to notify. */
unsigned ff_take(struct ff *f, unsigned qi, struct blkif_response *out, unsigned max);
/* Before sleeping: arms rsp_event (RING_FINAL_CHECK_FOR_RESPONSES); if
 * nothing arrived meanwhile, sleeps on queue qi's event channel for up
 * to timeout_ms and takes the upcall. True if responses are waiting. */
bool ff_wait_responses(struct ff *f, unsigned qi, int timeout_ms);
/* What a guest's upcall handler does: clears every pending bit and
 * drains the upcall eventfds of `ports`. */
void ff_ack_ports(struct fake_vmm *vmm, const unsigned *ports, unsigned n);

/* Frontend-initiated close: Closing, wait, Closed, wait. */
bool ff_close(struct ff *f);

#endif

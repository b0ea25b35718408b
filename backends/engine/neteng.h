/* The network engine: Tandem's one packet engine between a tap queue and
 * a front door (docs/netback.md, "The network engine"). Two front doors:
 *   - tandem-netback (backends/netback): netif rings + grants;
 *   - the emulated e1000 of tandem-vmm (later): descriptor rings in the
 *     guest's memfd mapping.
 * It knows the tap (neteng_tap.h: open, offloads, queues) and io_uring,
 * nothing about rings or grants:
 *   send:    a frame given as host iovecs (the front door's mapping of
 *            guest memory, no copy) and its offloads as a virtio-net
 *            header (the tap's own format: partial checksum, GSO) is
 *            written to the tap; `done` is called when the write completed;
 *   receive: the engine keeps cfg.rx_bufs reads of the tap in flight into
 *            buffers of its own; a frame read waits, oldest first, until
 *            the front door has room for it in the guest (neteng_rx_peek,
 *            copy, neteng_rx_release); while it waits its read is not
 *            re-armed, so a guest that posts nothing makes the tap queue
 *            and then drop in the kernel, not here.
 *
 * One engine = one io_uring = one tap queue = one thread: every call is
 * made by the thread that drives it. Driving it, in either process's
 * loop: neteng_flush (hand queued writes to the kernel; the engine also
 * does so every cfg.tx_batch sends), neteng_reap (completions: send
 * callbacks, frames into the RX queue), neteng_cq_ready (for a loop that
 * polls), neteng_fd (the io_uring fd, to poll/epoll for POLLIN; the wait
 * may end with EINTR when completions need the thread to enter the
 * kernel: reap and loop) or neteng_wait (sleep in io_uring). A front door
 * may put its own operations on the same ring (neteng_uring(), tags below
 * TDM_URING_TAG_ENGINE: netback's doorbell reads); neteng_reap hands their
 * completions to cfg.other. */
#ifndef TANDEM_ENGINE_NETENG_H
#define TANDEM_ENGINE_NETENG_H

#include <liburing.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "neteng_tap.h"

#define NETENG_VNET_HDR sizeof(struct virtio_net_hdr)   /* 10: the tap's header (TUNSETVNETHDRSZ) */
#define NETENG_MAX_FRAME 65536u        /* largest frame the tap gives (GSO) */
#define NETENG_TX_MAX_FRAGS 32u        /* iovecs of one sent frame */

struct neteng;
struct neteng_tx;

/* A send finished: 0, or the tap's -errno (the frame was not sent). */
typedef void (*neteng_tx_done_fn)(void *ctx, struct neteng_tx *t, int res);

/* One frame to send. The front door owns the memory and keeps it, and
 * what iov[1..nfrag] points at, untouched until `done`. */
struct neteng_tx {
    struct virtio_net_hdr hdr;         /* offloads (all zero: none) */
    struct iovec iov[1 + NETENG_TX_MAX_FRAGS];  /* [0]: the engine's (the header); frame: [1..nfrag] */
    unsigned nfrag;
    neteng_tx_done_fn done;
    unsigned slot_;                    /* the engine's */
};

/* A frame read from the tap: its virtio-net header (offloads the host
 * kernel left to the receiver) and data, in the engine's buffer (valid
 * until neteng_rx_release). */
struct neteng_frame {
    struct virtio_net_hdr hdr;
    const uint8_t *data;
    unsigned len;
};

typedef void (*neteng_other_fn)(void *ctx, uint64_t user_data, int res);

struct neteng_config {
    int tap_fd;                        /* borrowed: one tap queue (neteng_tap_open) */
    unsigned tx_depth;                 /* sends in flight at most (neteng_send: -EBUSY beyond) */
    unsigned rx_bufs;                  /* tap reads in flight (0: no receive) */
    unsigned tx_batch;                 /* hand writes to the kernel every N sends (0: 16) */
    unsigned extra_sqes;               /* SQ room for the front door's own operations */
    void *ctx;
    neteng_other_fn other;             /* may be NULL */
    const char *name;                  /* prefix of log lines ("tandem-netback: vif 3/0 queue 0") */
};

struct neteng_stats {
    uint64_t tx_sent, tx_errors;       /* frames written / refused by the tap */
    uint64_t rx_frames, rx_bytes;      /* frames read (with their header) */
    uint64_t rx_read_errors;           /* reads that failed (a fatal one stops receiving) */
};

/* NULL with a message in err. */
struct neteng *neteng_create(const struct neteng_config *cfg, char *err, size_t errlen);

/* The reads are cancelled and the buffers freed. Drain sends first
 * (neteng_tx_inflight() == 0): their callbacks are not called, and the
 * kernel may still be reading their iovecs while the ring is torn down. */
void neteng_destroy(struct neteng *e);

/* Arms the tap reads (once, from the thread that drives the engine). */
void neteng_start_rx(struct neteng *e);

/* Queues t. 0: t->done will be called; -EBUSY (tx_depth in flight),
 * -EINVAL (no frame, or more than NETENG_TX_MAX_FRAGS), -EAGAIN (the SQ
 * could not be submitted): refused, no callback. */
int neteng_send(struct neteng *e, struct neteng_tx *t);

/* The oldest frame read and not released; false if none. */
bool neteng_rx_peek(const struct neteng *e, struct neteng_frame *f);

/* Done with the oldest frame (delivered or dropped): its read is re-armed. */
void neteng_rx_release(struct neteng *e);

/* Frames waiting for neteng_rx_peek. */
unsigned neteng_rx_ready(const struct neteng *e);

void neteng_flush(struct neteng *e);
bool neteng_reap(struct neteng *e);
unsigned neteng_cq_ready(struct neteng *e);
void neteng_wait(struct neteng *e);

unsigned neteng_tx_inflight(const struct neteng *e);
int neteng_fd(const struct neteng *e);
struct io_uring *neteng_uring(struct neteng *e);
void neteng_get_stats(const struct neteng *e, struct neteng_stats *out);

#endif

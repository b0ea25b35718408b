/*
 * The e1000's descriptor rings as pure functions over guest memory
 * (struct dev_dma): the transmit walker, the receive filter and the
 * receive placement, plus the checksum and CRC helpers they share. No
 * engine, no thread, no lock: dev/e1000.c calls them with its register
 * lock held, and tests/fuzz/e1000_fuzz.c calls them on hostile rings.
 *
 * What they promise a hostile guest cannot break: guest memory is
 * reached only through dma_map (a descriptor or a buffer outside RAM is
 * never touched: the frame is dropped and the caller counts it), every
 * walk ends (each call consumes at most E1000_TX_MAX_DESC descriptors,
 * or none), lengths are bounded (E1000_TX_MAX_FRAME, E1000_TX_MAX_TSO)
 * and the host side of every copy is a buffer of the caller's whose size
 * is fixed here.
 */
#ifndef TANDEM_VMM_DEV_E1000_RING_H
#define TANDEM_VMM_DEV_E1000_RING_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "dev/dma.h"
#include "dev/e1000_hw.h"

/* ---- transmit ---- */

#define E1000_TX_MAX_DESC  64        /* descriptors of one frame, at most */
#define E1000_TX_MAX_IOV   32        /* iovecs handed to the engine (NETENG_TX_MAX_FRAGS) */
#define E1000_TX_HEAD_MAX  272       /* private copy of the headers (255 + a VLAN tag) */
#define E1000_TX_MAX_FRAME 16384     /* a frame without TSO (the 8254x's limit is 16288) */
#define E1000_TX_MAX_TSO   (65535 + 256) /* a TSO frame: 64 KiB of IP datagram + headers */
#define E1000_TX_BOUNCE    E1000_TX_MAX_TSO

/* A context descriptor's fields. The model keeps two: one loaded by
 * context descriptors with TSE (used by data descriptors with TSE), one
 * by those without (checksum offload of ordinary frames). */
struct e1000_tx_ctx {
    uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdrlen;
    uint16_t ipcse, tucse, mss;
    uint32_t paylen;
    bool valid;
};

struct e1000_tx_state {
    struct e1000_tx_ctx csum, tso;
};

/* The ring as the walker sees it: base is TDBAH:TDBAL (16-byte aligned),
 * ndesc TDLEN / 16, head the next descriptor to fetch, tail TDT. */
struct e1000_tx_ring {
    uint64_t base;
    uint32_t ndesc, head, tail;
    uint32_t ctrl;                   /* CTRL (VME: VLAN insertion) */
    uint32_t tctl;                   /* TCTL (PSP: pad short frames) */
    uint16_t vet;                    /* VET (0: 0x8100) */
};

enum e1000_tx_kind {
    E1000_TX_NONE,                   /* head == tail (or no usable ring): nothing */
    E1000_TX_WAIT,                   /* a frame whose EOP is not posted yet: nothing consumed */
    E1000_TX_CONTEXT,                /* one context descriptor, loaded into the state */
    E1000_TX_FRAME,                  /* a frame to send: hdr, iov */
    E1000_TX_NOOP,                   /* descriptors that carry no data (retire them) */
    E1000_TX_DROP,                   /* a frame that cannot be sent (why) */
    E1000_TX_NEED_BOUNCE,            /* as FRAME, but too many pieces: call again with a bounce buffer */
};

struct e1000_tx_frame {
    enum e1000_tx_kind kind;
    unsigned ndesc;                  /* descriptors consumed (from ring->head) */
    uint64_t rs_mask;                /* bit i: descriptor head + i asks for DD (RS) */
    bool ide;                        /* a descriptor asked for a delayed interrupt */
    const char *why;                 /* DROP: the reason */
    bool tso;                        /* a TSE frame (TSCTC / TSCTFC) */
    /* FRAME: the offloads for the engine, then the frame as iovecs: the
     * private header copy (head[0..head_len)) first when there is one,
     * then guest memory, and zeros for padding. */
    struct virtio_net_hdr hdr;
    struct iovec iov[E1000_TX_MAX_IOV];
    unsigned niov;
    uint32_t len;                    /* bytes on the wire, without the FCS */
    uint32_t segments;               /* frames the wire sees (TSO: one per MSS) */
    uint32_t wire_bytes;             /* their bytes with headers, for GOTC */
    uint8_t dst0;                    /* first byte of the destination (multicast bit) */
    bool broadcast;
    uint32_t head_len;
    uint8_t head[E1000_TX_HEAD_MAX];
};

/* One unit from ring->head: a context descriptor, a whole frame (data
 * or legacy descriptors up to EOP), or nothing. bounce (NULL, or
 * E1000_TX_BOUNCE bytes of the caller's, kept until the send is done) is
 * where a frame of more pieces than iovecs is gathered. st keeps the
 * contexts between calls. Touches guest memory only through dma. */
void e1000_tx_walk(const struct dev_dma *dma, const struct e1000_tx_ring *ring,
                   struct e1000_tx_state *st, uint8_t *bounce, struct e1000_tx_frame *out);

/* ---- receive ---- */

/* What decides whether a frame is for us. */
struct e1000_rx_filter {
    uint32_t rctl, ctrl;
    uint16_t vet;
    const uint32_t *ra;              /* 2 * E1000_RA_ENTRIES: RAL, RAH pairs */
    const uint32_t *mta;             /* E1000_MTA_WORDS */
    const uint32_t *vfta;            /* E1000_VFTA_WORDS */
};

enum e1000_rx_verdict {
    E1000_RX_ACCEPT,
    E1000_RX_RUNT,                   /* under 14 bytes */
    E1000_RX_FILTERED,               /* not for this address (or VLAN) */
    E1000_RX_TOO_LONG,               /* over 1522 bytes (with the FCS) and RCTL.LPE off, or over the max */
};

#define E1000_RX_MAX_FRAME 16384     /* what LPE allows, without the FCS */

enum e1000_rx_verdict e1000_rx_filter(const struct e1000_rx_filter *f, const uint8_t *frame,
                                      uint32_t len);

/* The receive ring: base RDBAH:RDBAL, ndesc RDLEN / 16, head RDH (next
 * descriptor to fill), tail RDT, bufsize from RCTL.BSIZE/BSEX. */
struct e1000_rx_ring {
    uint64_t base;
    uint32_t ndesc, head, tail, bufsize;
};

/* RCTL's buffer size (0: a reserved encoding, taken as 2048). */
uint32_t e1000_rx_bufsize(uint32_t rctl);

/* Free descriptors (0 if the ring is not usable). */
uint32_t e1000_rx_room(const struct e1000_rx_ring *r);

/* A frame as it is to land in the guest: up to E1000_RX_MAX_PIECES
 * pieces (p NULL: zeros), already filtered, stripped, patched, padded,
 * with the FCS appended when RCTL.SECRC is off. */
#define E1000_RX_MAX_PIECES 8
struct e1000_rx_frame {
    struct { const uint8_t *p; uint32_t len; } piece[E1000_RX_MAX_PIECES];
    unsigned npiece;
    uint32_t len;                    /* sum of the pieces */
    uint8_t status;                  /* bits for the EOP descriptor besides DD|EOP */
    uint8_t errors;
    uint16_t special;                /* VLAN tag (with STA.VP) */
    uint16_t csum;                   /* packet checksum (RXCSUM.PCSS onward) */
    uint8_t patch[2];                /* storage for a piece that replaces 2 bytes */
    uint8_t fcs[4];                  /* storage for the FCS piece */
};

/* Builds f from a frame of the engine (its virtio-net header: a partial
 * checksum, NEEDS_CSUM, is completed here; DATA_VALID lets the
 * descriptor say the checksums are good): VLAN stripping with CTRL.VME,
 * padding to 60 bytes, the FCS unless RCTL.SECRC, the checksum field and
 * status bits by RXCSUM. data must outlive f. */
void e1000_rx_prepare(const struct virtio_net_hdr *hdr, const uint8_t *data, uint32_t len,
                      uint32_t rctl, uint32_t ctrl, uint32_t rxcsum, uint16_t vet,
                      struct e1000_rx_frame *f);

enum e1000_rx_place_result {
    E1000_RX_PLACED,                 /* written; *used descriptors from head */
    E1000_RX_NO_ROOM,                /* too few descriptors posted: nothing written, wait */
    E1000_RX_NEVER_FITS,             /* more descriptors than the whole ring has: drop */
    E1000_RX_BAD_BUFFER,             /* a descriptor or buffer outside RAM: the frame is lost,
                                        *used descriptors consumed (written back with RXE
                                        where the descriptor itself is reachable) */
};

/* Copies f into the descriptors from r->head: each holds bufsize bytes,
 * the last gets EOP and f's status; DD is written after everything else
 * of its descriptor. */
enum e1000_rx_place_result e1000_rx_place(const struct dev_dma *dma, const struct e1000_rx_ring *r,
                                          const struct e1000_rx_frame *f, uint32_t *used);

/* ---- helpers ---- */

/* Ones' complement sum of len bytes (big-endian 16-bit words; an odd
 * final byte is the high half of a word) added to sum, not folded. */
uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, size_t len, bool odd_start);
uint16_t e1000_csum_fold(uint32_t sum);
/* IEEE 802.3 CRC-32 (the FCS), continued from crc (start with 0). */
uint32_t e1000_crc32(uint32_t crc, const uint8_t *p, size_t len);

#endif

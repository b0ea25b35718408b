/*
 * PV block device interface: the request/response layout, operation
 * numbers and status codes of Xen 4.17's public io/blkif.h (the "vbd"
 * protocol), written for Tandem. Layouts are the x86_64 ones; every size
 * and offset the protocol fixes is checked below.
 *
 * Xenstore keys and the XenbusState handshake are described in
 * docs/blkback.md.
 */
#ifndef TANDEM_PUBLIC_IO_BLKIF_H
#define TANDEM_PUBLIC_IO_BLKIF_H

#include <stdint.h>
#include <stddef.h>
#include "ring.h"
#include "../grant_table.h"

typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;

/* Operations. */
#define BLKIF_OP_READ             0
#define BLKIF_OP_WRITE            1
#define BLKIF_OP_WRITE_BARRIER    2   /* feature-barrier */
#define BLKIF_OP_FLUSH_DISKCACHE  3   /* feature-flush-cache */
#define BLKIF_OP_RESERVED_1       4   /* used by SLES; never valid here */
#define BLKIF_OP_DISCARD          5   /* feature-discard */
#define BLKIF_OP_INDIRECT         6   /* feature-max-indirect-segments */

/* Segments of a direct request ("so sizeof(ring) <= PAGE_SIZE"). */
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
/* Grant refs of indirect pages in one indirect request. */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* Sector numbers and first_sect/last_sect count 512-byte units. */
#define BLKIF_SECTOR_SHIFT 9
#define BLKIF_SECTOR_SIZE  512u

/* One page of a request: sectors first_sect..last_sect (inclusive). */
struct blkif_request_segment {
    grant_ref_t gref;
    uint8_t first_sect, last_sect;
};

/* Segments one indirect page holds. */
#define BLKIF_SEGS_PER_INDIRECT_FRAME \
    (XEN_PAGE_SIZE / sizeof(struct blkif_request_segment))

/* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE. */
struct blkif_request {
    uint8_t operation;
    uint8_t nr_segments;
    blkif_vdev_t handle;
    uint64_t id;                        /* echoed in the response */
    blkif_sector_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
typedef struct blkif_request blkif_request_t;

/* DISCARD. */
#define BLKIF_DISCARD_SECURE (1 << 0)  /* ignored unless discard-secure=1 */
struct blkif_request_discard {
    uint8_t operation;
    uint8_t flag;
    blkif_vdev_t handle;
    uint64_t id;
    blkif_sector_t sector_number;
    uint64_t nr_sectors;
};
typedef struct blkif_request_discard blkif_request_discard_t;

/* INDIRECT: the segments live in granted pages (indirect_grefs). */
struct blkif_request_indirect {
    uint8_t operation;
    uint8_t indirect_op;                /* READ or WRITE */
    uint16_t nr_segments;
    uint64_t id;
    blkif_sector_t sector_number;
    blkif_vdev_t handle;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};
typedef struct blkif_request_indirect blkif_request_indirect_t;

struct blkif_response {
    uint64_t id;
    uint8_t operation;
    int16_t status;
};
typedef struct blkif_response blkif_response_t;

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY       0

/* `info` bits. */
#define VDISK_CDROM     0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY  0x4

DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);

/* Ring entries in a ring of 2^order pages. */
#define BLKIF_RING_SIZE(order) \
    __CONST_RING_SIZE(blkif, (size_t)XEN_PAGE_SIZE << (order))

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard.nr_sectors");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "indirect.nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "indirect.handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect.grefs");
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif_request_indirect");
_Static_assert(offsetof(struct blkif_response, operation) == 8, "response.operation");
_Static_assert(offsetof(struct blkif_response, status) == 10, "response.status");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif ring entry");
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "blkif ring header");
_Static_assert(BLKIF_RING_SIZE(0) == 32, "one-page blkif ring holds 32 entries");
_Static_assert(BLKIF_RING_SIZE(4) == 512, "16-page blkif ring holds 512 entries");
_Static_assert(BLKIF_SEGS_PER_INDIRECT_FRAME == 512, "segments per indirect page");

#endif

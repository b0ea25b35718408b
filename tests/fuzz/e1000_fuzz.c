/* libFuzzer target for the e1000's descriptor code
 * (hypervisor/vmm/dev/e1000_ring.c), as a hostile guest drives it: the
 * transmit walker over a ring the input describes (base anywhere, any
 * size, head and tail anywhere) in a 64 KiB guest RAM the input fills,
 * walked the way the device thread walks it (each unit consumed, until
 * nothing or a frame still open); then a frame from the input through
 * the receive filter, preparation and placement into a receive ring the
 * input describes.
 *
 * Checks: no crash or sanitizer report; guest memory only through the
 * dma view (RAM is its own allocation of exactly 64 KiB, so ASan sees an
 * access past it); every walk consumes at least one and at most 64
 * descriptors, never more than were posted; a frame's iovecs lie in RAM,
 * in its header copy, in the bounce buffer or are the padding, add up to
 * its length, are at most 32; offload headers stay inside the frame;
 * what is placed is what was prepared.
 *
 * Input: a 40-byte header, then the RAM image from address 0. Header
 * (little-endian): 0 TX ring size (mod 300), 2 head, 4 tail, 6 base;
 * 10 flags (1 CTRL.VME, 2 TCTL.PSP, 4 bounce given, 8 head and tail
 * taken modulo the size); 11 VET; 13 RX ring size, 15 head, 17 tail,
 * 19 base; 23 RCTL; 27 the frame's virtio-net flags, 28 csum_start,
 * 30 csum_offset; 32 RXCSUM; 36 the frame's length (mod 20000). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/e1000_ring.h"

#define RAM_SIZE 0x10000
#define HDR 40

static uint8_t *ram;
static uint8_t *bounce;

static void *ram_map(void *o, uint64_t gpa, uint64_t len, bool write)
{
    (void)o;
    (void)write;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return ram + gpa;
}

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static bool inside(const void *p, size_t len, const void *base, size_t cap)
{
    const uint8_t *a = p, *b = base;
    return a >= b && a <= b + cap && len <= cap - (size_t)(a - b);
}

static void check_frame(const struct e1000_tx_frame *f)
{
    volatile uint8_t sink = 0;
    uint64_t total = 0;

    if (f->niov == 0 || f->niov > E1000_TX_MAX_IOV || f->head_len > E1000_TX_HEAD_MAX)
        abort();
    for (unsigned i = 0; i < f->niov; i++) {
        const struct iovec *v = &f->iov[i];
        bool ok = inside(v->iov_base, v->iov_len, ram, RAM_SIZE) ||
                  inside(v->iov_base, v->iov_len, f->head, f->head_len) ||
                  inside(v->iov_base, v->iov_len, bounce, E1000_TX_BOUNCE) ||
                  (i == f->niov - 1 && v->iov_len < 60);        /* the padding */
        if (!ok)
            abort();
        for (size_t k = 0; k < v->iov_len; k++)                 /* ASan checks each byte */
            sink ^= ((const uint8_t *)v->iov_base)[k];
        total += v->iov_len;
    }
    (void)sink;
    if (total != f->len || f->len < 14)
        abort();
    if (f->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((uint32_t)f->hdr.csum_start + f->hdr.csum_offset + 2 > f->len)
            abort();
    }
    if (f->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
        (!f->hdr.gso_size || f->hdr.hdr_len > f->len || f->hdr.hdr_len > f->head_len))
        abort();
}

static void fuzz_tx(const uint8_t *h)
{
    struct e1000_tx_ring r = {
        .base = le(h + 6, 4),
        .ndesc = le(h, 2) % 300,
        .head = le(h + 2, 2),
        .tail = le(h + 4, 2),
        .ctrl = h[10] & 1 ? E1000_CTRL_VME : 0,
        .tctl = h[10] & 2 ? E1000_TCTL_PSP : 0,
        .vet = (uint16_t)le(h + 11, 2),
    };
    bool use_bounce = h[10] & 4;
    struct e1000_tx_state st;
    memset(&st, 0, sizeof(st));
    static struct e1000_tx_frame f;

    if (r.ndesc && (h[10] & 8)) {      /* mostly a ring that makes sense */
        r.head %= r.ndesc;
        r.tail %= r.ndesc;
    }
    for (unsigned round = 0; round < 2 * 300 + 2; round++) {
        e1000_tx_walk(&(struct dev_dma){ .map = ram_map }, &r, &st, use_bounce ? bounce : NULL, &f);
        if (f.kind == E1000_TX_NEED_BOUNCE) {
            if (use_bounce)
                abort();               /* it had one */
            e1000_tx_walk(&(struct dev_dma){ .map = ram_map }, &r, &st, bounce, &f);
            if (f.kind == E1000_TX_NEED_BOUNCE)
                abort();
        }
        if (f.kind == E1000_TX_NONE || f.kind == E1000_TX_WAIT)
            return;
        uint32_t avail = (r.tail + r.ndesc - r.head) % r.ndesc;
        if (!f.ndesc || f.ndesc > E1000_TX_MAX_DESC || f.ndesc > avail)
            abort();
        if (f.ndesc < 64 && (f.rs_mask >> f.ndesc))
            abort();
        if (f.kind == E1000_TX_FRAME)
            check_frame(&f);
        if (f.kind == E1000_TX_DROP && !f.why)
            abort();
        r.head = (r.head + f.ndesc) % r.ndesc;
    }
    abort();                           /* a ring of 300 cannot take this many units */
}

static void fuzz_rx(const uint8_t *h)
{
    uint32_t len = le(h + 36, 2) % 20000;
    uint32_t rctl = le(h + 23, 4), ctrl = h[10] & 1 ? E1000_CTRL_VME : 0;
    uint32_t ra[2 * E1000_RA_ENTRIES] = { 0 }, mta[E1000_MTA_WORDS], vfta[E1000_VFTA_WORDS];
    struct virtio_net_hdr vh = { .flags = h[27], .csum_start = (uint16_t)le(h + 28, 2),
                                 .csum_offset = (uint16_t)le(h + 30, 2) };
    /* The frame: RAM bytes from 0x3800 (the input's), copied out as the
     * engine's buffer would be; the address filters from 0x3000. */
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame)
        abort();
    for (uint32_t i = 0; i < len; i++)
        frame[i] = ram[(0x3800 + i) % RAM_SIZE];
    memcpy(ra, ram + 0x3000, 8);       /* RAL0/RAH0 from RAM */
    memcpy(mta, ram + 0x3100, sizeof(mta));
    memcpy(vfta, ram + 0x3300, sizeof(vfta));
    struct e1000_rx_filter flt = { rctl, ctrl, (uint16_t)le(h + 11, 2), ra, mta, vfta };
    enum e1000_rx_verdict v = e1000_rx_filter(&flt, frame, len);
    if (v == E1000_RX_ACCEPT && (len < 14 || len > E1000_RX_MAX_FRAME))
        abort();
    if (len >= 14 && len <= 1518) {    /* prepare and place whatever the filter said */
        static struct e1000_rx_frame rf;
        e1000_rx_prepare(&vh, frame, len, rctl, ctrl, le(h + 32, 4), (uint16_t)le(h + 11, 2), &rf);
        uint32_t sum = 0;
        for (unsigned i = 0; i < rf.npiece; i++)
            sum += rf.piece[i].len;
        if (sum != rf.len || rf.len < 60 || rf.len > len + 4 + 60)
            abort();
        struct e1000_rx_ring r = { .base = le(h + 19, 4), .ndesc = le(h + 13, 2) % 300,
                                   .head = le(h + 15, 2), .tail = le(h + 17, 2),
                                   .bufsize = e1000_rx_bufsize(rctl) };
        uint32_t used;
        enum e1000_rx_place_result pr = e1000_rx_place(&(struct dev_dma){ .map = ram_map }, &r,
                                                       &rf, &used);
        if (pr == E1000_RX_PLACED && (!used || used > e1000_rx_room(&r)))
            abort();
        if (pr == E1000_RX_NO_ROOM && used)
            abort();
    }
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[HDR] = { 0 };

    ram = calloc(1, RAM_SIZE);
    bounce = malloc(E1000_TX_BOUNCE);
    if (!ram || !bounce)
        abort();
    memcpy(h, data, size < HDR ? size : HDR);
    if (size > HDR)
        memcpy(ram, data + HDR, size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE);
    fuzz_tx(h);
    fuzz_rx(h);
    free(bounce);
    free(ram);
    return 0;
}

/*
 * The e1000's descriptor rings (e1000_ring.h; docs/e1000.md). Layouts
 * and rules from Intel's 8254x Software Developer's Manual, chapter 3
 * (receive and transmit descriptors, the TCP/IP context and data
 * descriptors, TCP segmentation) and the Ethernet/IP/TCP headers' own
 * definitions (RFC 791, 793, 8200).
 */
#include <pthread.h>
#include <string.h>

#include "dev/e1000_ring.h"

/* ---- little helpers ---- */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, size_t len, bool odd_start)
{
    uint64_t s = sum;
    size_t i = 0;

    if (odd_start && len) {
        s += p[0];
        i = 1;
    }
    for (; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len)
        s += (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint16_t e1000_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* CRC-32 of IEEE 802.3 (reflected polynomial 0xedb88320), four bytes a
 * step with four tables made on first use. */
static uint32_t crc_tab[4][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

uint32_t e1000_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (len >= 4) {
        crc ^= le32(p);
        crc = crc_tab[3][crc & 0xff] ^ crc_tab[2][(crc >> 8) & 0xff] ^
              crc_tab[1][(crc >> 16) & 0xff] ^ crc_tab[0][crc >> 24];
        p += 4;
        len -= 4;
    }
    while (len--)
        crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- transmit ---- */

struct piece {
    const uint8_t *p;
    uint32_t len;
};

/* What the descriptors of one frame said, collected by the walk. */
struct walk {
    struct piece pc[E1000_TX_MAX_DESC];
    unsigned npc;
    uint32_t total;
    bool bad;
    const char *why;
    bool legacy;                     /* the first descriptor's format */
    uint8_t first[E1000_DESC_SIZE];  /* the first data (or legacy) descriptor */
    uint8_t eop[E1000_DESC_SIZE];    /* the last */
};

/* Copies bytes [off, off + n) of the gathered frame into dst. */
static void gather(const struct walk *w, uint32_t off, uint32_t n, uint8_t *dst)
{
    for (unsigned i = 0; i < w->npc && n; i++) {
        const struct piece *c = &w->pc[i];
        if (off >= c->len) {
            off -= c->len;
            continue;
        }
        uint32_t k = c->len - off < n ? c->len - off : n;
        memcpy(dst, c->p + off, k);
        dst += k;
        n -= k;
        off = 0;
    }
}

/* The frame's ones' complement sum over [start, end): bytes below
 * out->head_len from the header copy (as patched so far), the rest from
 * the guest pieces (not yet trimmed: they still start at offset 0). */
static uint32_t frame_sum(const struct e1000_tx_frame *out, const struct walk *w, uint32_t start,
                          uint32_t end)
{
    uint32_t sum = 0, off = start, base = 0;

    if (off < out->head_len) {
        uint32_t e = end < out->head_len ? end : out->head_len;
        sum = e1000_csum_add(sum, out->head + off, e - off, false);
        off = e;
    }
    for (unsigned i = 0; i < w->npc && off < end; i++) {
        const struct piece *c = &w->pc[i];
        if (off >= base + c->len) {
            base += c->len;
            continue;
        }
        uint32_t from = off - base;
        uint32_t n = c->len - from;
        if (n > end - off)
            n = end - off;
        sum = e1000_csum_add(sum, c->p + from, n, (off - start) & 1);
        off += n;
        base += c->len;
    }
    return sum;
}

/* Drops the first n bytes of the pieces (they are in the header copy). */
static void trim(struct walk *w, uint32_t n)
{
    unsigned i = 0;
    while (i < w->npc && n >= w->pc[i].len)
        n -= w->pc[i++].len;
    memmove(w->pc, w->pc + i, (w->npc - i) * sizeof(w->pc[0]));
    w->npc -= i;
    if (w->npc && n) {
        w->pc[0].p += n;
        w->pc[0].len -= n;
    }
}

static void load_context(const uint8_t *d, struct e1000_tx_state *st)
{
    uint8_t tucmd = d[11];
    struct e1000_tx_ctx *c = tucmd & E1000_TUCMD_TSE ? &st->tso : &st->csum;

    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = le16(d + 2);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = le16(d + 6);
    c->paylen = le32(d + 8) & 0xfffff;
    c->tucmd = tucmd;
    c->hdrlen = d[13];
    c->mss = le16(d + 14);
    c->valid = true;
}

/* A software checksum over [start, end] (end 0: the end of the frame)
 * stored at at, which must lie in the header copy. */
static bool soft_csum(struct e1000_tx_frame *out, const struct walk *w, uint32_t start,
                      uint32_t end_incl, uint32_t at, bool udp)
{
    uint32_t end = end_incl && end_incl + 1 < w->total ? end_incl + 1 : w->total;

    if (start >= end || at + 2 > out->head_len)
        return false;
    uint16_t v = (uint16_t)~e1000_csum_fold(frame_sum(out, w, start, end));
    if (udp && v == 0)
        v = 0xffff;
    put_be16(out->head + at, v);
    return true;
}

static void drop(struct e1000_tx_frame *out, const char *why)
{
    out->kind = E1000_TX_DROP;
    out->why = why;
}

/* TCP segmentation: the headers (HDRLEN bytes, in the copy) become the
 * template the kernel segments from: the IP length covers the whole
 * datagram, the IPv4 header checksum is right, and the TCP checksum
 * holds the pseudo-header sum with the TCP length (what a partial
 * checksum, CHECKSUM_PARTIAL, means; the 8254x's driver leaves the length
 * out, since the hardware adds each segment's). */
static void build_tso(struct e1000_tx_frame *out, const struct walk *w, const struct e1000_tx_ctx *c)
{
    bool v4 = c->tucmd & E1000_TUCMD_IP;
    uint32_t total = w->total, hl = c->hdrlen, ipmin = v4 ? 20 : 40;

    out->tso = true;
    if (!c->valid)
        return drop(out, "TSO without a TSO context");
    if (!(c->tucmd & E1000_TUCMD_TCP))
        return drop(out, "UDP segmentation is not supported");
    if (!c->mss)
        return drop(out, "TSO with MSS 0");
    if (hl > total || c->ipcss + ipmin > c->tucss || c->tucss + 20u > hl ||
        c->tucso < c->tucss || c->tucso + 2u > hl)
        return drop(out, "TSO headers out of place");
    if (total > E1000_TX_MAX_TSO || total - c->ipcss - (v4 ? 0 : 40) > 0xffff)
        return drop(out, "TSO frame too long");
    out->head_len = hl;
    gather(w, 0, hl, out->head);

    uint8_t *ip = out->head + c->ipcss;
    uint32_t l4len = total - c->tucss, sum = 0;
    if (v4) {
        unsigned ihl = (ip[0] & 0xf) * 4u;
        if ((ip[0] >> 4) != 4 || ihl < 20 || c->ipcss + ihl > c->tucss)
            return drop(out, "TSO: not an IPv4 header");
        put_be16(ip + 2, (uint16_t)(total - c->ipcss));
        put_be16(ip + 10, 0);
        put_be16(ip + 10, (uint16_t)~e1000_csum_fold(e1000_csum_add(0, ip, ihl, false)));
        sum = e1000_csum_add(0, ip + 12, 8, false);
        sum += 6 + l4len;
    } else {
        if ((ip[0] >> 4) != 6)
            return drop(out, "TSO: not an IPv6 header");
        put_be16(ip + 4, (uint16_t)(total - c->ipcss - 40));
        sum = e1000_csum_add(0, ip + 8, 32, false);
        sum += 6 + (l4len >> 16) + (l4len & 0xffff);
    }
    put_be16(out->head + c->tucso, e1000_csum_fold(sum));

    uint32_t payload = total - hl;
    out->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    out->hdr.csum_start = c->tucss;
    out->hdr.csum_offset = (uint16_t)(c->tucso - c->tucss);
    if (payload > c->mss) {
        out->hdr.gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
        out->hdr.gso_size = c->mss;
        out->hdr.hdr_len = (uint16_t)hl;
    }
    out->segments = payload ? (payload + c->mss - 1) / c->mss : 1;
    out->wire_bytes = payload + out->segments * (hl + 4);
}

/* Checksum offloads of an ordinary frame (legacy IC, or POPTS with the
 * normal context): to the end of the frame they become a partial
 * checksum for the engine; a checksum that ends early (TUCSE) or the IP
 * header's (IXSM) is computed here into the header copy. */
static void build_csum(struct e1000_tx_frame *out, const struct walk *w,
                       const struct e1000_tx_ctx *c, bool ixsm, bool txsm)
{
    uint32_t total = w->total, need = 0;
    bool soft_tu = false;

    if (ixsm && c->valid && c->ipcso + 2u <= total)
        need = c->ipcso + 2u;
    if (txsm && c->valid && c->tucss < total && c->tucso + 2u <= total &&
        c->tucso >= c->tucss) {
        soft_tu = c->tucse && c->tucse + 1u < total;
        if (soft_tu && c->tucso + 2u > need)
            need = c->tucso + 2u;
        if (!soft_tu) {
            out->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            out->hdr.csum_start = c->tucss;
            out->hdr.csum_offset = (uint16_t)(c->tucso - c->tucss);
        }
    }
    if (need > out->head_len) {
        out->head_len = need;
        gather(w, 0, need, out->head);
    }
    /* The IP header first: the TCP/UDP checksum does not cover it. */
    if (ixsm && c->valid)
        soft_csum(out, w, c->ipcss, c->ipcse, c->ipcso, false);
    if (soft_tu)
        soft_csum(out, w, c->tucss, c->tucse, c->tucso, !(c->tucmd & E1000_TUCMD_TCP));
}

static void finish(struct e1000_tx_frame *out, struct walk *w, const struct e1000_tx_ring *ring,
                   const struct e1000_tx_state *st, uint8_t *bounce)
{
    uint32_t total = w->total;
    bool vle, ext = !w->legacy;
    uint16_t special;
    uint8_t first6[6] = { 0 };

    gather(w, 0, total < 6 ? total : 6, first6);
    out->dst0 = first6[0];
    out->broadcast = total >= 6 && !memcmp(first6, "\xff\xff\xff\xff\xff\xff", 6);
    out->segments = 1;
    out->wire_bytes = total + 4;

    if (ext) {
        bool tse = w->first[11] & E1000_TXD_CMD_TSE;
        uint8_t popts = w->first[13];
        /* VLE and the tag: the first descriptor's with TSE, the last's without. */
        const uint8_t *vd = tse ? w->first : w->eop;
        vle = vd[11] & E1000_TXD_CMD_VLE;
        special = le16(vd + 14);
        if (tse)
            build_tso(out, w, &st->tso);
        else
            build_csum(out, w, &st->csum, popts & E1000_TXD_POPTS_IXSM,
                       popts & E1000_TXD_POPTS_TXSM);
    } else {
        vle = w->eop[11] & E1000_TXD_CMD_VLE;
        special = le16(w->eop + 14);
        if (w->eop[11] & E1000_TXD_CMD_IC) {
            uint32_t css = w->first[13], cso = w->eop[10];
            /* IC is ignored when CSS or CSO is outside the frame. */
            if (css < total && cso + 1 < total && cso >= css) {
                out->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
                out->hdr.csum_start = (uint16_t)css;
                out->hdr.csum_offset = (uint16_t)(cso - css);
            }
        }
    }
    if (out->kind == E1000_TX_DROP)
        return;
    if (!(ring->ctrl & E1000_CTRL_VME))
        vle = false;
    if (vle && out->head_len < 12) {
        /* (the frame has 14 bytes at least) */
        gather(w, out->head_len, 12 - out->head_len, out->head + out->head_len);
        out->head_len = 12;
    }
    trim(w, out->head_len);
    if (vle) {
        /* The tag goes after the two addresses: VET (or 802.1Q's), then
         * the descriptor's special field as the tag control. */
        memmove(out->head + 16, out->head + 12, out->head_len - 12);
        put_be16(out->head + 12, ring->vet ? ring->vet : 0x8100);
        put_be16(out->head + 14, special);
        out->head_len += 4;
        total += 4;
        out->wire_bytes += 4 * out->segments;
        if (out->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
            out->hdr.csum_start += 4;
        if (out->hdr.hdr_len)
            out->hdr.hdr_len += 4;
    }

    /* The iovecs: header copy, guest pieces, padding. */
    static const uint8_t zeros[60];
    uint32_t pad = 0;
    if ((ring->tctl & E1000_TCTL_PSP) && !out->tso && total < 60) {
        pad = 60 - total;
        out->wire_bytes += pad;
    }
    unsigned need = (out->head_len ? 1 : 0) + w->npc + (pad ? 1 : 0);
    out->niov = 0;
    if (out->head_len)
        out->iov[out->niov++] = (struct iovec){ out->head, out->head_len };
    if (need > E1000_TX_MAX_IOV) {
        if (!bounce) {
            out->kind = E1000_TX_NEED_BOUNCE;
            return;
        }
        uint32_t n = 0;
        for (unsigned i = 0; i < w->npc; i++) {
            memcpy(bounce + n, w->pc[i].p, w->pc[i].len);
            n += w->pc[i].len;
        }
        out->iov[out->niov++] = (struct iovec){ bounce, n };
    } else {
        for (unsigned i = 0; i < w->npc; i++)
            out->iov[out->niov++] = (struct iovec){ (void *)w->pc[i].p, w->pc[i].len };
    }
    if (pad)
        out->iov[out->niov++] = (struct iovec){ (void *)zeros, pad };
    out->len = total + pad;
    out->kind = E1000_TX_FRAME;
}

void e1000_tx_walk(const struct dev_dma *dma, const struct e1000_tx_ring *ring,
                   struct e1000_tx_state *st, uint8_t *bounce, struct e1000_tx_frame *out)
{
    struct walk wlocal, *w = &wlocal;
    uint32_t n = ring->ndesc;

    memset(out, 0, offsetof(struct e1000_tx_frame, head));
    out->kind = E1000_TX_NONE;
    if (!n || ring->head >= n || ring->tail >= n || ring->head == ring->tail)
        return;
    uint32_t avail = (ring->tail + n - ring->head) % n;

    w->npc = 0;
    w->total = 0;
    w->bad = false;
    w->why = NULL;
    for (uint32_t i = 0; i < avail; i++) {
        if (i == E1000_TX_MAX_DESC) {
            out->ndesc = i;
            return drop(out, "no end of packet within 64 descriptors");
        }
        uint64_t gpa = ring->base + (uint64_t)((ring->head + i) % n) * E1000_DESC_SIZE;
        const uint8_t *m = dma_map(dma, gpa, E1000_DESC_SIZE, false);
        uint8_t d[E1000_DESC_SIZE];
        if (!m) {
            out->ndesc = i + 1;
            return drop(out, "descriptor outside guest RAM");
        }
        memcpy(d, m, sizeof(d));     /* one read of the guest's copy */
        uint8_t cmd = d[11];
        bool dext = cmd & E1000_TXD_CMD_DEXT;
        unsigned dtyp = d[10] >> 4;
        if (dext && dtyp == E1000_TXD_DTYP_CTX) {
            if (i > 0) {
                out->ndesc = i;
                return drop(out, "context descriptor inside a frame");
            }
            load_context(d, st);
            out->kind = E1000_TX_CONTEXT;
            out->ndesc = 1;
            out->rs_mask = cmd & E1000_TXD_CMD_RS ? 1 : 0;
            out->ide = cmd & E1000_TXD_CMD_IDE;
            return;
        }
        if (cmd & E1000_TXD_CMD_RS)
            out->rs_mask |= 1ull << i;
        if (cmd & E1000_TXD_CMD_IDE)
            out->ide = true;
        uint64_t addr = le64(d);
        uint32_t len = 0;
        if (!dext)
            len = le16(d + 8);
        else if (dtyp == E1000_TXD_DTYP_DATA)
            len = le32(d + 8) & 0xfffff;
        else if (!w->bad) {
            w->bad = true;
            w->why = "unknown descriptor type";
        }
        if (i == 0) {
            w->legacy = !dext;
            memcpy(w->first, d, sizeof(d));
        }
        if (len && addr && !w->bad) {
            const uint8_t *p;
            if (w->total + len > E1000_TX_MAX_TSO) {
                w->bad = true;
                w->why = "frame too long";
            } else if (!(p = dma_map(dma, addr, len, false))) {
                w->bad = true;
                w->why = "buffer outside guest RAM";
            } else if (w->npc && w->pc[w->npc - 1].p + w->pc[w->npc - 1].len == p) {
                w->pc[w->npc - 1].len += len;
                w->total += len;
            } else {
                w->pc[w->npc++] = (struct piece){ p, len };
                w->total += len;
            }
        }
        if (cmd & E1000_TXD_CMD_EOP) {
            memcpy(w->eop, d, sizeof(d));
            out->ndesc = i + 1;
            if (w->bad)
                return drop(out, w->why);
            if (!w->total) {
                out->kind = E1000_TX_NOOP;
                return;
            }
            bool tse = !w->legacy && (w->first[11] & E1000_TXD_CMD_TSE);
            if (!tse && w->total > E1000_TX_MAX_FRAME)
                return drop(out, "frame too long");
            if (w->total < 14)
                return drop(out, "frame under 14 bytes");
            finish(out, w, ring, st, bounce);
            return;
        }
    }
    out->kind = E1000_TX_WAIT;
    out->rs_mask = 0;
    out->ide = false;
}

/* ---- receive: filter ---- */

static bool mta_hit(const struct e1000_rx_filter *f, const uint8_t *dst)
{
    /* RCTL.MO picks which 12 bits of the address index the table:
     * 47:36, 46:35, 45:34 or 43:32. */
    static const unsigned shift[4] = { 4, 3, 2, 0 };
    unsigned mo = (f->rctl & E1000_RCTL_MO) >> E1000_RCTL_MO_SHIFT;
    unsigned h = ((dst[4] >> shift[mo]) | ((unsigned)dst[5] << (8 - shift[mo]))) & 0xfff;
    return f->mta[h >> 5] >> (h & 31) & 1;
}

enum e1000_rx_verdict e1000_rx_filter(const struct e1000_rx_filter *f, const uint8_t *frame,
                                      uint32_t len)
{
    const uint8_t *dst = frame;
    uint16_t tpid = f->vet ? f->vet : 0x8100;

    if (len < 14)
        return E1000_RX_RUNT;
    if (len > E1000_RX_MAX_FRAME || (!(f->rctl & E1000_RCTL_LPE) && len + 4 > 1522))
        return E1000_RX_TOO_LONG;
    if ((f->rctl & E1000_RCTL_VFE) && len >= 18 && be16(frame + 12) == tpid) {
        unsigned vid = be16(frame + 14) & 0xfff;
        if (!(f->vfta[vid >> 5] >> (vid & 31) & 1))
            return E1000_RX_FILTERED;
    }
    for (unsigned i = 0; i < E1000_RA_ENTRIES; i++) {
        uint32_t ral = f->ra[2 * i], rah = f->ra[2 * i + 1];
        if (!(rah & E1000_RAH_AV) || (rah & E1000_RAH_ASEL))
            continue;
        if (le32(dst) == ral && le16(dst + 4) == (rah & 0xffff))
            return E1000_RX_ACCEPT;
    }
    if (dst[0] & 1) {
        bool bcast = !memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6);
        if ((bcast && (f->rctl & E1000_RCTL_BAM)) || (f->rctl & E1000_RCTL_MPE) || mta_hit(f, dst))
            return E1000_RX_ACCEPT;
        return E1000_RX_FILTERED;
    }
    return f->rctl & E1000_RCTL_UPE ? E1000_RX_ACCEPT : E1000_RX_FILTERED;
}

/* ---- receive: the frame as delivered ---- */

uint32_t e1000_rx_bufsize(uint32_t rctl)
{
    unsigned sz = (rctl & E1000_RCTL_BSIZE) >> E1000_RCTL_BSIZE_SHIFT;
    if (rctl & E1000_RCTL_BSEX) {
        static const uint32_t ext[4] = { 2048, 16384, 8192, 4096 };
        return ext[sz];
    }
    return 2048u >> sz;
}

uint32_t e1000_rx_room(const struct e1000_rx_ring *r)
{
    if (!r->ndesc || r->head >= r->ndesc || r->tail >= r->ndesc)
        return 0;
    return (r->tail + r->ndesc - r->head) % r->ndesc;
}

static void add_piece(struct e1000_rx_frame *f, const uint8_t *p, uint32_t len)
{
    if (!len || f->npiece == E1000_RX_MAX_PIECES)
        return;
    f->piece[f->npiece].p = p;
    f->piece[f->npiece].len = len;
    f->npiece++;
    f->len += len;
}

/* Ones' complement sum of the delivered bytes from start to the end. */
static uint32_t pieces_sum(const struct e1000_rx_frame *f, uint32_t start)
{
    static const uint8_t zeros[64];
    uint32_t sum = 0, off = 0;

    for (unsigned i = 0; i < f->npiece; i++) {
        uint32_t len = f->piece[i].len, from = start > off ? start - off : 0;
        if (from < len) {
            uint32_t at = off + from;
            if (f->piece[i].p) {
                sum = e1000_csum_add(sum, f->piece[i].p + from, len - from, (at - start) & 1);
            } else {
                for (uint32_t k = from; k < len; k += sizeof(zeros))
                    sum = e1000_csum_add(sum, zeros, len - k < sizeof(zeros) ? len - k : sizeof(zeros),
                                         (off + k - start) & 1);
            }
        }
        off += len;
    }
    return sum;
}

static uint32_t pieces_crc(const struct e1000_rx_frame *f)
{
    static const uint8_t zeros[64];
    uint32_t crc = 0;

    for (unsigned i = 0; i < f->npiece; i++) {
        if (f->piece[i].p) {
            crc = e1000_crc32(crc, f->piece[i].p, f->piece[i].len);
        } else {
            for (uint32_t k = 0; k < f->piece[i].len; k += sizeof(zeros)) {
                uint32_t n = f->piece[i].len - k;
                crc = e1000_crc32(crc, zeros, n < sizeof(zeros) ? n : sizeof(zeros));
            }
        }
    }
    return crc;
}

/* IPCS/TCPCS (and IPE) for a frame whose TCP/UDP checksum is known good:
 * the host verified it (DATA_VALID) or we just computed it. */
static void csum_status(const uint8_t *data, uint32_t len, uint32_t l3, uint32_t rxcsum,
                        struct e1000_rx_frame *f)
{
    if (l3 + 20 > len)
        return;
    uint16_t type = be16(data + l3 - 2);
    const uint8_t *ip = data + l3;
    if (type == 0x0800 && (ip[0] >> 4) == 4) {
        unsigned ihl = (ip[0] & 0xf) * 4u;
        if (ihl < 20 || l3 + ihl > len)
            return;
        if (rxcsum & E1000_RXCSUM_IPOFL) {
            bool ok = e1000_csum_fold(e1000_csum_add(0, ip, ihl, false)) == 0xffff;
            f->status |= E1000_RXD_STA_IPCS;
            if (!ok)
                f->errors |= E1000_RXD_ERR_IPE;
        }
        bool frag = (be16(ip + 6) & 0x3fff) != 0;
        if ((rxcsum & E1000_RXCSUM_TUOFL) && !frag && (ip[9] == 6 || ip[9] == 17))
            f->status |= E1000_RXD_STA_TCPCS;
    } else if (type == 0x86dd && (ip[0] >> 4) == 6 && l3 + 40 <= len) {
        if ((rxcsum & E1000_RXCSUM_TUOFL) && (ip[6] == 6 || ip[6] == 17))
            f->status |= E1000_RXD_STA_TCPCS;
    }
}

void e1000_rx_prepare(const struct virtio_net_hdr *hdr, const uint8_t *data, uint32_t len,
                      uint32_t rctl, uint32_t ctrl, uint32_t rxcsum, uint16_t vet,
                      struct e1000_rx_frame *f)
{
    uint16_t tpid = vet ? vet : 0x8100;
    uint32_t po = UINT32_MAX;        /* where the completed checksum goes */
    bool valid = hdr->flags & VIRTIO_NET_HDR_F_DATA_VALID;

    memset(f, 0, sizeof(*f));
    /* A partial checksum (the host left it to the receiver, as for a
     * virtio guest): an e1000 guest expects complete frames. */
    if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        uint32_t start = hdr->csum_start, at = start + hdr->csum_offset;
        if (start < len && at + 2 <= len) {
            uint16_t v = (uint16_t)~e1000_csum_fold(e1000_csum_add(0, data + start, len - start,
                                                                   false));
            put_be16(f->patch, v ? v : 0xffff);
            po = at;
            valid = true;
        }
    }
    bool tagged = len >= 18 && be16(data + 12) == tpid;
    bool strip = tagged && (ctrl & E1000_CTRL_VME);
    if (strip) {
        f->special = be16(data + 14);
        f->status |= E1000_RXD_STA_VP;
        if (po < 16)
            po = UINT32_MAX;
    }
    uint32_t cur = len < 12 ? len : 12;
    add_piece(f, data, cur);
    if (strip)
        cur = 16;
    if (po != UINT32_MAX && po >= cur) {
        add_piece(f, data + cur, po - cur);
        add_piece(f, f->patch, 2);
        cur = po + 2;
    }
    if (cur < len)
        add_piece(f, data + cur, len - cur);
    if (f->len < 60)
        add_piece(f, NULL, 60 - f->len);

    if (valid)
        csum_status(data, len, tagged ? 18 : 14, rxcsum, f);
    if (!(f->status & (E1000_RXD_STA_IPCS | E1000_RXD_STA_TCPCS)))
        f->status |= E1000_RXD_STA_IXSM;   /* no verdict: the guest checks */
    f->csum = e1000_csum_fold(pieces_sum(f, rxcsum & E1000_RXCSUM_PCSS));
    if (!(rctl & E1000_RCTL_SECRC)) {
        uint32_t crc = pieces_crc(f);
        f->fcs[0] = (uint8_t)crc;
        f->fcs[1] = (uint8_t)(crc >> 8);
        f->fcs[2] = (uint8_t)(crc >> 16);
        f->fcs[3] = (uint8_t)(crc >> 24);
        add_piece(f, f->fcs, 4);
    }
}

/* ---- receive: placement ---- */

enum e1000_rx_place_result e1000_rx_place(const struct dev_dma *dma, const struct e1000_rx_ring *r,
                                          const struct e1000_rx_frame *f, uint32_t *used)
{
    uint32_t bs = r->bufsize;

    *used = 0;
    if (!bs || !e1000_rx_room(r))
        return E1000_RX_NO_ROOM;
    uint32_t need = (f->len + bs - 1) / bs;
    if (!need)
        need = 1;
    if (need > r->ndesc - 1)
        return E1000_RX_NEVER_FITS;
    if (need > e1000_rx_room(r))
        return E1000_RX_NO_ROOM;

    unsigned pi = 0;
    uint32_t poff = 0, left = f->len;
    for (uint32_t k = 0; k < need; k++) {
        uint64_t gpa = r->base + (uint64_t)((r->head + k) % r->ndesc) * E1000_DESC_SIZE;
        uint8_t *d = dma_map(dma, gpa, E1000_DESC_SIZE, true);
        uint32_t chunk = left < bs ? left : bs;
        bool last = k + 1 == need;
        *used = k + 1;
        if (!d)
            return E1000_RX_BAD_BUFFER;
        uint64_t addr = le64(d);
        uint8_t *b = addr && chunk ? dma_map(dma, addr, chunk, true) : NULL;
        if (!b && chunk) {
            put_le16(d + 8, 0);
            put_le16(d + 10, 0);
            d[13] = E1000_RXD_ERR_RXE;
            put_le16(d + 14, 0);
            __atomic_store_n(d + 12, (uint8_t)(E1000_RXD_STA_DD | E1000_RXD_STA_EOP),
                             __ATOMIC_RELEASE);
            return E1000_RX_BAD_BUFFER;
        }
        for (uint32_t done = 0; done < chunk;) {
            uint32_t n = f->piece[pi].len - poff;
            if (n > chunk - done)
                n = chunk - done;
            if (f->piece[pi].p)
                memcpy(b + done, f->piece[pi].p + poff, n);
            else
                memset(b + done, 0, n);
            done += n;
            poff += n;
            if (poff == f->piece[pi].len) {
                pi++;
                poff = 0;
            }
        }
        left -= chunk;
        put_le16(d + 8, (uint16_t)chunk);
        put_le16(d + 10, last ? f->csum : 0);
        d[13] = last ? f->errors : 0;
        put_le16(d + 14, last ? f->special : 0);
        __atomic_store_n(d + 12,
                         (uint8_t)(E1000_RXD_STA_DD | (last ? E1000_RXD_STA_EOP | f->status : 0)),
                         __ATOMIC_RELEASE);
    }
    return E1000_RX_PLACED;
}

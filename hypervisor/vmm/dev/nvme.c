/*
 * NVMe controller (nvme.h; docs/hvm.md "NVMe"). Register layout, command
 * formats and status codes from the NVM Express Base Specification 1.4.
 *
 * The controller's thread owns every queue, command and engine. The vCPUs
 * only touch the registers (under n->lock) and the doorbell values
 * (atomics), and wake the thread. A command is copied out of the guest's
 * submission queue before it is parsed (the guest may change the entry
 * meanwhile); its PRPs become host iovecs checked against the guest's RAM
 * (dev/dma.h) and go to the namespace's block engine; a completion entry
 * is written with its phase tag last, then the queue's interrupt is sent.
 *
 * What a reset means: CC.EN going 0 (or the controller being destroyed)
 * stops fetching, and CSTS.RDY reads 0 only once every request the
 * engines hold has come back, so that no read lands in memory the guest
 * took back; their completions are dropped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkeng.h"
#include "dev/nvme.h"
#include "iobus.h"

#define PAGE        4096u
#define SQE_SIZE    64u
#define CQE_SIZE    16u
#define NQ          (NVME_MAX_IO_QUEUES + 1)
#define MAX_CMDS    512u         /* commands in flight at most, every queue together */
#define ENG_DEPTH   512u         /* requests in flight per namespace */
#define AER_MAX     4u           /* Asynchronous Event Requests held (AERL + 1) */
#define BATCH       32u          /* commands taken from one queue per round */
#define MSIX_BAR    4
#define MAX_XFER    ((uint64_t)PAGE << NVME_MDTS)

/* Controller registers (BAR0). */
#define REG_CAP     0x00
#define REG_VS      0x08
#define REG_INTMS   0x0c
#define REG_INTMC   0x10
#define REG_CC      0x14
#define REG_CSTS    0x1c
#define REG_NSSR    0x20
#define REG_AQA     0x24
#define REG_ASQ     0x28
#define REG_ACQ     0x30

#define CC_EN         0x1u
#define CC_CSS(cc)    (((cc) >> 4) & 7)
#define CC_MPS(cc)    (((cc) >> 7) & 0xf)
#define CC_SHN(cc)    (((cc) >> 14) & 3)
#define CC_IOSQES(cc) (((cc) >> 16) & 0xf)
#define CC_IOCQES(cc) (((cc) >> 20) & 0xf)
#define CSTS_RDY      0x1u
#define CSTS_CFS      0x2u
#define CSTS_SHST_OCCURRING (1u << 2)
#define CSTS_SHST_DONE      (2u << 2)
#define CSTS_SHST_MASK      (3u << 2)

#define NVME_VERSION  0x00010400u    /* 1.4.0 */

/* Status: SCT << 8 | SC. */
#define SC_SUCCESS            0x000
#define SC_INVALID_OPCODE     0x001
#define SC_INVALID_FIELD      0x002
#define SC_DATA_XFER_ERROR    0x004
#define SC_INTERNAL           0x006
#define SC_ABORT_REQ          0x007
#define SC_ABORT_SQ_DELETED   0x008
#define SC_INVALID_NS         0x00b
#define SC_PRP_OFFSET         0x013
#define SC_NS_WRITE_PROTECTED 0x020
#define SC_LBA_RANGE          0x080
#define SC_CAPACITY_EXCEEDED  0x081
#define SC_CQ_INVALID         0x100
#define SC_QID_INVALID        0x101
#define SC_QSIZE_INVALID      0x102
#define SC_AER_LIMIT          0x105
#define SC_INVALID_VECTOR     0x108
#define SC_LOG_PAGE_INVALID   0x109
#define SC_FEAT_NOT_SAVEABLE  0x10d
#define SC_QDEL_INVALID       0x10c
#define SC_WRITE_FAULT        0x280
#define SC_UNRECOVERED_READ   0x281
#define SC_PENDING            0xffff /* no completion now (AER, a delete waiting) */

/* Opcodes. */
enum {
    ADM_DELETE_SQ = 0x00, ADM_CREATE_SQ = 0x01, ADM_GET_LOG = 0x02, ADM_DELETE_CQ = 0x04,
    ADM_CREATE_CQ = 0x05, ADM_IDENTIFY = 0x06, ADM_ABORT = 0x08, ADM_SET_FEAT = 0x09,
    ADM_GET_FEAT = 0x0a, ADM_AER = 0x0c, ADM_DBBUF = 0x7c,
};
enum { IO_FLUSH = 0x00, IO_WRITE = 0x01, IO_READ = 0x02, IO_DSM = 0x09 };
enum {
    FEAT_ARB = 0x01, FEAT_POWER = 0x02, FEAT_TEMP = 0x04, FEAT_ERR_REC = 0x05, FEAT_VWC = 0x06,
    FEAT_NQUEUES = 0x07, FEAT_IRQ_COALESCE = 0x08, FEAT_IRQ_CONFIG = 0x09, FEAT_ATOMIC = 0x0a,
    FEAT_AEN_CONFIG = 0x0b, FEAT_MAX = 0x0c,
};

struct sqe {
    uint32_t cdw0, nsid, rsvd[2];
    uint64_t mptr, prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct sqe) == SQE_SIZE, "submission queue entry");

struct sq {
    bool live;
    uint16_t cqid;
    uint32_t size, head, tail;
    const uint8_t *ring;
    unsigned inflight;
    bool deleting;                 /* a Delete I/O SQ waits for inflight 0 */
    uint16_t delete_cid;
};

struct cq {
    bool live, ien, phase, notify;
    uint16_t iv;
    uint32_t size, tail, head;
    uint8_t *ring;
    unsigned reserved;             /* commands taken that will complete here */
    unsigned nsq;
};

struct cmd;
struct part {
    struct blkeng_req er;
    struct cmd *cmd;
};

struct cmd {
    struct nvme *n;
    struct cmd *next_free;
    uint32_t gen;
    uint16_t sqid, cid;
    uint8_t opc;
    unsigned ns;                   /* 0-based */
    uint64_t bytes;
    int status;
    unsigned parts_left;
    struct part one;
    struct part *many;
    struct iovec iov[BLKENG_MAX_IOV];
    unsigned niov;
    void *bounce;                  /* an aligned copy for O_DIRECT (see io_rw) */
    struct iovec bounce_iov;
};

struct nvme {
    struct nvme_config cfg;
    struct pci_dev *dev;
    struct iobus *iobus;
    uint64_t bar0;                 /* where BAR0 decodes now (0: nowhere) */
    bool bar0_mapped;

    /* Registers, shared with the vCPUs. */
    pthread_mutex_t lock;
    uint64_t cap;
    uint32_t cc, csts, intms, aqa;
    uint64_t asq, acq;
    bool ctl_dirty;                /* CC, INTMS/INTMC changed: the thread looks */
    _Atomic uint32_t db[2 * NQ];   /* doorbells: SQ y tail at 2y, CQ y head at 2y + 1 */
    atomic_bool kicked;            /* the thread is awake or already woken */
    /* A CQ head doorbell wakes the thread only when it waits for CQ room
     * (cq_wait) or holds INTx up (intx_mode: the level follows the heads);
     * with shadow doorbells the CQ heads' ioeventfds go to cq_efd, which it
     * polls only then. Otherwise the heads are read at the next round. */
    atomic_bool cq_wait, intx_mode;
    int cq_efd;
    atomic_bool stop;
    int efd;
    pthread_t thread;
    bool thread_started;
    struct nvme_stats stats;       /* under lock when read; the thread adds (stats_lock) */
    pthread_mutex_t stats_lock;

    /* The thread's. */
    uint32_t cc_applied;
    bool enabled, resetting, shutting_down, flushing;
    uint32_t gen;
    struct sq sq[NQ];
    struct cq cq[NQ];
    unsigned nr_io_queues;         /* what Set Features Number of Queues granted */
    uint16_t aer_cid[AER_MAX];
    unsigned nr_aer;
    uint32_t feat[FEAT_MAX];
    uint32_t *shadow_db, *eventidx;  /* Doorbell Buffer Config (host pointers) or NULL */
    bool ioeventfds_on;
    uint64_t ioeventfd_bar;        /* the BAR0 address the ioeventfds were set for */
    struct blkeng *eng[NVME_MAX_NS];
    struct cmd *cmds, *free_cmds;
    unsigned cmds_out;
    bool intx_level;
    unsigned unknown_logged;
};

/* ---- little helpers ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }

static void put_str(uint8_t *p, size_t len, const char *s)
{
    memset(p, ' ', len);
    size_t l = strlen(s);
    memcpy(p, s, l < len ? l : len);
}

static void stat_add(struct nvme *n, uint64_t *field, uint64_t v)
{
    pthread_mutex_lock(&n->stats_lock);
    *field += v;
    pthread_mutex_unlock(&n->stats_lock);
}

static void wake(struct nvme *n)
{
    if (!atomic_exchange(&n->kicked, true)) {
        uint64_t one = 1;
        if (write(n->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            fprintf(stderr, "tandem-vmm: %s: waking the controller: %s\n", n->cfg.name,
                    strerror(errno));
    }
}

static uint64_t ns_sectors(const struct nvme *n, unsigned ns)
{
    return n->cfg.ns[ns]->sectors;
}

/* ---- registers (vCPU threads) ---- */

/* The 32-bit register at off (a 64-bit one is two: low at off, high at
 * off + 4). */
static uint32_t reg_read32(const struct nvme *n, uint64_t off)
{
    switch (off) {
    case REG_CAP:     return (uint32_t)n->cap;
    case REG_CAP + 4: return (uint32_t)(n->cap >> 32);
    case REG_VS:      return NVME_VERSION;
    case REG_INTMS:
    case REG_INTMC:   return n->intms;
    case REG_CC:      return n->cc;
    case REG_CSTS:    return n->csts;
    case REG_AQA:     return n->aqa;
    case REG_ASQ:     return (uint32_t)n->asq;
    case REG_ASQ + 4: return (uint32_t)(n->asq >> 32);
    case REG_ACQ:     return (uint32_t)n->acq;
    case REG_ACQ + 4: return (uint32_t)(n->acq >> 32);
    default:          return 0;   /* NSSR reads 0; reserved and CMB registers too */
    }
}

static uint64_t set_half(uint64_t reg, bool high, uint32_t v)
{
    return high ? (reg & 0xffffffffULL) | (uint64_t)v << 32 : (reg & ~0xffffffffULL) | v;
}

static void reg_write32(struct nvme *n, uint64_t off, uint32_t v)
{
    switch (off) {
    case REG_INTMS: n->intms |= v; n->ctl_dirty = true; break;
    case REG_INTMC: n->intms &= ~v; n->ctl_dirty = true; break;
    case REG_CC:    n->cc = v & 0x00fffff1u; n->ctl_dirty = true; break;
    /* AQA, ASQ and ACQ take effect at the next enable. */
    case REG_AQA:   n->aqa = v & 0x0fff0fffu; break;
    case REG_ASQ:
    case REG_ASQ + 4: n->asq = set_half(n->asq, off != REG_ASQ, v) & ~0xfffULL; break;
    case REG_ACQ:
    case REG_ACQ + 4: n->acq = set_half(n->acq, off != REG_ACQ, v) & ~0xfffULL; break;
    default: break;               /* read-only and reserved; NSSR: no subsystem reset offered */
    }
}

void nvme_mmio(struct nvme *n, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
    if (!is_write)
        memset(data, 0, len);
    if (off >= NVME_DOORBELLS) {
        uint64_t idx = (off - NVME_DOORBELLS) / 4;
        /* Doorbells: 4-byte writes; they read as 0. */
        if (!is_write || len != 4 || off % 4 || idx >= 2 * NQ)
            return;
        uint32_t v = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
        atomic_store(&n->db[idx], v);          /* seq_cst: ordered before cq_wait's load */
        stat_add(n, &n->stats.doorbell_exits, 1);
        if ((idx & 1) && !atomic_load(&n->cq_wait) && !atomic_load(&n->intx_mode))
            return;
        wake(n);
        return;
    }
    /* Registers: 4- or 8-byte accesses, naturally aligned (the spec's
     * rule); anything else reads 0 and is ignored. */
    if ((len != 4 && len != 8) || off % len)
        return;
    pthread_mutex_lock(&n->lock);
    for (uint32_t w = 0; w < len / 4; w++) {
        if (is_write) {
            uint32_t v = 0;
            for (unsigned i = 0; i < 4; i++)
                v |= (uint32_t)data[4 * w + i] << 8 * i;
            reg_write32(n, off + 4 * w, v);
        } else {
            uint32_t v = reg_read32(n, off + 4 * w);
            for (unsigned i = 0; i < 4; i++)
                data[4 * w + i] = (uint8_t)(v >> 8 * i);
        }
    }
    bool dirty = n->ctl_dirty;
    pthread_mutex_unlock(&n->lock);
    if (is_write && dirty)
        wake(n);
}

static void bar0_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    (void)v;
    nvme_mmio(opaque, off, data, len, is_write);
}

static void set_csts(struct nvme *n, uint32_t clear, uint32_t set)
{
    pthread_mutex_lock(&n->lock);
    n->csts = (n->csts & ~clear) | set;
    pthread_mutex_unlock(&n->lock);
}

/* ---- PRPs: guest addresses to host iovecs ---- */

static int add_iov(struct nvme *n, uint64_t gpa, uint64_t len, bool to_mem, struct iovec *iov,
                   unsigned *niov)
{
    uint8_t *p = dma_map(n->cfg.dma, gpa, len, to_mem);
    if (!p)
        return SC_DATA_XFER_ERROR;
    if (*niov && (uint8_t *)iov[*niov - 1].iov_base + iov[*niov - 1].iov_len == p) {
        iov[*niov - 1].iov_len += len;
        return SC_SUCCESS;
    }
    if (*niov == BLKENG_MAX_IOV)
        return SC_INVALID_FIELD;
    iov[*niov] = (struct iovec){ p, len };
    (*niov)++;
    return SC_SUCCESS;
}

/* The data pointer of a command moving len bytes (0 < len <= MAX_XFER):
 * PRP1 (any dword-aligned offset), then PRP2 as the second page or as a
 * PRP list whose entries are page addresses, a list page's last entry
 * pointing at the next list page. to_mem: the device stores there. */
static int prp_map(struct nvme *n, uint64_t prp1, uint64_t prp2, uint64_t len, bool to_mem,
                   struct iovec *iov, unsigned *niov)
{
    *niov = 0;
    if (prp1 & 3)
        return SC_PRP_OFFSET;
    uint64_t first = PAGE - (prp1 & (PAGE - 1));
    if (first > len)
        first = len;
    int st = add_iov(n, prp1, first, to_mem, iov, niov);
    if (st)
        return st;
    len -= first;
    if (!len)
        return SC_SUCCESS;
    if (len <= PAGE) {
        if (prp2 & (PAGE - 1))
            return SC_PRP_OFFSET;
        return add_iov(n, prp2, len, to_mem, iov, niov);
    }
    /* A PRP list. */
    if (prp2 & 7)
        return SC_PRP_OFFSET;
    uint64_t list = prp2;
    unsigned lists = 0;
    while (len) {
        unsigned slots = (unsigned)((PAGE - (list & (PAGE - 1))) / 8);
        const uint8_t *l = dma_map(n->cfg.dma, list, (uint64_t)slots * 8, false);
        if (!l)
            return SC_DATA_XFER_ERROR;
        for (unsigned i = 0; i < slots && len; i++) {
            uint64_t e;
            memcpy(&e, l + 8 * i, 8);
            if (i == slots - 1 && len > PAGE) {          /* the next list page */
                if ((e & 7) || ++lists > (MAX_XFER / PAGE))
                    return SC_PRP_OFFSET;
                list = e;
                break;
            }
            if (e & (PAGE - 1))
                return SC_PRP_OFFSET;
            uint64_t chunk = len < PAGE ? len : PAGE;
            if ((st = add_iov(n, e, chunk, to_mem, iov, niov)))
                return st;
            len -= chunk;
        }
    }
    return SC_SUCCESS;
}

/* Copies between buf and the command's data pointer. */
static int prp_copy(struct nvme *n, const struct sqe *c, void *buf, uint64_t len, bool to_mem)
{
    struct iovec iov[BLKENG_MAX_IOV];
    unsigned niov;
    int st = prp_map(n, c->prp1, c->prp2, len, to_mem, iov, &niov);
    if (st)
        return st;
    uint8_t *b = buf;
    for (unsigned i = 0; i < niov; i++) {
        if (to_mem)
            memcpy(iov[i].iov_base, b, iov[i].iov_len);
        else
            memcpy(b, iov[i].iov_base, iov[i].iov_len);
        b += iov[i].iov_len;
    }
    return SC_SUCCESS;
}

/* ---- completions and interrupts (the thread) ---- */

static bool cq_full(const struct cq *q)
{
    uint32_t used = (q->tail + q->size - q->head) % q->size;
    return used + q->reserved >= q->size - 1;
}

static void post(struct nvme *n, uint16_t sqid, uint16_t cid, int status, uint32_t dw0)
{
    struct sq *s = &n->sq[sqid];
    struct cq *q = &n->cq[s->cqid];
    if (q->reserved)
        q->reserved--;
    if (!q->live)
        return;
    uint8_t *e = q->ring + (size_t)q->tail * CQE_SIZE;
    uint8_t head[12];
    put32(head, dw0);
    put32(head + 4, 0);
    put32(head + 8, s->head | (uint32_t)sqid << 16);
    memcpy(e, head, sizeof(head));
    uint32_t sc = (uint32_t)status & 0xff, sct = ((uint32_t)status >> 8) & 7;
    uint32_t dnr = status && status != SC_INTERNAL && (status >> 8) != 2;
    uint32_t dw3 = cid | (uint32_t)q->phase << 16 | sc << 17 | sct << 25 | dnr << 31;
    __atomic_store_n((uint32_t *)(void *)(e + 12), dw3, __ATOMIC_RELEASE);
    if (++q->tail == q->size) {
        q->tail = 0;
        q->phase = !q->phase;
    }
    q->notify = true;
    if (status) {
        pthread_mutex_lock(&n->stats_lock);
        n->stats.errors++;
        pthread_mutex_unlock(&n->stats_lock);
    }
}

static void interrupts(struct nvme *n)
{
    bool msix = pci_msix_enabled(n->dev);
    bool level = false;
    pthread_mutex_lock(&n->lock);
    uint32_t masked = n->intms;
    pthread_mutex_unlock(&n->lock);
    for (unsigned i = 0; i < NQ; i++) {
        struct cq *q = &n->cq[i];
        if (!q->live || !q->ien)
            continue;
        if (msix) {
            if (q->notify && pci_notify(n->dev, q->iv) == 0)
                stat_add(n, &n->stats.interrupts, 1);
        } else if (q->head != q->tail && !(masked & 1)) {
            level = true;
        }
        q->notify = false;
    }
    if (level != n->intx_level) {
        n->intx_level = level;
        pci_set_intx(n->dev, level);
        if (level)
            stat_add(n, &n->stats.interrupts, 1);
    }
    atomic_store(&n->intx_mode, level);          /* a head doorbell may lower it: wake then */
}

/* ---- commands ---- */

static struct cmd *cmd_get(struct nvme *n)
{
    struct cmd *c = n->free_cmds;
    if (c) {
        n->free_cmds = c->next_free;
        n->cmds_out++;
    }
    return c;
}

static void cmd_put(struct nvme *n, struct cmd *c)
{
    free(c->many);
    free(c->bounce);
    c->many = NULL;
    c->bounce = NULL;
    c->next_free = n->free_cmds;
    n->free_cmds = c;
    n->cmds_out--;
}

static int errno_status(const struct cmd *c, int err)
{
    if (err == -EIO)
        return c->opc == IO_READ ? SC_UNRECOVERED_READ : SC_WRITE_FAULT;
    if (err == -ENOSPC)
        return SC_CAPACITY_EXCEEDED;
    if (err == -EROFS)
        return SC_NS_WRITE_PROTECTED;
    if (err == -EOPNOTSUPP && c->opc == IO_DSM)
        return SC_SUCCESS;                   /* deallocation is advisory */
    return SC_INTERNAL;
}

static void try_finish_delete(struct nvme *n, uint16_t sqid);

static void part_done(void *ctx, struct blkeng_req *r, int status)
{
    struct nvme *n = ctx;
    struct part *p = (struct part *)(void *)((char *)r - offsetof(struct part, er));
    struct cmd *c = p->cmd;
    if (status && !c->status)
        c->status = errno_status(c, status);
    if (--c->parts_left)
        return;
    if (c->bounce && c->opc == IO_READ && !c->status && c->gen == n->gen) {
        const uint8_t *b = c->bounce;
        for (unsigned i = 0; i < c->niov; i++) {
            memcpy(c->iov[i].iov_base, b, c->iov[i].iov_len);
            b += c->iov[i].iov_len;
        }
    }
    if (c->gen == n->gen) {
        struct sq *s = &n->sq[c->sqid];
        s->inflight--;
        post(n, c->sqid, c->cid, c->status, 0);
        if (!c->status) {
            pthread_mutex_lock(&n->stats_lock);
            if (c->opc == IO_READ)
                n->stats.read_bytes += c->bytes;
            else if (c->opc == IO_WRITE)
                n->stats.write_bytes += c->bytes;
            pthread_mutex_unlock(&n->stats_lock);
        }
        if (s->deleting && !s->inflight)
            try_finish_delete(n, c->sqid);
    }
    cmd_put(n, c);
}

/* Room in the engines for parts requests: a command goes whole or waits. */
static bool engine_room(struct nvme *n, unsigned ns, unsigned parts)
{
    return blkeng_inflight(n->eng[ns]) + parts <= ENG_DEPTH;
}

static void part_init(struct part *p, struct cmd *c, enum blkeng_op op, uint64_t offset,
                      uint64_t len, const struct iovec *iov, unsigned niov)
{
    p->cmd = c;
    p->er = (struct blkeng_req){ .op = op, .offset = offset, .len = len, .iov = iov,
                                 .niov = niov, .done = part_done };
}

/* SC_PENDING: accepted (the engine completes it); -EBUSY: no room now,
 * leave it in the queue; else a status to post now. */
static int submit_parts(struct nvme *n, struct cmd *c, struct part *parts, unsigned nparts)
{
    c->parts_left = nparts;
    for (unsigned i = 0; i < nparts; i++) {
        int r = blkeng_submit(n->eng[c->ns], &parts[i].er);
        if (r == 0)
            continue;
        /* Refused: the requests before it are in flight and will call
         * part_done; account the rest as done with this error. */
        int st = r == -EROFS ? SC_NS_WRITE_PROTECTED : SC_INTERNAL;
        if (!c->status)
            c->status = st;
        c->parts_left -= nparts - i;
        if (!c->parts_left) {
            int s = c->status;
            return s;
        }
        break;
    }
    blkeng_flush(n->eng[c->ns]);
    return SC_PENDING;
}

static bool iov_aligned(const struct iovec *iov, unsigned niov)
{
    for (unsigned i = 0; i < niov; i++)
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (BLKENG_SECTOR - 1))
            return false;
    return true;
}

static int io_rw(struct nvme *n, struct cmd *c, const struct sqe *e)
{
    uint64_t slba = e->cdw10 | (uint64_t)e->cdw11 << 32;
    uint64_t nlb = (e->cdw12 & 0xffff) + 1ULL;
    if (slba + nlb > ns_sectors(n, c->ns) || slba + nlb < slba)
        return SC_LBA_RANGE;
    uint64_t len = nlb * BLKENG_SECTOR;
    if (len > MAX_XFER)
        return SC_INVALID_FIELD;
    bool write = c->opc == IO_WRITE;
    if (write && n->cfg.ns[c->ns]->readonly)
        return SC_NS_WRITE_PROTECTED;
    unsigned niov;
    int st = prp_map(n, e->prp1, e->prp2, len, !write, c->iov, &niov);
    if (st)
        return st;
    if (!engine_room(n, c->ns, 1))
        return -EBUSY;
    c->bytes = len;
    c->niov = niov;
    enum blkeng_op op = !write ? BLKENG_READ
                        : (n->feat[FEAT_VWC] & 1) ? BLKENG_WRITE : BLKENG_FLUSH;  /* no cache: write through */
    const struct iovec *iov = c->iov;
    if (n->cfg.ns[c->ns]->direct && !iov_aligned(c->iov, niov)) {
        /* A guest may give dword-aligned buffers (Linux's NVMe driver
         * does for O_DIRECT I/O); an O_DIRECT store takes 512-byte ones:
         * go through an aligned copy. */
        if (posix_memalign(&c->bounce, PAGE, len))
            return SC_INTERNAL;
        if (write) {
            uint8_t *b = c->bounce;
            for (unsigned i = 0; i < niov; i++) {
                memcpy(b, c->iov[i].iov_base, c->iov[i].iov_len);
                b += c->iov[i].iov_len;
            }
        }
        c->bounce_iov = (struct iovec){ c->bounce, len };
        iov = &c->bounce_iov;
        niov = 1;
    }
    part_init(&c->one, c, op, slba * BLKENG_SECTOR, 0, iov, niov);
    stat_add(n, write ? &n->stats.writes : &n->stats.reads, 1);
    return submit_parts(n, c, &c->one, 1);
}

static int io_flush(struct nvme *n, struct cmd *c)
{
    if (!engine_room(n, c->ns, 1))
        return -EBUSY;
    part_init(&c->one, c, BLKENG_FLUSH, 0, 0, NULL, 0);
    stat_add(n, &n->stats.flushes, 1);
    return submit_parts(n, c, &c->one, 1);
}

static int io_dsm(struct nvme *n, struct cmd *c, const struct sqe *e)
{
    unsigned nr = (e->cdw10 & 0xff) + 1;
    if (!(e->cdw11 & 4))                     /* no Deallocate: only hints */
        return SC_SUCCESS;
    if (n->cfg.ns[c->ns]->readonly)
        return SC_NS_WRITE_PROTECTED;
    uint8_t ranges[256 * 16];
    int st = prp_copy(n, e, ranges, (uint64_t)nr * 16, false);
    if (st)
        return st;
    uint64_t sectors = ns_sectors(n, c->ns);
    unsigned want = 0;
    for (unsigned i = 0; i < nr; i++) {
        uint32_t nlb;
        uint64_t slba;
        memcpy(&nlb, ranges + 16 * i + 4, 4);
        memcpy(&slba, ranges + 16 * i + 8, 8);
        if (slba + nlb > sectors || slba + nlb < slba)
            return SC_LBA_RANGE;
        want += nlb != 0;
    }
    if (!want || !n->cfg.ns[c->ns]->can_discard)
        return SC_SUCCESS;
    if (!engine_room(n, c->ns, want))
        return -EBUSY;
    c->many = calloc(want, sizeof(*c->many));
    if (!c->many)
        return SC_INTERNAL;
    unsigned k = 0;
    for (unsigned i = 0; i < nr; i++) {
        uint32_t nlb;
        uint64_t slba;
        memcpy(&nlb, ranges + 16 * i + 4, 4);
        memcpy(&slba, ranges + 16 * i + 8, 8);
        if (nlb)
            part_init(&c->many[k++], c, BLKENG_DISCARD, slba * BLKENG_SECTOR,
                      (uint64_t)nlb * BLKENG_SECTOR, NULL, 0);
    }
    stat_add(n, &n->stats.dsm, 1);
    return submit_parts(n, c, c->many, want);
}

static int io_command(struct nvme *n, struct cmd *c, const struct sqe *e)
{
    if (e->nsid == 0 || e->nsid > n->cfg.nr_ns) {
        /* Flush to every namespace (NSID FFFFFFFFh) is done per namespace
         * by the drivers we know; one namespace is the common case. */
        if (!(c->opc == IO_FLUSH && e->nsid == 0xffffffffu && n->cfg.nr_ns == 1))
            return SC_INVALID_NS;
        c->ns = 0;
    } else {
        c->ns = e->nsid - 1;
    }
    switch (c->opc) {
    case IO_READ:
    case IO_WRITE: return io_rw(n, c, e);
    case IO_FLUSH: return io_flush(n, c);
    case IO_DSM:   return io_dsm(n, c, e);
    default:       return SC_INVALID_OPCODE;
    }
}

/* ---- admin commands ---- */

static void identify_ctrl(struct nvme *n, uint8_t *d)
{
    put16(d + 0, 0x1b36);                    /* PCI vendor/subsystem: as the PCI header */
    put16(d + 2, 0x1af4);
    put_str(d + 4, 20, n->cfg.serial);
    put_str(d + 24, 40, "Tandem NVMe");
    put_str(d + 64, 8, "1.0");
    d[72] = 6;                               /* RAB */
    d[77] = NVME_MDTS;
    put16(d + 78, 0);                        /* CNTLID */
    put32(d + 80, NVME_VERSION);
    d[111] = 1;                              /* CNTRLTYPE: I/O controller */
    put16(d + 256, n->cfg.ioeventfd ? 1u << 8 : 0);   /* OACS: Doorbell Buffer Config */
    d[258] = 3;                              /* ACL: 4 Aborts */
    d[259] = AER_MAX - 1;                    /* AERL */
    d[260] = 1 << 1;                         /* FRMW: one firmware slot */
    d[261] = 0;                              /* LPA */
    d[262] = 0;                              /* ELPE: 1 error log entry */
    put16(d + 266, 0x157);                   /* WCTEMP 343 K */
    put16(d + 268, 0x175);                   /* CCTEMP 373 K */
    d[512] = 0x66;                           /* SQES: 64 bytes */
    d[513] = 0x44;                           /* CQES: 16 bytes */
    put16(d + 514, MAX_CMDS);                /* MAXCMD */
    put32(d + 516, n->cfg.nr_ns);            /* NN */
    put16(d + 520, 1u << 2);                 /* ONCS: Dataset Management */
    d[525] = 1;                              /* VWC present */
    char nqn[64];
    snprintf(nqn, sizeof(nqn), "nqn.2026-12.org.tandem:nvme:%s", n->cfg.serial);
    memcpy(d + 768, nqn, strlen(nqn));
    put16(d + 2048, 2500);                   /* PSD0: 25 W */
}

static void ns_nguid(const struct nvme *n, unsigned ns, uint8_t out[16])
{
    /* FNV-1a of the serial and the namespace number: stable across runs. */
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    for (const char *s = n->cfg.serial; *s; s++) {
        h1 = (h1 ^ (uint8_t)*s) * 0x100000001b3ULL;
        h2 = (h2 ^ (uint8_t)*s) * 0x100000001b3ULL + 7;
    }
    h1 = (h1 ^ (ns + 1)) * 0x100000001b3ULL;
    h2 = (h2 ^ (ns + 1)) * 0x100000001b3ULL;
    put64(out, h1);
    put64(out + 8, h2);
}

static void identify_ns(struct nvme *n, unsigned ns, uint8_t *d)
{
    const struct blkeng_backing *b = n->cfg.ns[ns];
    put64(d + 0, b->sectors);                /* NSZE */
    put64(d + 8, b->sectors);                /* NCAP */
    put64(d + 16, b->sectors);               /* NUSE */
    d[24] = 0;                               /* NSFEAT */
    d[25] = 0;                               /* NLBAF: one format */
    d[26] = 0;                               /* FLBAS: format 0 */
    d[99] = b->readonly ? 1 : 0;             /* NSATTR: write protected */
    uint32_t pbs = b->physical_sector_size / BLKENG_SECTOR;
    if (pbs > 1) {
        d[24] |= 1u << 4;                    /* NSFEAT: the NPW* fields */
        put16(d + 64, (uint16_t)(pbs - 1));  /* NPWG */
        put16(d + 66, (uint16_t)(pbs - 1));  /* NPWA */
        put16(d + 68, (uint16_t)(pbs - 1));  /* NPDG */
        put16(d + 70, (uint16_t)(pbs - 1));  /* NPDA */
        put16(d + 72, (uint16_t)(pbs - 1));  /* NOWS */
    }
    ns_nguid(n, ns, d + 104);
    put32(d + 128, 9u << 16);                /* LBAF0: 512-byte blocks, no metadata */
}

static int adm_identify(struct nvme *n, const struct sqe *e)
{
    uint8_t d[PAGE];
    memset(d, 0, sizeof(d));
    uint8_t cns = e->cdw10 & 0xff;
    switch (cns) {
    case 0x00:                               /* namespace */
        if (e->nsid == 0xffffffffu)
            put32(d + 128, 9u << 16);        /* what every namespace has */
        else if (e->nsid == 0 || e->nsid > n->cfg.nr_ns)
            return SC_INVALID_NS;
        else
            identify_ns(n, e->nsid - 1, d);
        break;
    case 0x01:
        identify_ctrl(n, d);
        break;
    case 0x02: {                             /* active namespace IDs above NSID */
        if (e->nsid >= 0xfffffffeu)
            return SC_INVALID_NS;
        unsigned k = 0;
        for (unsigned i = e->nsid + 1; i <= n->cfg.nr_ns; i++)
            put32(d + 4 * k++, i);
        break;
    }
    case 0x03:                               /* namespace identification descriptors */
        if (e->nsid == 0 || e->nsid > n->cfg.nr_ns)
            return SC_INVALID_NS;
        d[0] = 2;                            /* NGUID */
        d[1] = 16;
        ns_nguid(n, e->nsid - 1, d + 4);
        break;
    case 0x05:                               /* I/O command set specific namespace */
    case 0x06:                               /* ... controller: NVM, all limits 0 */
        if ((e->cdw11 >> 24) != 0)
            return SC_INVALID_FIELD;
        if (cns == 0x05 && (e->nsid == 0 || e->nsid > n->cfg.nr_ns))
            return SC_INVALID_NS;
        break;
    default:
        return SC_INVALID_FIELD;
    }
    return prp_copy(n, e, d, PAGE, true);
}

static int adm_create_cq(struct nvme *n, const struct sqe *e)
{
    uint16_t qid = e->cdw10 & 0xffff;
    uint32_t size = (e->cdw10 >> 16) + 1;
    bool pc = e->cdw11 & 1, ien = e->cdw11 & 2;
    uint16_t iv = e->cdw11 >> 16;
    if (qid == 0 || qid > n->nr_io_queues || n->cq[qid].live)
        return SC_QID_INVALID;
    if (size < 2 || size > NVME_QUEUE_ENTRIES)
        return SC_QSIZE_INVALID;
    if (!pc || CC_IOCQES(n->cc_applied) != 4)
        return SC_INVALID_FIELD;
    if (e->prp1 & (PAGE - 1))
        return SC_PRP_OFFSET;
    if (ien && iv > n->cfg.io_queues)
        return SC_INVALID_VECTOR;
    uint8_t *ring = dma_map(n->cfg.dma, e->prp1, (uint64_t)size * CQE_SIZE, true);
    if (!ring)
        return SC_INVALID_FIELD;
    n->cq[qid] = (struct cq){ .live = true, .ien = ien, .phase = true, .iv = iv, .size = size,
                              .ring = ring };
    atomic_store(&n->db[2 * qid + 1], 0);
    return SC_SUCCESS;
}

static int adm_create_sq(struct nvme *n, const struct sqe *e)
{
    uint16_t qid = e->cdw10 & 0xffff;
    uint32_t size = (e->cdw10 >> 16) + 1;
    uint16_t cqid = e->cdw11 >> 16;
    if (qid == 0 || qid > n->nr_io_queues || n->sq[qid].live)
        return SC_QID_INVALID;
    if (cqid == 0 || cqid >= NQ || !n->cq[cqid].live)
        return SC_CQ_INVALID;
    if (size < 2 || size > NVME_QUEUE_ENTRIES)
        return SC_QSIZE_INVALID;
    if (!(e->cdw11 & 1) || CC_IOSQES(n->cc_applied) != 6)
        return SC_INVALID_FIELD;
    if (e->prp1 & (PAGE - 1))
        return SC_PRP_OFFSET;
    const uint8_t *ring = dma_map(n->cfg.dma, e->prp1, (uint64_t)size * SQE_SIZE, false);
    if (!ring)
        return SC_INVALID_FIELD;
    n->sq[qid] = (struct sq){ .live = true, .cqid = cqid, .size = size, .ring = ring };
    n->cq[cqid].nsq++;
    atomic_store(&n->db[2 * qid], 0);
    if (n->shadow_db)
        __atomic_store_n(&n->shadow_db[2 * qid], 0, __ATOMIC_RELAXED);
    return SC_SUCCESS;
}

static void sq_remove(struct nvme *n, uint16_t qid)
{
    struct sq *s = &n->sq[qid];
    if (s->live && n->cq[s->cqid].nsq)
        n->cq[s->cqid].nsq--;
    *s = (struct sq){ 0 };
}

static void try_finish_delete(struct nvme *n, uint16_t sqid)
{
    uint16_t cid = n->sq[sqid].delete_cid;
    sq_remove(n, sqid);
    post(n, 0, cid, SC_SUCCESS, 0);
}

static uint32_t sq_tail(struct nvme *n, unsigned q);

static int adm_delete_sq(struct nvme *n, const struct sqe *e, uint16_t cid)
{
    uint16_t qid = e->cdw10 & 0xffff;
    if (qid == 0 || qid >= NQ || !n->sq[qid].live || n->sq[qid].deleting)
        return SC_QID_INVALID;
    struct sq *s = &n->sq[qid];
    /* Commands the guest queued and the controller has not taken: aborted
     * (as many as their CQ has room for; a host deleting a busy queue
     * gets no completion for the rest). */
    uint32_t tail = sq_tail(n, qid);
    struct cq *cq = &n->cq[s->cqid];
    if (tail < s->size)
        while (s->head != tail && !cq_full(cq)) {
            struct sqe e;
            memcpy(&e, s->ring + (size_t)s->head * SQE_SIZE, sizeof(e));
            s->head = (s->head + 1) % s->size;
            cq->reserved++;
            post(n, qid, (uint16_t)(e.cdw0 >> 16), SC_ABORT_SQ_DELETED, 0);
        }
    if (s->inflight) {                       /* completes when they have */
        s->deleting = true;
        s->delete_cid = cid;
        return SC_PENDING;
    }
    sq_remove(n, qid);
    return SC_SUCCESS;
}

static int adm_delete_cq(struct nvme *n, const struct sqe *e)
{
    uint16_t qid = e->cdw10 & 0xffff;
    if (qid == 0 || qid >= NQ || !n->cq[qid].live)
        return SC_QID_INVALID;
    if (n->cq[qid].nsq)
        return SC_QDEL_INVALID;
    n->cq[qid] = (struct cq){ 0 };
    return SC_SUCCESS;
}

static int adm_get_log(struct nvme *n, const struct sqe *e)
{
    uint8_t lid = e->cdw10 & 0xff;
    uint64_t dwords = ((e->cdw10 >> 16) | (uint64_t)(e->cdw11 & 0xffff) << 16) + 1;
    uint64_t off = e->cdw12 | (uint64_t)e->cdw13 << 32;
    uint8_t page[512];
    memset(page, 0, sizeof(page));
    size_t size;
    switch (lid) {
    case 0x01:                               /* error information: no errors kept */
        size = 64;
        break;
    case 0x02: {                             /* SMART / health */
        size = 512;
        struct nvme_stats st;
        nvme_get_stats(n, &st);
        put16(page + 1, 273 + 30);
        page[3] = 100;                       /* available spare */
        page[4] = 10;                        /* its threshold */
        /* data units of 1000 512-byte sectors, rounded up */
        put64(page + 32, (st.read_bytes / 512 + 999) / 1000);
        put64(page + 48, (st.write_bytes / 512 + 999) / 1000);
        put64(page + 64, st.reads);
        put64(page + 80, st.writes);
        break;
    }
    case 0x03:                               /* firmware slots: slot 1 active */
        size = 512;
        page[0] = 1;
        put_str(page + 8, 8, "1.0");
        break;
    default:
        return SC_LOG_PAGE_INVALID;
    }
    if (off & 3 || off >= size)
        return SC_INVALID_FIELD;
    uint64_t len = dwords * 4;
    if (len > MAX_XFER)
        return SC_INVALID_FIELD;
    uint8_t *buf = calloc(1, len);           /* past the page: zeroes */
    if (!buf)
        return SC_INTERNAL;
    memcpy(buf, page + off, size - off < len ? size - off : len);
    int st = prp_copy(n, e, buf, len, true);
    free(buf);
    return st;
}

static int adm_features(struct nvme *n, const struct sqe *e, bool set, uint32_t *dw0)
{
    uint8_t fid = e->cdw10 & 0xff;
    if (fid == 0 || fid >= FEAT_MAX || fid == 3)
        return SC_INVALID_FIELD;
    if (set) {
        if (e->cdw10 >> 31)
            return SC_FEAT_NOT_SAVEABLE;
        uint32_t v = e->cdw11;
        switch (fid) {
        case FEAT_NQUEUES: {
            if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff)
                return SC_INVALID_FIELD;
            n->nr_io_queues = n->cfg.io_queues;   /* offered whatever was asked */
            *dw0 = (n->cfg.io_queues - 1) | (n->cfg.io_queues - 1) << 16;
            return SC_SUCCESS;
        }
        case FEAT_POWER:
            if (v & 0x1f)
                return SC_INVALID_FIELD;     /* power state 0 only */
            break;
        case FEAT_VWC:
            v &= 1;
            break;
        case FEAT_IRQ_CONFIG:
            if ((v & 0xffff) > n->cfg.io_queues)
                return SC_INVALID_FIELD;
            break;
        default:
            break;
        }
        n->feat[fid] = v;
        return SC_SUCCESS;
    }
    unsigned sel = (e->cdw10 >> 8) & 7;
    if (sel == 3) {                          /* capabilities: changeable, not saveable */
        *dw0 = 1u << 2;
        return SC_SUCCESS;
    }
    if (sel > 3)
        return SC_INVALID_FIELD;
    if (fid == FEAT_NQUEUES)
        *dw0 = (n->cfg.io_queues - 1) | (n->cfg.io_queues - 1) << 16;
    else if (fid == FEAT_IRQ_CONFIG)
        *dw0 = (e->cdw11 & 0xffff) | (n->feat[fid] & (1u << 16));
    else
        *dw0 = sel == 0 ? n->feat[fid] : (fid == FEAT_VWC ? 1 : fid == FEAT_TEMP ? 0x157 : 0);
    return SC_SUCCESS;
}

static void ioeventfds(struct nvme *n, bool on);

static int adm_dbbuf(struct nvme *n, const struct sqe *e)
{
    if (!n->cfg.ioeventfd)
        return SC_INVALID_OPCODE;
    if ((e->prp1 & (PAGE - 1)) || (e->prp2 & (PAGE - 1)) || !e->prp1 || !e->prp2)
        return SC_INVALID_FIELD;
    uint32_t *sh = dma_map(n->cfg.dma, e->prp1, PAGE, true);
    uint32_t *ev = dma_map(n->cfg.dma, e->prp2, PAGE, true);
    if (!sh || !ev)
        return SC_INVALID_FIELD;
    n->shadow_db = sh;
    n->eventidx = ev;
    /* The shadow starts from the doorbells the controller has seen. */
    for (unsigned q = 1; q < NQ; q++) {
        if (n->sq[q].live) {
            __atomic_store_n(&sh[2 * q], n->sq[q].tail, __ATOMIC_RELAXED);
            __atomic_store_n(&ev[2 * q], n->sq[q].tail, __ATOMIC_RELAXED);
        }
        if (n->cq[q].live) {
            __atomic_store_n(&sh[2 * q + 1], n->cq[q].head, __ATOMIC_RELAXED);
            __atomic_store_n(&ev[2 * q + 1], n->cq[q].head, __ATOMIC_RELAXED);
        }
    }
    ioeventfds(n, true);
    return SC_SUCCESS;
}

static int admin_command(struct nvme *n, const struct sqe *e, uint16_t cid, uint32_t *dw0)
{
    stat_add(n, &n->stats.admin, 1);
    if ((e->cdw0 >> 8) & 3 || (e->cdw0 >> 14) & 3)
        return SC_INVALID_FIELD;             /* fused commands, SGLs: not offered */
    switch (e->cdw0 & 0xff) {
    case ADM_IDENTIFY:  return adm_identify(n, e);
    case ADM_CREATE_CQ: return adm_create_cq(n, e);
    case ADM_CREATE_SQ: return adm_create_sq(n, e);
    case ADM_DELETE_SQ: return adm_delete_sq(n, e, cid);
    case ADM_DELETE_CQ: return adm_delete_cq(n, e);
    case ADM_GET_LOG:   return adm_get_log(n, e);
    case ADM_SET_FEAT:  return adm_features(n, e, true, dw0);
    case ADM_GET_FEAT:  return adm_features(n, e, false, dw0);
    case ADM_ABORT:
        *dw0 = 1;                            /* not aborted: commands run to completion */
        return SC_SUCCESS;
    case ADM_AER:
        if (n->nr_aer == AER_MAX)
            return SC_AER_LIMIT;
        n->aer_cid[n->nr_aer++] = cid;       /* no events are ever raised yet */
        return SC_PENDING;
    case ADM_DBBUF:     return adm_dbbuf(n, e);
    default:            return SC_INVALID_OPCODE;
    }
}

/* ---- the queues ---- */

static uint32_t sq_tail(struct nvme *n, unsigned q)
{
    if (q && n->shadow_db)
        return __atomic_load_n(&n->shadow_db[2 * q], __ATOMIC_ACQUIRE);
    return atomic_load_explicit(&n->db[2 * q], memory_order_acquire);
}

static uint32_t cq_head(struct nvme *n, unsigned q)
{
    if (q && n->shadow_db)
        return __atomic_load_n(&n->shadow_db[2 * q + 1], __ATOMIC_SEQ_CST);
    return atomic_load(&n->db[2 * q + 1]);       /* seq_cst: after cq_wait's store */
}

/* Takes at most BATCH commands from SQ q. true if it did anything. */
static bool sq_run(struct nvme *n, unsigned q)
{
    struct sq *s = &n->sq[q];
    if (!s->live || s->deleting)
        return false;
    uint32_t tail = sq_tail(n, q);
    if (tail >= s->size) {
        /* A doorbell past the queue: the spec's answer is an asynchronous
         * error; the queue is simply not served until it is sane. */
        return false;
    }
    s->tail = tail;
    struct cq *cq = &n->cq[s->cqid];
    bool did = false;
    for (unsigned k = 0; k < BATCH && s->head != s->tail; k++) {
        if (cq_full(cq)) {
            atomic_store(&n->cq_wait, true);   /* then the heads are read again (round_once) */
            break;
        }
        struct sqe e;
        memcpy(&e, s->ring + (size_t)s->head * SQE_SIZE, sizeof(e));
        uint16_t cid = e.cdw0 >> 16;
        uint32_t dw0 = 0;
        int st;
        if (q == 0) {
            cq->reserved++;
            s->head = (s->head + 1) % s->size;
            st = admin_command(n, &e, cid, &dw0);
            if (st != SC_PENDING)
                post(n, 0, cid, st, dw0);
            did = true;
            continue;
        }
        struct cmd *c = cmd_get(n);
        if (!c)
            break;
        c->n = n;
        c->gen = n->gen;
        c->sqid = (uint16_t)q;
        c->cid = cid;
        c->opc = e.cdw0 & 0xff;
        c->status = 0;
        c->bytes = 0;
        stat_add(n, &n->stats.commands, 1);
        if ((e.cdw0 >> 8) & 3 || (e.cdw0 >> 14) & 3)
            st = SC_INVALID_FIELD;
        else
            st = io_command(n, c, &e);
        if (st == -EBUSY) {                  /* the engine is full: try again later */
            cmd_put(n, c);
            break;
        }
        cq->reserved++;
        s->head = (s->head + 1) % s->size;
        did = true;
        if (st == SC_PENDING) {
            s->inflight++;
            continue;
        }
        post(n, (uint16_t)q, cid, st, 0);
        cmd_put(n, c);
    }
    if (n->eventidx)
        __atomic_store_n(&n->eventidx[2 * q], s->head, __ATOMIC_RELEASE);
    return did;
}

static void cq_heads(struct nvme *n)
{
    for (unsigned q = 0; q < NQ; q++) {
        struct cq *c = &n->cq[q];
        if (!c->live)
            continue;
        uint32_t h = cq_head(n, q);
        if (h < c->size)
            c->head = h;
        if (n->eventidx && q)
            __atomic_store_n(&n->eventidx[2 * q + 1], c->head, __ATOMIC_RELEASE);
    }
}

/* ---- KVM ioeventfds on the I/O queues' doorbells ---- */

static void ioeventfds(struct nvme *n, bool on)
{
    if (!n->cfg.ioeventfd || on == n->ioeventfds_on)
        return;
    pthread_mutex_lock(&n->lock);
    uint64_t base = on ? (n->bar0_mapped ? n->bar0 : 0) : n->ioeventfd_bar;
    pthread_mutex_unlock(&n->lock);
    if (on && !base)
        return;
    for (unsigned q = 1; q <= n->cfg.io_queues; q++)
        for (unsigned k = 0; k < 2; k++) {
            uint64_t gpa = base + NVME_DOORBELLS + 4 * (2 * q + k);
            int fd = k ? n->cq_efd : n->efd;
            if (n->cfg.ioeventfd(n->cfg.ioeventfd_opaque, gpa, fd, on) < 0 && on)
                fprintf(stderr, "tandem-vmm: %s: ioeventfd at %#llx: %s (that doorbell exits)\n",
                        n->cfg.name, (unsigned long long)gpa, strerror(errno));
        }
    n->ioeventfds_on = on;
    n->ioeventfd_bar = base;
}

/* ---- enable, reset, shutdown ---- */

static void drop_queues(struct nvme *n)
{
    ioeventfds(n, false);
    n->shadow_db = n->eventidx = NULL;
    for (unsigned q = 0; q < NQ; q++) {
        n->sq[q] = (struct sq){ 0 };
        n->cq[q] = (struct cq){ 0 };
        atomic_store(&n->db[2 * q], 0);
        atomic_store(&n->db[2 * q + 1], 0);
    }
    n->nr_aer = 0;
    n->nr_io_queues = 0;
    n->gen++;
    if (n->intx_level) {
        n->intx_level = false;
        pci_set_intx(n->dev, false);
    }
}

static void feat_defaults(struct nvme *n)
{
    memset(n->feat, 0, sizeof(n->feat));
    n->feat[FEAT_VWC] = 1;
    n->feat[FEAT_TEMP] = 0x157;
}

static bool enable(struct nvme *n, uint32_t cc, uint32_t aqa, uint64_t asq, uint64_t acq)
{
    uint32_t sqs = (aqa & 0xfff) + 1, cqs = ((aqa >> 16) & 0xfff) + 1;
    if (CC_CSS(cc) != 0 || CC_MPS(cc) != 0 || sqs < 2 || cqs < 2)
        return false;
    const uint8_t *sring = dma_map(n->cfg.dma, asq, (uint64_t)sqs * SQE_SIZE, false);
    uint8_t *cring = dma_map(n->cfg.dma, acq, (uint64_t)cqs * CQE_SIZE, true);
    if (!sring || !cring)
        return false;
    n->cq[0] = (struct cq){ .live = true, .ien = true, .phase = true, .iv = 0, .size = cqs,
                            .ring = cring, .nsq = 1 };
    n->sq[0] = (struct sq){ .live = true, .cqid = 0, .size = sqs, .ring = sring };
    n->nr_io_queues = n->cfg.io_queues;      /* before Set Features, all of them */
    feat_defaults(n);
    return true;
}

static unsigned engines_inflight(struct nvme *n)
{
    unsigned t = 0;
    for (unsigned i = 0; i < n->cfg.nr_ns; i++)
        t += blkeng_inflight(n->eng[i]);
    return t;
}

/* A shutdown's last part: once everything taken has finished, a flush of
 * every namespace; SHST says done when those have too. */
static bool shutdown_step(struct nvme *n)
{
    if (!n->shutting_down || engines_inflight(n))
        return false;
    if (n->flushing) {
        n->shutting_down = n->flushing = false;
        set_csts(n, CSTS_SHST_MASK, CSTS_SHST_DONE);
        return true;
    }
    n->flushing = true;
    for (unsigned i = 0; i < n->cfg.nr_ns; i++) {
        struct cmd *c = cmd_get(n);
        if (!c)
            break;
        *c = (struct cmd){ .n = n, .gen = n->gen - 1 /* nothing to post */, .ns = i };
        part_init(&c->one, c, BLKENG_FLUSH, 0, 0, NULL, 0);
        c->parts_left = 1;
        if (blkeng_submit(n->eng[i], &c->one.er) == 0)
            blkeng_flush(n->eng[i]);
        else
            cmd_put(n, c);
    }
    return true;
}

/* The thread's view of CC, INTMS and BAR0; true if something changed. */
static bool control(struct nvme *n)
{
    bool did = false;
    if (n->resetting) {
        /* CSTS.RDY goes 0 once the engines gave back every request; any
         * CC write meanwhile waits (ctl_dirty stays set). */
        if (engines_inflight(n))
            return false;
        n->resetting = false;
        set_csts(n, CSTS_RDY | CSTS_CFS | CSTS_SHST_MASK, 0);
        did = true;
    }
    did |= shutdown_step(n);
    pthread_mutex_lock(&n->lock);
    bool dirty = n->ctl_dirty;
    n->ctl_dirty = false;
    uint32_t cc = n->cc, aqa = n->aqa;
    uint64_t asq = n->asq, acq = n->acq;
    uint64_t bar0 = n->bar0_mapped ? n->bar0 : 0;
    pthread_mutex_unlock(&n->lock);
    if (!dirty)
        return did;
    if (n->ioeventfds_on && n->ioeventfd_bar != bar0) {   /* BAR0 moved */
        ioeventfds(n, false);
        ioeventfds(n, true);
    }
    uint32_t was = n->cc_applied;
    n->cc_applied = cc;
    if ((was & CC_EN) && !(cc & CC_EN)) {    /* reset */
        drop_queues(n);
        n->enabled = n->shutting_down = n->flushing = false;
        if (engines_inflight(n))
            n->resetting = true;
        else
            set_csts(n, CSTS_RDY | CSTS_CFS | CSTS_SHST_MASK, 0);
        return true;
    }
    if (!(was & CC_EN) && (cc & CC_EN)) {
        if (enable(n, cc, aqa, asq, acq)) {
            n->enabled = true;
            set_csts(n, CSTS_SHST_MASK | CSTS_CFS, CSTS_RDY);
        } else {
            fprintf(stderr, "tandem-vmm: %s: enable refused (CC %#x, AQA %#x, ASQ %#llx, ACQ "
                    "%#llx): controller fatal status\n", n->cfg.name, cc, aqa,
                    (unsigned long long)asq, (unsigned long long)acq);
            set_csts(n, 0, CSTS_CFS);
        }
        return true;
    }
    if (n->enabled && CC_SHN(cc) && !CC_SHN(was)) {
        /* Shutdown: stop taking commands, finish and flush what was taken. */
        n->enabled = false;
        n->shutting_down = true;
        set_csts(n, CSTS_SHST_MASK, CSTS_SHST_OCCURRING);
        shutdown_step(n);
    }
    return true;
}

/* One round: control, completions, queues, interrupts. true if anything
 * happened (then go round again before sleeping). */
static bool round_once(struct nvme *n)
{
    atomic_store(&n->cq_wait, false);            /* set again by sq_run if a CQ is still full */
    bool did = control(n);
    for (unsigned i = 0; i < n->cfg.nr_ns; i++)
        did |= blkeng_reap(n->eng[i]);
    if (n->enabled && !atomic_load(&n->stop) &&
        (pci_cfg_get(n->dev, PCI_COMMAND, 2) & PCI_COMMAND_MASTER)) {
        cq_heads(n);
        for (unsigned q = 0; q < NQ; q++)
            did |= sq_run(n, q);
    }
    for (unsigned i = 0; i < n->cfg.nr_ns; i++)
        blkeng_flush(n->eng[i]);
    interrupts(n);
    return did;
}

static void *thread_main(void *arg)
{
    struct nvme *n = arg;
    struct pollfd pfd[2 + NVME_MAX_NS];
    unsigned npfd = 2 + n->cfg.nr_ns;
    pfd[0] = (struct pollfd){ .fd = n->efd, .events = POLLIN };
    pfd[1] = (struct pollfd){ .fd = n->cq_efd };
    for (unsigned i = 0; i < n->cfg.nr_ns; i++)
        pfd[2 + i] = (struct pollfd){ .fd = blkeng_fd(n->eng[i]), .events = POLLIN };
    while (!atomic_load(&n->stop) || engines_inflight(n)) {
        if (round_once(n))
            continue;
        atomic_store(&n->kicked, false);
        if (round_once(n))                   /* a doorbell between the round and the flag */
            continue;
        if (atomic_load(&n->stop) && !engines_inflight(n))
            break;
        pfd[1].events = atomic_load(&n->cq_wait) || atomic_load(&n->intx_mode) ? POLLIN : 0;
        int r = poll(pfd, npfd, -1);
        if (r < 0 && errno != EINTR)
            break;
        stat_add(n, &n->stats.wakeups, 1);
        for (unsigned i = 0; i < 2; i++)
            if (pfd[i].revents & POLLIN) {
                uint64_t v;
                if (read(pfd[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    return NULL;
            }
        atomic_store(&n->kicked, true);
    }
    return NULL;
}

bool nvme_run(struct nvme *n)
{
    bool did = round_once(n);
    return did || engines_inflight(n);
}

/* ---- the PCI function ---- */

static void bar_update(void *opaque, unsigned int bar, enum iobus_space space, uint64_t addr,
                       uint64_t size, bool mapped)
{
    struct nvme *n = opaque;
    if (bar != 0 || space != IOBUS_MMIO)
        return;
    pthread_mutex_lock(&n->lock);
    bool ours = n->bar0_mapped && n->bar0 == addr;
    pthread_mutex_unlock(&n->lock);
    bool now = ours;
    if (!mapped && ours) {
        iobus_unregister(n->iobus, IOBUS_MMIO, addr);
        now = false;
    } else if (mapped && !ours) {
        struct iobus_range r = { IOBUS_MMIO, addr, size, bar0_io, n, "nvme" };
        now = n->iobus && iobus_register(n->iobus, &r) == 0;
    }
    pthread_mutex_lock(&n->lock);
    n->bar0_mapped = now;
    n->bar0 = now ? addr : 0;
    n->ctl_dirty = true;                     /* the thread moves its ioeventfds */
    pthread_mutex_unlock(&n->lock);
    if (n->thread_started)
        wake(n);
}

void nvme_get_stats(struct nvme *n, struct nvme_stats *out)
{
    pthread_mutex_lock(&n->stats_lock);
    *out = n->stats;
    pthread_mutex_unlock(&n->stats_lock);
}

struct nvme *nvme_create(struct pci_bus *bus, unsigned devfn, const struct nvme_config *cfg,
                         char *err, size_t errlen)
{
    if (!cfg->dma || cfg->nr_ns < 1 || cfg->nr_ns > NVME_MAX_NS || cfg->io_queues < 1 ||
        cfg->io_queues > NVME_MAX_IO_QUEUES) {
        snprintf(err, errlen, "nvme: bad configuration");
        return NULL;
    }
    struct nvme *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "nvme: out of memory");
        return NULL;
    }
    n->cfg = *cfg;
    if (!n->cfg.name)
        n->cfg.name = "nvme";
    n->efd = n->cq_efd = -1;
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->stats_lock, NULL);
    n->cap = (NVME_QUEUE_ENTRIES - 1) | 1ULL << 16 /* CQR */ | 20ULL << 24 /* TO: 10 s */ |
             1ULL << 37 /* CSS: NVM */;          /* DSTRD 0, MPSMIN = MPSMAX = 0 (4 KiB) */
    feat_defaults(n);
    n->cmds = calloc(MAX_CMDS, sizeof(*n->cmds));
    n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    n->cq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!n->cmds || n->efd < 0 || n->cq_efd < 0) {
        snprintf(err, errlen, "nvme: %s", strerror(errno));
        goto fail;
    }
    for (unsigned i = 0; i < MAX_CMDS; i++) {
        n->cmds[i].next_free = n->free_cmds;
        n->free_cmds = &n->cmds[i];
    }
    for (unsigned i = 0; i < cfg->nr_ns; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s namespace %u", n->cfg.name, i + 1);
        struct blkeng_config ec = { .backing = cfg->ns[i], .depth = ENG_DEPTH, .ctx = n,
                                    .name = name };
        if (!(n->eng[i] = blkeng_create(&ec, err, errlen)))
            goto fail;
        if (cfg->dma->ram) {
            struct blkeng_memory m = { cfg->dma->ram, NULL, cfg->dma->ram_len };
            const char *why;
            if (blkeng_use_memory(n->eng[i], &m, &why) < 0 && i == 0)
                fprintf(stderr, "tandem-vmm: %s: no fixed buffers (%s): vectored I/O\n",
                        n->cfg.name, why);
        }
    }
    struct pci_dev_info info = { .vendor = 0x1b36, .device = 0x0010, .subsys_vendor = 0x1af4,
                                 .subsys_id = 0x1100, .revision = 2, .class_code = 0x010802,
                                 .irq_pin = 1, .name = "nvme" };
    struct pci_dev_ops ops = { .bar_update = bar_update };
    n->iobus = pci_bus_iobus(bus);
    n->dev = pci_dev_new(bus, devfn, &info, &ops, n);
    if (!n->dev) {
        snprintf(err, errlen, "nvme: PCI slot %u.%u: %s", devfn >> 3, devfn & 7, strerror(errno));
        goto fail;
    }
    if (pci_bar_define(n->dev, 0, NVME_BAR0_SIZE, PCI_BAR_MEM64) < 0 ||
        pci_bar_define(n->dev, MSIX_BAR, 0x1000, PCI_BAR_MEM32 | PCI_BAR_MSIX_ONLY) < 0 ||
        pci_msix_init(n->dev, cfg->io_queues + 1, MSIX_BAR, 0, MSIX_BAR, 0x800) < 0) {
        snprintf(err, errlen, "nvme: PCI BARs or MSI-X");
        goto fail;
    }
    if (cfg->manual)
        return n;
    if ((errno = pthread_create(&n->thread, NULL, thread_main, n))) {
        snprintf(err, errlen, "nvme: thread: %s", strerror(errno));
        goto fail;
    }
    n->thread_started = true;
    return n;
fail:
    nvme_destroy(n);
    return NULL;
}

void nvme_destroy(struct nvme *n)
{
    if (!n)
        return;
    if (n->thread_started) {
        atomic_store(&n->stop, true);
        atomic_store(&n->kicked, false);
        wake(n);
        pthread_join(n->thread, NULL);
    } else if (n->cfg.manual) {
        atomic_store(&n->stop, true);
        for (unsigned i = 0; i < NVME_MAX_NS; i++)   /* drain: the engines' requests */
            while (n->eng[i] && blkeng_inflight(n->eng[i])) {
                blkeng_wait(n->eng[i]);
                blkeng_reap(n->eng[i]);
            }
    }
    ioeventfds(n, false);
    pci_dev_free(n->dev);            /* reports BAR0 unmapped: off the bus */
    for (unsigned i = 0; i < NVME_MAX_NS; i++)
        if (n->eng[i])
            blkeng_destroy(n->eng[i]);
    if (n->efd >= 0)
        close(n->efd);
    if (n->cq_efd >= 0)
        close(n->cq_efd);
    if (n->cmds)
        for (unsigned i = 0; i < MAX_CMDS; i++)
            free(n->cmds[i].many);
    free(n->cmds);
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->stats_lock);
    free(n);
}

/*
 * nvme_cost: what the NVMe model (hypervisor/vmm/dev/nvme.c) costs per
 * command, with no guest and no KVM (tests/bench/nvme_bench.sh runs it).
 * The controller is made as tests/unit/vmm_dev_nvme.c makes it: a PCI bus
 * on tandem-vmm's own I/O bus (iobus.c), BAR0 placed through configuration
 * space, registers and doorbells written through the bus (the path a
 * vCPU's MMIO exit takes), "guest RAM" a memfd mapping with a struct
 * dev_dma over it (as the PC's), one namespace over FILE opened with
 * blkeng_backing_open (O_DIRECT when the file system takes it, as
 * tandem-vmm's --disk). This program is the guest's driver: it enables
 * the controller, creates one I/O queue pair (interrupts off: it polls the
 * completion queue's phase bit, spinning) and keeps --qd 4 KiB random
 * reads in flight, one doorbell per batch, as Linux's driver does.
 *
 * --path says what does the reads:
 *   model         the NVMe model, every doorbell an MMIO write through the
 *                 bus (what SeaBIOS does, and any driver without Doorbell
 *                 Buffer Config: in tandem-vmm each is a VM exit to the VMM,
 *                 whose own cost is not in this figure);
 *   model-shadow  the NVMe model with shadow doorbells (Doorbell Buffer
 *                 Config, as Linux sets up when it is offered): the driver
 *                 writes the shadow and, when the event index asks for it
 *                 (Linux's nvme_dbbuf_need_event), writes the doorbell's
 *                 eventfd, which is what KVM's ioeventfd does with the MMIO
 *                 write in tandem-vmm (no exit);
 *   model-inline  the NVMe model with no thread of its own (nvme_config's
 *                 manual mode): this driver runs its rounds (nvme_run) while
 *                 it waits, so there is no wake-up and no eventfd at all;
 *                 beside uring-spin, what is left is the model's own work
 *                 per command (the bus, the SQE, PRPs, the engine call, the
 *                 completion entry);
 *   engine        the block engine alone (backends/engine/blkeng.h) on the
 *                 same backing and memory, driven as the model's thread
 *                 drives it (submit, flush, sleep in poll() on its fd, reap):
 *                 the model minus this is the NVMe front door's own cost;
 *   uring         plain io_uring on the same fd (the engine's ring flags,
 *                 the buffers registered, READ_FIXED), waiting in
 *                 io_uring_enter: the host's floor;
 *   uring-spin    the same, but spinning on the completion queue instead
 *                 of sleeping (as this driver spins on the model's CQ):
 *                 the floor without a wake-up;
 *   pread         pread(2) on the same fd (qd 1 only).
 *
 * Latency is from the doorbell write (for the host paths: the submission)
 * to the completion seen (the phase bit flipping in the completion queue
 * entry; the CQE; the callback; pread's return). After --warmup-ms it
 * measures for --seconds and prints one line of key=value:
 *   iops p50_us p99_us mean_us ios  the reads;
 *   cpu_us      CPU time (user + system) per read of whoever does the I/O:
 *               for model and model-shadow every thread but this driver's
 *               (the controller's thread and io_uring's workers); for the
 *               others (model-inline, engine, uring, pread) the whole
 *               process (a spinning path counts its spinning);
 *   drv_cpu_us  this driver thread's CPU per read (it spins: not work);
 *   vcsw        voluntary context switches per read of those threads
 *               (sleeps), ivcsw involuntary ones;
 *   wakeups doorbells interrupts commands   the model's own counters
 *               (nvme_get_stats) per read: times its thread woke from
 *               poll(), doorbell writes that reached nvme_mmio, interrupts
 *               sent (0: IEN off), commands taken;
 *   mmio_db efd_db   doorbell writes this driver made per read through the
 *               bus / to the eventfd (shadow mode);
 *   sq_db_ns cq_db_ns   mean time of one SQ tail / CQ head doorbell write
 *               as the driver sees it (the cost on the vCPU's side: the bus
 *               lookup, nvme_mmio, the eventfd write that wakes the thread;
 *               a write whose wake-up preempts the driver counts whole),
 *               sq_db_p50_ns cq_db_p50_ns their medians;
 *   direct      1 if the backing was opened O_DIRECT.
 *
 * usage: nvme_cost --file PATH --path model|model-shadow|model-inline|engine|uring|uring-spin|pread
 *            --qd N [--seconds S] [--warmup-ms N] [--cq-doorbell-every N] [--cpus DRV,DEV]
 * --cq-doorbell-every N (model paths): ring the CQ head doorbell only after
 * every N completions taken (default 1: after every batch, as Linux does),
 * to see what the CQ doorbell's wake-up of the controller costs.
 * --cpus DRV,DEV: pins this driver's thread to CPU DRV and every other
 * thread of the process (the controller's) to DEV.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkeng.h"
#include "blkeng_backing.h"
#include "dev/dma.h"
#include "dev/nvme.h"
#include "dev/pci.h"
#include "tdm_uring.h"
#include "vmm_dev_bus.h"

#define PROG       "nvme_cost"
#define RAM_SIZE   (64u << 20)        /* the PC's --memory 64 */
#define BAR0       0xfebf0000ULL
#define BAR4       0xfebe0000ULL
#define DEVFN      PCI_DEVFN(4, 0)    /* where the PC puts it */
#define ASQ        0x10000u
#define ACQ        0x11000u
#define IOSQ       0x12000u
#define IOCQ       0x14000u
#define IDBUF      0x20000u
#define SHADOW     0x30000u
#define EVIDX      0x31000u
#define DATA       0x200000u          /* one 4 KiB buffer per slot from here */
#define QSIZE      64u                /* I/O SQ and CQ entries */
#define ADMIN_Q    32u
#define MAX_QD     32u
#define BS         4096u

enum path { P_MODEL, P_SHADOW, P_INLINE, P_ENGINE, P_URING, P_URING_SPIN, P_PREAD, P_NR };
static const char *const path_names[] = { "model", "model-shadow", "model-inline", "engine",
                                          "uring", "uring-spin", "pread" };

static struct {
    const char *file;
    enum path path;
    unsigned qd, warmup_ms;
    double seconds;
    int drv_cpu, dev_cpu;          /* --cpus DRV,DEV; -1: not pinned */
} o = { .qd = 1, .warmup_ms = 300, .seconds = 3, .drv_cpu = -1, .dev_cpu = -1 };

static uint8_t *ram;
static struct blkeng_backing back;
static uint64_t nblocks, rng;

/* The measured phase. */
static bool recording;
static uint32_t *lat;
static size_t nlat, lat_cap;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next_block(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % nblocks;
}

static void record(uint64_t ns)
{
    if (!recording)
        return;
    if (nlat == lat_cap) {
        size_t cap = lat_cap ? lat_cap * 2 : 1u << 16;
        uint32_t *p = realloc(lat, cap * sizeof(*p));

        if (!p)
            die("out of memory for %zu samples", cap);
        lat = p;
        lat_cap = cap;
    }
    lat[nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static uint8_t *slot_buf(unsigned slot) { return ram + DATA + (size_t)slot * BS; }

/* ---- CPU accounting ---- */

struct cpu {
    double self_us, thread_us;
    long self_vcsw, thread_vcsw, self_ivcsw, thread_ivcsw;
};

static double ru_us(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e6 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

static struct cpu cpu_now(void)
{
    struct rusage s, t;

    getrusage(RUSAGE_SELF, &s);
    getrusage(RUSAGE_THREAD, &t);
    return (struct cpu){ ru_us(&s), ru_us(&t), s.ru_nvcsw, t.ru_nvcsw, s.ru_nivcsw, t.ru_nivcsw };
}

/* ---- the NVMe model ---- */

static struct iobus *bus;
static struct pci_bus *pci;
static struct nvme *ctrl;
static struct dev_dma dma;
static int ioevt_fd = -1;
static unsigned asq_tail, acq_head, sq_tail, cq_head;
static bool acq_phase, cq_phase;
static uint16_t next_cid = 1;
static uint32_t *shadow, *evidx;
static bool manual;                /* model-inline: no controller thread */
static uint64_t mmio_db, efd_db, db_ns[2], db_calls[2], msis;
static uint32_t *db_lat[2];        /* each doorbell write's time, ns (measured phase) */
static size_t db_cap[2];
static unsigned cq_db_every = 1, cq_unrung;

static void *ram_map(void *opaque, uint64_t gpa, uint64_t len, bool write)
{
    (void)opaque;
    (void)write;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return ram + gpa;
}

/* KVM's part in tandem-vmm (pc.c's mmio_ioeventfd): here the driver
 * writes the eventfd itself. */
static int fake_ioeventfd(void *opaque, uint64_t gpa, int fd, bool assign)
{
    (void)opaque;
    (void)gpa;
    if (assign)
        ioevt_fd = fd;
    return 0;
}

static int count_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque;
    (void)addr;
    (void)data;
    msis++;
    return 0;
}

static void intx_none(void *opaque, unsigned pirq, bool level)
{
    (void)opaque;
    (void)pirq;
    (void)level;
}

static uint32_t rd32(uint64_t off) { return (uint32_t)tbus_read(bus, BAR0 + off, 4); }
static void wr32(uint64_t off, uint32_t v) { tbus_write(bus, BAR0 + off, 4, v); }
static void wr64(uint64_t off, uint64_t v) { tbus_write(bus, BAR0 + off, 8, v); }

struct sqe {
    uint32_t cdw0, nsid, r2, r3;
    uint64_t mptr, prp1, prp2;
    uint32_t cdw[6];
};

static uint32_t cqe_dw3(uint32_t base, unsigned idx)
{
    return __atomic_load_n((uint32_t *)(void *)(ram + base + (size_t)idx * 16 + 12),
                           __ATOMIC_ACQUIRE);
}

/* Linux's nvme_dbbuf_need_event(): did the controller ask to be told of
 * the move from old to new? */
static bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* Doorbell y (0: SQ 1 tail, 1: CQ 1 head) of I/O queue 1, as Linux rings
 * it: through the shadow and the eventfd when Doorbell Buffer Config is
 * on, else an MMIO write. */
static void io_doorbell(unsigned y, uint32_t value)
{
    uint64_t t = now_ns();

    if (shadow) {
        uint32_t old = __atomic_load_n(&shadow[2 + y], __ATOMIC_RELAXED);

        __atomic_store_n(&shadow[2 + y], value, __ATOMIC_RELEASE);
        atomic_thread_fence(memory_order_seq_cst);
        if (need_event((uint16_t)__atomic_load_n(&evidx[2 + y], __ATOMIC_ACQUIRE),
                       (uint16_t)value, (uint16_t)old)) {
            uint64_t one = 1;

            if (write(ioevt_fd, &one, sizeof(one)) != sizeof(one))
                die("eventfd write: %s", strerror(errno));
            if (recording)
                efd_db++;
        }
    } else {
        wr32(0x1008 + 4 * y, value);
        if (recording)
            mmio_db++;
    }
    if (recording) {
        uint64_t d = now_ns() - t;

        if (db_calls[y] == db_cap[y]) {
            size_t cap = db_cap[y] ? db_cap[y] * 2 : 1u << 16;
            uint32_t *p = realloc(db_lat[y], cap * sizeof(*p));

            if (!p)
                die("out of memory for %zu doorbell samples", cap);
            db_lat[y] = p;
            db_cap[y] = cap;
        }
        db_lat[y][db_calls[y]++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        db_ns[y] += d;
    }
}

/* model-inline: the controller's work, on this thread (else its own
 * thread does it). */
static void service(void)
{
    if (manual)
        nvme_run(ctrl);
}

static void wait_csts(uint32_t mask, uint32_t want)
{
    uint64_t end = now_ns() + 5000000000ull;

    for (;;) {
        service();
        if ((rd32(0x1c) & mask) == want)
            return;
        if (now_ns() > end)
            die("CSTS is %#x, waited for %#x under mask %#x", rd32(0x1c), want, mask);
        if (!manual)
            usleep(100);
    }
}

/* One admin command, waited for (polling, 5 s); its status. */
static int admin(struct sqe c)
{
    uint16_t cid = next_cid++;
    uint64_t end = now_ns() + 5000000000ull;

    c.cdw0 = (c.cdw0 & 0xffff) | (uint32_t)cid << 16;
    memcpy(ram + ASQ + asq_tail * 64, &c, 64);
    asq_tail = (asq_tail + 1) % ADMIN_Q;
    wr32(0x1000, asq_tail);
    for (;;) {
        service();
        if (((cqe_dw3(ACQ, acq_head) >> 16) & 1) == acq_phase)
            break;
        if (now_ns() > end)
            die("no completion of admin command %#x", c.cdw0 & 0xff);
        if (!manual)
            usleep(20);
    }
    uint32_t dw3 = cqe_dw3(ACQ, acq_head);
    if (++acq_head == ADMIN_Q) {
        acq_head = 0;
        acq_phase = !acq_phase;
    }
    wr32(0x1004, acq_head);
    if ((dw3 & 0xffff) != cid)
        die("admin completion for cid %u, want %u", dw3 & 0xffff, cid);
    return (int)((dw3 >> 17) & 0x7ff);
}

static void model_setup(bool with_shadow, bool inline_)
{
    struct msi_sink msi = { count_msi, NULL };
    struct pci_intx_router router = { intx_none, NULL };
    struct nvme_config cfg = { .dma = &dma, .nr_ns = 1, .io_queues = 1, .name = PROG };
    char err[256];

    dma = (struct dev_dma){ .map = ram_map, .ram = ram, .ram_len = RAM_SIZE };
    bus = iobus_new();
    pci = pci_bus_new(bus, &msi);
    if (!bus || !pci)
        die("the I/O bus or the PCI bus: %s", strerror(errno));
    pci_bus_set_router(pci, &router);
    cfg.ns[0] = &back;
    snprintf(cfg.serial, sizeof(cfg.serial), "NVMECOST");
    if (with_shadow)
        cfg.ioeventfd = fake_ioeventfd;
    cfg.manual = manual = inline_;
    ctrl = nvme_create(pci, DEVFN, &cfg, err, sizeof(err));
    if (!ctrl)
        die("nvme_create: %s", err);
    pci_cfg_write(pci, DEVFN, 0x10, 4, (uint32_t)BAR0);
    pci_cfg_write(pci, DEVFN, 0x14, 4, (uint32_t)(BAR0 >> 32));
    pci_cfg_write(pci, DEVFN, 0x20, 4, (uint32_t)BAR4);
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

    /* Enable: 32-entry admin queues, 64-byte SQEs, 16-byte CQEs. */
    wr32(0x24, (ADMIN_Q - 1) << 16 | (ADMIN_Q - 1));
    wr64(0x28, ASQ);
    wr64(0x30, ACQ);
    acq_phase = true;
    wr32(0x14, 1 | 6u << 16 | 4u << 20);
    wait_csts(1, 1);
    if (admin((struct sqe){ .cdw0 = 0x06, .prp1 = IDBUF, .cdw = { 1 } }))
        die("Identify Controller failed");
    if (with_shadow && !((ram[IDBUF + 256] | ram[IDBUF + 257] << 8) & (1u << 8)))
        die("the controller offers no Doorbell Buffer Config");
    /* The I/O pair: CQ 1 (physically contiguous, interrupts off), SQ 1 on it. */
    cq_phase = true;
    if (admin((struct sqe){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { (QSIZE - 1) << 16 | 1, 1 } }) ||
        admin((struct sqe){ .cdw0 = 0x01, .prp1 = IOSQ,
                            .cdw = { (QSIZE - 1) << 16 | 1, 1u << 16 | 1 } }))
        die("creating the I/O queues failed");
    if (with_shadow) {
        if (admin((struct sqe){ .cdw0 = 0x7c, .prp1 = SHADOW, .prp2 = EVIDX }))
            die("Doorbell Buffer Config failed");
        if (ioevt_fd < 0)
            die("no ioeventfd was assigned");
        shadow = (uint32_t *)(void *)(ram + SHADOW);
        evidx = (uint32_t *)(void *)(ram + EVIDX);
    }
}

static void pin(pid_t tid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(tid, sizeof(set), &set) < 0)
        die("pinning thread %d to CPU %d: %s", (int)tid, cpu, strerror(errno));
}

/* --cpus: this driver on one CPU, every other thread (the controller's;
 * io_uring's workers follow the thread that makes them) on another. */
static void pin_threads(void)
{
    DIR *d;
    struct dirent *e;

    if (o.drv_cpu < 0)
        return;
    pin(0, o.drv_cpu);
    if (!(d = opendir("/proc/self/task")))
        die("/proc/self/task: %s", strerror(errno));
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != gettid())
            pin(atoi(e->d_name), o.dev_cpu);
    closedir(d);
}

static void model_teardown(void)
{
    wr32(0x14, 0);                 /* reset: everything in flight comes back first */
    wait_csts(1, 0);
    nvme_destroy(ctrl);
    pci_bus_free(pci);
    iobus_free(bus);
}

struct model_slot {
    uint64_t t;
    bool busy;
};

static void model_run(uint64_t warmup_end, uint64_t *t0, uint64_t *t1, struct nvme_stats *s0,
                      struct nvme_stats *s1, struct cpu *c0, struct cpu *c1)
{
    struct model_slot slot[MAX_QD] = { { 0, false } };
    unsigned free_list[MAX_QD], nfree = 0;
    uint64_t end = 0;

    for (unsigned i = 0; i < o.qd; i++)
        free_list[nfree++] = i;
    for (;;) {
        uint64_t t = now_ns();

        if (!recording && !end && t >= warmup_end) {
            recording = true;
            nvme_get_stats(ctrl, s0);
            *c0 = cpu_now();
            *t0 = t;
            end = t + (uint64_t)(o.seconds * 1e9);
        } else if (recording && t >= end) {
            *t1 = t;
            *c1 = cpu_now();
            nvme_get_stats(ctrl, s1);
            recording = false;
        }
        if (end && !recording) {
            /* Drain: what is in flight comes back before the reset. */
            if (nfree == o.qd)
                return;
        } else if (nfree) {
            unsigned put[MAX_QD], nput = 0;

            while (nfree) {
                unsigned i = free_list[--nfree];
                struct sqe c = { .cdw0 = 0x02 | (uint32_t)i << 16, .nsid = 1,
                                 .prp1 = DATA + (uint64_t)i * BS };
                uint64_t lba = next_block() * (BS / 512);

                c.cdw[0] = (uint32_t)lba;
                c.cdw[1] = (uint32_t)(lba >> 32);
                c.cdw[2] = BS / 512 - 1;
                memcpy(ram + IOSQ + (size_t)sq_tail * 64, &c, 64);
                sq_tail = (sq_tail + 1) % QSIZE;
                slot[i].busy = true;
                put[nput++] = i;
            }
            /* The clock starts at the doorbell, the entries written. */
            t = now_ns();
            for (unsigned k = 0; k < nput; k++)
                slot[put[k]].t = t;
            io_doorbell(0, sq_tail);
        }
        /* Spin on the phase bit of the next completion. */
        uint64_t stall = now_ns() + 5000000000ull;
        while (((cqe_dw3(IOCQ, cq_head) >> 16) & 1) != cq_phase) {
            service();
            if (now_ns() > stall)
                die("no completion for 5 s with %u reads in flight", o.qd - nfree);
        }
        t = now_ns();
        uint32_t dw3;
        while ((((dw3 = cqe_dw3(IOCQ, cq_head)) >> 16) & 1) == cq_phase) {
            unsigned cid = dw3 & 0xffff;

            if (cid >= o.qd || !slot[cid].busy)
                die("completion for cid %u, which is not in flight", cid);
            if ((dw3 >> 17) & 0x7ff)
                die("read %u failed: status %#x", cid, (dw3 >> 17) & 0x7ff);
            record(t - slot[cid].t);
            slot[cid] = (struct model_slot){ 0, false };
            free_list[nfree++] = cid;
            if (++cq_head == QSIZE) {
                cq_head = 0;
                cq_phase = !cq_phase;
            }
            cq_unrung++;
        }
        /* The CQ head: after every batch (Linux), or with
         * --cq-doorbell-every N once N entries were taken - and always
         * before the controller could find the CQ full (entries it has not
         * seen taken + reads in flight), which would stop it. */
        if (cq_unrung >= cq_db_every || cq_unrung + o.qd >= QSIZE - 2) {
            io_doorbell(1, cq_head);
            cq_unrung = 0;
        }
    }
}

/* ---- the block engine alone ---- */

struct eng_req {
    struct blkeng_req r;
    struct iovec iov;
    uint64_t t;
    unsigned slot;
};
static struct eng_req ereq[MAX_QD];
static unsigned efree[MAX_QD], nefree;

static void eng_done(void *ctx, struct blkeng_req *r, int status)
{
    struct eng_req *q = (struct eng_req *)(void *)r;

    (void)ctx;
    if (status)
        die("engine read failed: %s", strerror(-status));
    record(now_ns() - q->t);
    efree[nefree++] = q->slot;
}

static void engine_run(uint64_t warmup_end, uint64_t *t0, uint64_t *t1, struct cpu *c0,
                       struct cpu *c1)
{
    struct blkeng_config ec = { .backing = &back, .depth = QSIZE, .name = PROG " engine" };
    struct blkeng_memory m = { ram, NULL, RAM_SIZE };
    const char *why;
    char err[256];
    struct blkeng *e = blkeng_create(&ec, err, sizeof(err));
    uint64_t end = 0;

    if (!e)
        die("blkeng_create: %s", err);
    if (blkeng_use_memory(e, &m, &why) < 0)
        fprintf(stderr, PROG ": no fixed buffers (%s): vectored I/O\n", why);
    for (unsigned i = 0; i < o.qd; i++)
        efree[nefree++] = i;
    struct pollfd pfd = { .fd = blkeng_fd(e), .events = POLLIN };
    for (;;) {
        uint64_t t = now_ns();

        if (!recording && !end && t >= warmup_end) {
            recording = true;
            *c0 = cpu_now();
            *t0 = t;
            end = t + (uint64_t)(o.seconds * 1e9);
        } else if (recording && t >= end) {
            *t1 = t;
            *c1 = cpu_now();
            recording = false;
        }
        if (end && !recording) {
            if (!blkeng_inflight(e))
                break;
        } else if (nefree) {
            t = now_ns();
            while (nefree) {
                struct eng_req *q = &ereq[efree[--nefree]];

                q->slot = (unsigned)(q - ereq);
                q->iov = (struct iovec){ slot_buf(q->slot), BS };
                q->r = (struct blkeng_req){ .op = BLKENG_READ, .offset = next_block() * BS,
                                            .iov = &q->iov, .niov = 1, .done = eng_done };
                q->t = t;
                if (blkeng_submit(e, &q->r))
                    die("blkeng_submit refused a read");
            }
            blkeng_flush(e);
        }
        /* As the model's thread: reap, and sleep in poll() when there is nothing. */
        if (!blkeng_reap(e)) {
            if (poll(&pfd, 1, 5000) == 0)
                die("no engine completion for 5 s");
        }
    }
    blkeng_destroy(e);
}

/* ---- the host floor: io_uring and pread ---- */

static void uring_run(bool spin, uint64_t warmup_end, uint64_t *t0, uint64_t *t1,
                      struct cpu *c0, struct cpu *c1)
{
    struct io_uring ring;
    struct iovec reg = { ram + DATA, (size_t)MAX_QD * BS };
    uint64_t tsub[MAX_QD];
    unsigned freel[MAX_QD], nfree = 0, inflight = 0;
    uint64_t end = 0;
    int rc;

    if ((rc = tdm_uring_init(&ring, 2 * QSIZE)) < 0)
        die("io_uring: %s", strerror(-rc));
    if ((rc = io_uring_register_buffers(&ring, &reg, 1)) < 0)
        die("io_uring_register_buffers: %s", strerror(-rc));
    for (unsigned i = 0; i < o.qd; i++)
        freel[nfree++] = i;
    for (;;) {
        uint64_t t = now_ns();

        if (!recording && !end && t >= warmup_end) {
            recording = true;
            *c0 = cpu_now();
            *t0 = t;
            end = t + (uint64_t)(o.seconds * 1e9);
        } else if (recording && t >= end) {
            *t1 = t;
            *c1 = cpu_now();
            recording = false;
        }
        if (end && !recording) {
            if (!inflight)
                break;
        } else {
            t = now_ns();
            while (nfree) {
                unsigned i = freel[--nfree];
                struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

                if (!sqe)
                    die("no SQE");
                io_uring_prep_read_fixed(sqe, back.fd, slot_buf(i), BS, next_block() * BS, 0);
                io_uring_sqe_set_data64(sqe, i);
                tsub[i] = t;
                inflight++;
            }
        }
        if (spin) {
            /* Submit, then spin on the CQ (entering the kernel only when
             * completions wait in task work), as the driver spins on the
             * model's CQ. */
            uint64_t stall = now_ns() + 5000000000ull;

            if ((rc = io_uring_submit(&ring)) < 0)
                die("io_uring_submit: %s", strerror(-rc));
            while (!tdm_uring_cq_ready(&ring))
                if (now_ns() > stall)
                    die("no completion for 5 s");
        } else if ((rc = io_uring_submit_and_wait(&ring, 1)) < 0 && rc != -EINTR) {
            die("io_uring_submit_and_wait: %s", strerror(-rc));
        }
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;

        t = now_ns();
        io_uring_for_each_cqe(&ring, head, cqe) {
            unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);

            if (cqe->res != (int)BS)
                die("read: %s", cqe->res < 0 ? strerror(-cqe->res) : "short");
            record(t - tsub[i]);
            freel[nfree++] = i;
            inflight--;
            n++;
        }
        io_uring_cq_advance(&ring, n);
    }
    io_uring_queue_exit(&ring);
}

static void pread_run(uint64_t warmup_end, uint64_t *t0, uint64_t *t1, struct cpu *c0,
                      struct cpu *c1)
{
    uint64_t end = 0;

    for (;;) {
        uint64_t t = now_ns();

        if (!recording && !end && t >= warmup_end) {
            recording = true;
            *c0 = cpu_now();
            *t0 = t;
            end = t + (uint64_t)(o.seconds * 1e9);
        } else if (recording && t >= end) {
            *t1 = t;
            *c1 = cpu_now();
            recording = false;
            break;
        }
        t = now_ns();
        if (pread(back.fd, slot_buf(0), BS, (off_t)(next_block() * BS)) != (ssize_t)BS)
            die("pread: %s", strerror(errno));
        record(now_ns() - t);
    }
}

/* ---- main ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static double pct_us(double p)
{
    return nlat ? lat[(size_t)(p * (double)(nlat - 1) + 0.5)] / 1000.0 : 0;
}

/* The median time of doorbell y's writes, ns (0 if none). */
static double db_p50(unsigned y)
{
    if (!db_calls[y])
        return 0;
    qsort(db_lat[y], db_calls[y], sizeof(uint32_t), cmp_u32);
    return db_lat[y][db_calls[y] / 2];
}

static unsigned parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (!v[0] || *end || errno || v[0] == '-' || n < lo || n > hi)
        die("%s: '%s' is not a number in %u..%u", opt, v, lo, hi);
    return (unsigned)n;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " --file PATH --path model|model-shadow|model-inline|engine|uring|"
                    "uring-spin|pread --qd N [--seconds S] [--warmup-ms N] "
                    "[--cq-doorbell-every N] [--cpus DRV,DEV]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bool have_path = false;
    char err[256];
    struct nvme_stats s0 = { 0 }, s1 = { 0 };
    struct cpu c0 = { 0 }, c1 = { 0 };
    uint64_t t0 = 0, t1 = 0, warmup_end;
    int memfd;

    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            usage();
        if (strcmp(a, "--file") == 0) {
            o.file = v;
        } else if (strcmp(a, "--path") == 0) {
            unsigned k;

            for (k = 0; k < P_NR && strcmp(v, path_names[k]) != 0; k++)
                ;
            if (k == P_NR)
                die("--path: '%s' is not model, model-shadow, model-inline, engine, uring, "
                    "uring-spin or pread", v);
            o.path = (enum path)k;
            have_path = true;
        } else if (strcmp(a, "--qd") == 0) {
            o.qd = parse_uint(a, v, 1, MAX_QD);
        } else if (strcmp(a, "--cpus") == 0) {
            char drv[16], dev[16];

            if (sscanf(v, "%15[0-9],%15[0-9]", drv, dev) != 2)
                die("--cpus: '%s' is not DRV,DEV (two CPU numbers)", v);
            o.drv_cpu = (int)parse_uint(a, drv, 0, CPU_SETSIZE - 1);
            o.dev_cpu = (int)parse_uint(a, dev, 0, CPU_SETSIZE - 1);
        } else if (strcmp(a, "--cq-doorbell-every") == 0) {
            cq_db_every = parse_uint(a, v, 1, QSIZE / 2);
        } else if (strcmp(a, "--warmup-ms") == 0) {
            o.warmup_ms = parse_uint(a, v, 0, 60000);
        } else if (strcmp(a, "--seconds") == 0) {
            char *end;

            o.seconds = strtod(v, &end);
            if (!v[0] || *end || !(o.seconds >= 0.01 && o.seconds <= 3600))
                die("--seconds: '%s' is not a number in 0.01..3600", v);
        } else {
            usage();
        }
    }
    if (!o.file || !have_path)
        usage();
    if (o.path == P_PREAD && o.qd != 1)
        die("--path pread is synchronous: --qd 1 only");

    /* Read-only: the bench never writes the file. O_DIRECT when it works,
     * as tandem-vmm's --disk opens it. */
    if (blkeng_backing_open(o.file, true, true, &back, err, sizeof(err)) < 0)
        die("%s: %s", o.file, err);
    nblocks = back.sectors / (BS / 512);
    if (!nblocks)
        die("%s is smaller than 4 KiB", o.file);
    memfd = memfd_create(PROG "-ram", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0)
        die("guest RAM: %s", strerror(errno));
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (ram == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memset(ram, 0, RAM_SIZE);       /* every page there before the clock starts */
    rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 20 ^ now_ns();

    bool is_model = o.path == P_MODEL || o.path == P_SHADOW || o.path == P_INLINE;

    if (is_model)
        model_setup(o.path == P_SHADOW, o.path == P_INLINE);
    pin_threads();
    warmup_end = now_ns() + (uint64_t)o.warmup_ms * 1000000u;
    switch (o.path) {
    case P_MODEL:
    case P_SHADOW:
    case P_INLINE: model_run(warmup_end, &t0, &t1, &s0, &s1, &c0, &c1); break;
    case P_ENGINE: engine_run(warmup_end, &t0, &t1, &c0, &c1); break;
    case P_URING:
    case P_URING_SPIN: uring_run(o.path == P_URING_SPIN, warmup_end, &t0, &t1, &c0, &c1); break;
    case P_NR: break;
    case P_PREAD:  pread_run(warmup_end, &t0, &t1, &c0, &c1); break;
    }
    if (is_model)
        model_teardown();

    qsort(lat, nlat, sizeof(lat[0]), cmp_u32);
    double secs = (double)(t1 - t0) / 1e9, n = nlat ? (double)nlat : 1, sum = 0;
    for (size_t i = 0; i < nlat; i++)
        sum += lat[i];
    /* Whoever does the I/O: for the model every thread but this one (the
     * controller's and io_uring's); the engine and the floors run here. */
    bool other_threads = o.path == P_MODEL || o.path == P_SHADOW;
    double cpu = other_threads ? (c1.self_us - c0.self_us) - (c1.thread_us - c0.thread_us)
                               : c1.self_us - c0.self_us;
    long vcsw = other_threads ? (c1.self_vcsw - c0.self_vcsw) - (c1.thread_vcsw - c0.thread_vcsw)
                              : c1.self_vcsw - c0.self_vcsw;
    long ivcsw = other_threads
                     ? (c1.self_ivcsw - c0.self_ivcsw) - (c1.thread_ivcsw - c0.thread_ivcsw)
                     : c1.self_ivcsw - c0.self_ivcsw;
    printf("path=%s qd=%u iops=%.0f p50_us=%.2f p99_us=%.2f mean_us=%.2f ios=%zu cpu_us=%.2f "
           "drv_cpu_us=%.2f vcsw=%.3f ivcsw=%.3f wakeups=%.3f doorbells=%.3f interrupts=%.3f "
           "commands=%.3f mmio_db=%.3f efd_db=%.3f sq_db_ns=%.0f cq_db_ns=%.0f sq_db_p50_ns=%.0f "
           "cq_db_p50_ns=%.0f direct=%d\n",
           path_names[o.path], o.qd, nlat / secs, pct_us(0.50), pct_us(0.99), sum / n / 1000.0,
           nlat, cpu / n, other_threads ? (c1.thread_us - c0.thread_us) / n : 0,
           (double)vcsw / n, (double)ivcsw / n,
           (double)(s1.wakeups - s0.wakeups) / n, (double)(s1.doorbell_exits - s0.doorbell_exits) / n,
           (double)(s1.interrupts - s0.interrupts) / n, (double)(s1.commands - s0.commands) / n,
           (double)mmio_db / n, (double)efd_db / n,
           db_calls[0] ? (double)db_ns[0] / (double)db_calls[0] : 0,
           db_calls[1] ? (double)db_ns[1] / (double)db_calls[1] : 0, db_p50(0), db_p50(1),
           back.direct);
    free(lat);
    free(db_lat[0]);
    free(db_lat[1]);
    munmap(ram, RAM_SIZE);
    close(memfd);
    blkeng_backing_close(&back);
    return 0;
}

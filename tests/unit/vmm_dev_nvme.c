/* Check suite for the NVMe controller (hypervisor/vmm/dev/nvme.c) on the
 * block engine, driven by a host-side driver the way SeaBIOS and Linux
 * drive it: a PCI bus on tandem-vmm's I/O bus, BARs placed through
 * configuration space, registers and doorbells by MMIO, queues, PRPs and
 * data in a 16 MiB "guest RAM", two namespaces over temp files in
 * $BLKENG_TEST_DIR (default /var/tmp), MSI-X and INTx recorded. No KVM. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "blkeng_backing.h"
#include "dev/dma.h"
#include "dev/nvme.h"
#include "dev/pci.h"
#include "vmm_dev_bus.h"

#define RAM_SIZE   (16u << 20)
#define NS1_BYTES  (8u << 20)
#define NS2_BYTES  (1u << 20)
#define BAR0       0xfebf0000ULL
#define BAR4       0xfebe0000ULL
#define DEVFN      PCI_DEVFN(4, 0)
#define ASQ        0x10000u
#define ACQ        0x11000u
#define IOSQ       0x12000u
#define IOCQ       0x14000u
#define IDBUF      0x20000u
#define DATA       0x100000u      /* data buffers from here */

static uint8_t *ram;
static struct dev_dma dma;
static struct iobus *bus;
static struct pci_bus *pci;
static struct trec rec;
static struct nvme *ctrl;
static struct blkeng_backing back[2];
static char path[2][256];
static int ro_ns2;
static uint16_t next_cid;
static unsigned asq_tail, acq_head, iosq_tail, iocq_head, iosq_size, iocq_size;
static bool acq_phase, iocq_phase;
static unsigned intx_level_now, intx_raises;
static atomic_uint ioevt_assigned;
static int ioevt_fd = -1;

static void *ram_map(void *o, uint64_t gpa, uint64_t len, bool write)
{
    (void)o;
    (void)write;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return ram + gpa;
}

static int fake_ioeventfd(void *o, uint64_t gpa, int fd, bool assign)
{
    (void)o;
    ck_assert_uint_ge(gpa, BAR0 + 0x1000);
    ck_assert_uint_lt(gpa, BAR0 + 0x2000);
    if (assign) {
        atomic_fetch_add(&ioevt_assigned, 1);
        if ((gpa - BAR0 - 0x1000) / 4 % 2 == 0)
            ioevt_fd = fd;                          /* an SQ tail's: what the test rings */
    } else {
        atomic_fetch_sub(&ioevt_assigned, 1);
    }
    return 0;
}

static void intx_set(void *o, unsigned pirq, bool level)
{
    (void)o;
    (void)pirq;
    if (level && !intx_level_now)
        intx_raises++;
    intx_level_now = level;
}

static uint32_t rd32(uint64_t off) { return (uint32_t)tbus_read(bus, BAR0 + off, 4); }
static uint64_t rd64(uint64_t off) { return tbus_read(bus, BAR0 + off, 8); }
static void wr32(uint64_t off, uint32_t v) { tbus_write(bus, BAR0 + off, 4, v); }
static void wr64(uint64_t off, uint64_t v) { tbus_write(bus, BAR0 + off, 8, v); }

static void make_file(unsigned i, size_t bytes, bool ro)
{
    const char *dir = getenv("BLKENG_TEST_DIR") ? getenv("BLKENG_TEST_DIR") : "/var/tmp";
    snprintf(path[i], sizeof(path[i]), "%s/tandem-nvme-XXXXXX", dir);
    int fd = mkstemp(path[i]);
    ck_assert_int_ge(fd, 0);
    uint8_t *buf = malloc(bytes);
    for (size_t k = 0; k < bytes; k++)
        buf[k] = (uint8_t)(k * 7 + i * 13 + (k >> 9));
    ck_assert_int_eq(pwrite(fd, buf, bytes, 0), (ssize_t)bytes);
    free(buf);
    close(fd);
    char err[256];
    ck_assert_msg(blkeng_backing_open(path[i], ro, true, &back[i], err, sizeof(err)) == 0, "%s", err);
}

static struct nvme *make_ctrl(unsigned queues, bool with_ioeventfd)
{
    struct nvme_config cfg = { .dma = &dma, .nr_ns = 2, .io_queues = queues, .name = "nvme-test" };
    cfg.ns[0] = &back[0];
    cfg.ns[1] = &back[1];
    snprintf(cfg.serial, sizeof(cfg.serial), "TDM0001");
    if (with_ioeventfd)
        cfg.ioeventfd = fake_ioeventfd;
    char err[256];
    struct nvme *n = nvme_create(pci, DEVFN, &cfg, err, sizeof(err));
    ck_assert_msg(n != NULL, "%s", err);
    pci_cfg_write(pci, DEVFN, 0x10, 4, (uint32_t)BAR0);
    pci_cfg_write(pci, DEVFN, 0x14, 4, 0);
    pci_cfg_write(pci, DEVFN, 0x20, 4, (uint32_t)BAR4);
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return n;
}

static void setup_common(bool ioevt)
{
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(ram, MAP_FAILED);
    dma = (struct dev_dma){ .map = ram_map, .ram = ram, .ram_len = RAM_SIZE };
    rec = (struct trec){ 0 };
    bus = iobus_new();
    struct msi_sink msi = { trec_msi, &rec };
    pci = pci_bus_new(bus, &msi);
    struct pci_intx_router r = { intx_set, NULL };
    pci_bus_set_router(pci, &r);
    intx_level_now = intx_raises = 0;
    make_file(0, NS1_BYTES, false);
    make_file(1, NS2_BYTES, ro_ns2);
    ioevt_assigned = 0;
    ctrl = make_ctrl(4, ioevt);
    next_cid = 1;
}

static void setup(void) { ro_ns2 = 0; setup_common(false); }
static void setup_ro(void) { ro_ns2 = 1; setup_common(false); }
static void setup_ioevt(void) { ro_ns2 = 0; setup_common(true); }

static void teardown(void)
{
    nvme_destroy(ctrl);
    ctrl = NULL;
    pci_bus_free(pci);
    iobus_free(bus);
    for (unsigned i = 0; i < 2; i++) {
        blkeng_backing_close(&back[i]);
        unlink(path[i]);
    }
    munmap(ram, RAM_SIZE);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool wait_csts(uint32_t mask, uint32_t want)
{
    uint64_t end = now_ms() + 5000;
    while (now_ms() < end) {
        if ((rd32(0x1c) & mask) == want)
            return true;
        usleep(100);
    }
    return false;
}

static void enable(unsigned qsize)
{
    wr32(0x24, (qsize - 1) << 16 | (qsize - 1));
    wr64(0x28, ASQ);
    wr64(0x30, ACQ);
    memset(ram + ASQ, 0, 0x2000);
    asq_tail = acq_head = 0;
    acq_phase = true;
    wr32(0x14, 1 | 6u << 16 | 4u << 20);
    ck_assert_msg(wait_csts(1, 1), "CSTS.RDY did not become 1 (CSTS %#x)", rd32(0x1c));
}

struct sqe_t {
    uint32_t cdw0, nsid, r2, r3;
    uint64_t mptr, prp1, prp2;
    uint32_t cdw[6];              /* cdw10..cdw15 */
};

/* A completion: dw0, status (SCT << 8 | SC), the SQ head it reports. */
struct cqe_t {
    uint32_t dw0;
    int status;
    uint16_t sqhd, sqid, cid;
};

static bool poll_cq(uint32_t base, unsigned *head, bool *phase, unsigned size, struct cqe_t *out,
                    unsigned timeout_ms, unsigned dboff)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        uint8_t *e = ram + base + (size_t)*head * 16;
        uint32_t dw3 = __atomic_load_n((uint32_t *)(void *)(e + 12), __ATOMIC_ACQUIRE);
        if (((dw3 >> 16) & 1) == *phase) {
            uint32_t dw2;
            memcpy(&out->dw0, e, 4);
            memcpy(&dw2, e + 8, 4);
            out->sqhd = dw2 & 0xffff;
            out->sqid = dw2 >> 16;
            out->cid = dw3 & 0xffff;
            out->status = (int)(((dw3 >> 17) & 0xff) | ((dw3 >> 25) & 7) << 8);
            if (++*head == size) {
                *head = 0;
                *phase = !*phase;
            }
            wr32(dboff, *head);
            return true;
        }
        if (now_ms() >= end)
            return false;
        usleep(50);
    }
}

static uint16_t admin_submit(struct sqe_t *c)
{
    uint16_t cid = next_cid++;
    c->cdw0 = (c->cdw0 & 0xffff) | (uint32_t)cid << 16;
    memcpy(ram + ASQ + asq_tail * 64, c, 64);
    asq_tail = (asq_tail + 1) % 32;
    wr32(0x1000, asq_tail);
    return cid;
}

static struct cqe_t admin(struct sqe_t c)
{
    uint16_t cid = admin_submit(&c);
    struct cqe_t r;
    ck_assert_msg(poll_cq(ACQ, &acq_head, &acq_phase, 32, &r, 5000, 0x1004), "no admin completion");
    ck_assert_uint_eq(r.cid, cid);
    ck_assert_uint_eq(r.sqid, 0);
    return r;
}

static struct cqe_t identify(unsigned cns, uint32_t nsid)
{
    memset(ram + IDBUF, 0xee, 4096);
    return admin((struct sqe_t){ .cdw0 = 0x06, .nsid = nsid, .prp1 = IDBUF, .cdw = { cns } });
}

static void create_io_queues(unsigned size, bool ien, unsigned iv)
{
    iosq_size = iocq_size = size;
    memset(ram + IOSQ, 0, 0x2000);
    memset(ram + IOCQ, 0, 0x2000);
    iosq_tail = iocq_head = 0;
    iocq_phase = true;
    struct cqe_t r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ,
                                           .cdw = { (size - 1) << 16 | 1,
                                                    (uint32_t)iv << 16 | (ien ? 2 : 0) | 1 } });
    ck_assert_int_eq(r.status, 0);
    r = admin((struct sqe_t){ .cdw0 = 0x01, .prp1 = IOSQ,
                              .cdw = { (size - 1) << 16 | 1, 1u << 16 | 1 } });
    ck_assert_int_eq(r.status, 0);
}

static uint16_t io_submit(struct sqe_t c, bool ring)
{
    uint16_t cid = next_cid++;
    c.cdw0 = (c.cdw0 & 0xffff) | (uint32_t)cid << 16;
    memcpy(ram + IOSQ + iosq_tail * 64, &c, 64);
    iosq_tail = (iosq_tail + 1) % iosq_size;
    if (ring)
        wr32(0x1008, iosq_tail);
    return cid;
}

static bool io_reap(struct cqe_t *r, unsigned timeout_ms)
{
    return poll_cq(IOCQ, &iocq_head, &iocq_phase, iocq_size, r, timeout_ms, 0x100c);
}

static struct cqe_t io(struct sqe_t c)
{
    uint16_t cid = io_submit(c, true);
    struct cqe_t r;
    ck_assert_msg(io_reap(&r, 5000), "no I/O completion");
    ck_assert_uint_eq(r.cid, cid);
    ck_assert_uint_eq(r.sqid, 1);
    return r;
}

static struct sqe_t rw(bool write, uint32_t nsid, uint64_t slba, unsigned nlb, uint64_t prp1,
                       uint64_t prp2)
{
    return (struct sqe_t){ .cdw0 = write ? 0x01 : 0x02, .nsid = nsid, .prp1 = prp1, .prp2 = prp2,
                           .cdw = { (uint32_t)slba, (uint32_t)(slba >> 32), nlb - 1 } };
}

static void file_read(unsigned i, uint64_t off, void *buf, size_t len)
{
    int fd = open(path[i], O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void fill(uint64_t gpa, size_t len, unsigned seed)
{
    for (size_t k = 0; k < len; k++)
        ram[gpa + k] = (uint8_t)(k * 31 + seed + (k >> 8));
}

START_TEST(registers)
{
    uint64_t cap = rd64(0x00);
    ck_assert_uint_eq(cap & 0xffff, NVME_QUEUE_ENTRIES - 1);     /* MQES */
    ck_assert(cap & (1ULL << 16));                                /* CQR */
    ck_assert_uint_ne((cap >> 24) & 0xff, 0);                     /* TO */
    ck_assert_uint_eq((cap >> 32) & 0xf, 0);                      /* DSTRD */
    ck_assert(cap & (1ULL << 37));                                /* CSS: NVM */
    ck_assert_uint_eq((cap >> 48) & 0xf, 0);                      /* MPSMIN 4 KiB */
    ck_assert_uint_eq(rd32(0x00) | (uint64_t)rd32(0x04) << 32, cap);
    ck_assert_uint_eq(rd32(0x08), 0x00010400);
    ck_assert_uint_eq(rd32(0x14), 0);
    ck_assert_uint_eq(rd32(0x1c), 0);
    /* ASQ/ACQ keep page addresses; written in two halves too. */
    wr32(0x28, 0x12345fff);
    wr32(0x2c, 0x1);
    ck_assert_uint_eq(rd64(0x28), 0x112345000ULL);
    wr64(0x30, 0xabcdef123ULL);
    ck_assert_uint_eq(rd64(0x30), 0xabcdef000ULL);
    /* Read-only registers keep their value; odd sizes read 0. */
    wr64(0x00, 0);
    ck_assert_uint_eq(rd64(0x00), cap);
    wr32(0x08, 0);
    ck_assert_uint_eq(rd32(0x08), 0x00010400);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + 0x08, 1), 0);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + 0x0a, 2), 0);
    ck_assert_uint_eq(tbus_read(bus, BAR0 + 0x02, 4), 0);          /* misaligned */
    /* INTMS/INTMC set and clear the same mask. */
    wr32(0x0c, 0x5);
    ck_assert_uint_eq(rd32(0x10), 0x5);
    wr32(0x10, 0x1);
    ck_assert_uint_eq(rd32(0x0c), 0x4);
    /* Doorbells read 0; the PCI header is an NVMe controller. */
    ck_assert_uint_eq(rd32(0x1000), 0);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, 0x08, 4) >> 8, 0x010802);
    ck_assert_uint_eq(pci_cfg_read(pci, DEVFN, 0x00, 4), 0x00101b36);
}
END_TEST

START_TEST(enable_disable_and_fatal)
{
    enable(32);
    wr32(0x14, 0);
    ck_assert(wait_csts(1, 0));
    /* A memory page size the controller does not have: fatal status. */
    wr32(0x14, 1 | 1u << 7);
    ck_assert(wait_csts(2, 2));
    ck_assert_uint_eq(rd32(0x1c) & 1, 0);
    wr32(0x14, 0);
    ck_assert(wait_csts(3, 0));
    /* Admin queues outside the guest's RAM: fatal too. */
    wr64(0x28, 0x80000000ULL);
    wr32(0x14, 1 | 6u << 16 | 4u << 20);
    ck_assert(wait_csts(2, 2));
    wr32(0x14, 0);
    ck_assert(wait_csts(3, 0));
    enable(32);
    struct cqe_t r = identify(1, 0);
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(identify_all)
{
    enable(32);
    struct cqe_t r = identify(1, 0);
    ck_assert_int_eq(r.status, 0);
    uint8_t *d = ram + IDBUF;
    ck_assert_uint_eq(d[0] | d[1] << 8, 0x1b36);
    ck_assert(memcmp(d + 4, "TDM0001 ", 8) == 0);
    ck_assert(memcmp(d + 24, "Tandem NVMe", 11) == 0);
    ck_assert_uint_eq(d[77], NVME_MDTS);
    ck_assert_uint_eq(d[512], 0x66);
    ck_assert_uint_eq(d[513], 0x44);
    ck_assert_uint_eq(d[516], 2);                                  /* NN */
    ck_assert_uint_eq(d[520] & 4, 4);                              /* ONCS DSM */
    ck_assert_uint_eq(d[525] & 1, 1);                              /* VWC */
    ck_assert_uint_eq(d[256] | d[257] << 8, 0);                    /* no DBBUF without ioeventfd */
    ck_assert(memcmp(d + 768, "nqn.", 4) == 0);

    r = identify(0, 1);
    ck_assert_int_eq(r.status, 0);
    uint64_t nsze;
    memcpy(&nsze, d, 8);
    ck_assert_uint_eq(nsze, NS1_BYTES / 512);
    ck_assert_uint_eq((d[128 + 2]), 9);                            /* LBADS */
    ck_assert_uint_eq(d[99], 0);
    r = identify(0, 2);
    memcpy(&nsze, d, 8);
    ck_assert_uint_eq(nsze, NS2_BYTES / 512);
    ck_assert_int_eq(identify(0, 3).status, 0x00b);
    ck_assert_int_eq(identify(0, 0).status, 0x00b);

    r = identify(2, 0);                                            /* active namespaces */
    uint32_t ids[3];
    memcpy(ids, d, 12);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 2);
    ck_assert_uint_eq(ids[2], 0);
    r = identify(2, 1);
    memcpy(ids, d, 8);
    ck_assert_uint_eq(ids[0], 2);
    ck_assert_uint_eq(ids[1], 0);

    r = identify(3, 1);                                            /* NGUID descriptor */
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(d[0], 2);
    ck_assert_uint_eq(d[1], 16);
    uint8_t g1[16];
    memcpy(g1, d + 4, 16);
    identify(3, 2);
    ck_assert(memcmp(g1, d + 4, 16) != 0);
    ck_assert_int_eq(identify(6, 0).status, 0);
    ck_assert_int_eq(identify(0x42, 0).status, 0x002);
    /* The identify buffer given with an offset and a second page. */
    r = admin((struct sqe_t){ .cdw0 = 0x06, .prp1 = IDBUF + 0x800, .prp2 = IDBUF + 0x1000,
                              .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(ram[IDBUF + 0x800 + 516], 2);
    /* ... and one PRP2 not on a page: PRP Offset Invalid. */
    r = admin((struct sqe_t){ .cdw0 = 0x06, .prp1 = IDBUF + 0x800, .prp2 = IDBUF + 0x1010,
                              .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0x013);
    /* Outside the guest's RAM: a data transfer error. */
    r = admin((struct sqe_t){ .cdw0 = 0x06, .prp1 = RAM_SIZE, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0x004);
}
END_TEST

START_TEST(read_write_prps)
{
    enable(32);
    create_io_queues(64, false, 0);
    /* 4 KiB in one page: read what the file holds. */
    uint8_t want[65536], got[65536];
    file_read(0, 8 * 512, want, 4096);
    ck_assert_int_eq(io(rw(false, 1, 8, 8, DATA, 0)).status, 0);
    ck_assert(memcmp(ram + DATA, want, 4096) == 0);
    /* 4 KiB starting mid-page: PRP1 with an offset, the rest in PRP2's page. */
    fill(DATA + 0x10200, 3584, 5);
    fill(DATA + 0x20000, 512, 6);
    ck_assert_int_eq(io(rw(true, 1, 100, 8, DATA + 0x10200, DATA + 0x20000)).status, 0);
    file_read(0, 100 * 512, got, 4096);
    ck_assert(memcmp(got, ram + DATA + 0x10200, 3584) == 0);
    ck_assert(memcmp(got + 3584, ram + DATA + 0x20000, 512) == 0);
    /* 64 KiB through a PRP list of scattered pages, read back. */
    uint64_t list = DATA + 0x40000;
    uint64_t pages[16];
    for (unsigned i = 0; i < 16; i++)
        pages[i] = DATA + 0x80000 + (uint64_t)(15 - i) * 0x3000;  /* backwards, with gaps */
    for (unsigned i = 0; i < 16; i++)
        fill(pages[i], 4096, 40 + i);
    memcpy(ram + list, &pages[1], 15 * 8);
    ck_assert_int_eq(io(rw(true, 1, 2048, 128, pages[0], list)).status, 0);
    file_read(0, 2048 * 512, got, 65536);
    for (unsigned i = 0; i < 16; i++)
        ck_assert_msg(memcmp(got + i * 4096, ram + pages[i], 4096) == 0, "page %u", i);
    memset(ram + DATA + 0x200000, 0, 65536);
    for (unsigned i = 0; i < 16; i++)
        pages[i] = DATA + 0x200000 + (uint64_t)i * 0x1000;
    memcpy(ram + list, &pages[1], 15 * 8);
    ck_assert_int_eq(io(rw(false, 1, 2048, 128, pages[0], list)).status, 0);
    ck_assert(memcmp(got, ram + DATA + 0x200000, 65536) == 0);
    /* A PRP list that chains: the list starts 2 entries before its page's
     * end, so its last entry points at the next list page. */
    uint64_t l1 = DATA + 0x50000 - 16, l2 = DATA + 0x60000;
    uint64_t e1[2] = { DATA + 0x300000 + 0x1000, l2 };
    memcpy(ram + l1, e1, 16);
    uint64_t e2[6];
    for (unsigned i = 0; i < 6; i++)
        e2[i] = DATA + 0x300000 + (uint64_t)(i + 2) * 0x1000;
    memcpy(ram + l2, e2, sizeof(e2));
    fill(DATA + 0x300000, 8 * 4096, 99);
    ck_assert_int_eq(io(rw(true, 2, 0, 64, DATA + 0x300000, l1)).status, 0);
    file_read(1, 0, got, 8 * 4096);
    ck_assert(memcmp(got, ram + DATA + 0x300000, 8 * 4096) == 0);
    /* Dword-aligned buffer (Linux's NVMe driver allows it): bounced if O_DIRECT. */
    fill(DATA + 0x400004, 512, 77);
    ck_assert_int_eq(io(rw(true, 1, 7, 1, DATA + 0x400004, 0)).status, 0);
    file_read(0, 7 * 512, got, 512);
    ck_assert(memcmp(got, ram + DATA + 0x400004, 512) == 0);
    memset(ram + DATA + 0x410008, 0, 512);
    ck_assert_int_eq(io(rw(false, 1, 7, 1, DATA + 0x410008, 0)).status, 0);
    ck_assert(memcmp(got, ram + DATA + 0x410008, 512) == 0);
    struct nvme_stats st;
    nvme_get_stats(ctrl, &st);
    ck_assert_uint_ge(st.reads, 3);
    ck_assert_uint_ge(st.writes, 4);
    ck_assert_uint_eq(st.errors, 0);
}
END_TEST

START_TEST(io_errors)
{
    enable(32);
    create_io_queues(16, false, 0);
    uint64_t last = NS1_BYTES / 512;
    ck_assert_int_eq(io(rw(false, 1, last - 1, 1, DATA, 0)).status, 0);
    ck_assert_int_eq(io(rw(false, 1, last - 1, 2, DATA, 0)).status, 0x080);   /* LBA range */
    ck_assert_int_eq(io(rw(false, 1, UINT64_MAX, 2, DATA, 0)).status, 0x080);
    ck_assert_int_eq(io(rw(false, 3, 0, 1, DATA, 0)).status, 0x00b);           /* namespace */
    ck_assert_int_eq(io(rw(false, 0, 0, 1, DATA, 0)).status, 0x00b);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x7f, .nsid = 1 }).status, 0x001);
    ck_assert_int_eq(io(rw(false, 1, 0, 1, RAM_SIZE - 256, RAM_SIZE)).status, 0x004);  /* past RAM */
    ck_assert_int_eq(io(rw(false, 1, 0, 1, DATA + 2, 0)).status, 0x013);        /* not dword */
    ck_assert_int_eq(io(rw(false, 1, 0, 16, DATA, DATA + 0x1008)).status, 0x013);
    ck_assert_int_eq(io(rw(false, 1, 0, 1025, DATA, DATA + 0x1000)).status, 0x002);  /* > MDTS */
    struct sqe_t sgl = rw(false, 1, 0, 1, DATA, 0);
    sgl.cdw0 |= 1u << 14;                                                     /* PSDT: SGL */
    ck_assert_int_eq(io(sgl).status, 0x002);
    /* A PRP list entry outside RAM. */
    uint64_t bad[2] = { DATA + 0x2000, 0x7fff000 };
    memcpy(ram + DATA + 0x5000, bad, 16);
    ck_assert_int_eq(io(rw(false, 1, 0, 24, DATA, DATA + 0x5000)).status, 0x004);
    /* Nothing of that reached the file. */
    uint8_t got[4096], want[4096];
    file_read(0, 0, got, 4096);
    for (size_t k = 0; k < 4096; k++)
        want[k] = (uint8_t)(k * 7 + (k >> 9));
    ck_assert(memcmp(got, want, 4096) == 0);
    struct nvme_stats st;
    nvme_get_stats(ctrl, &st);
    ck_assert_uint_ge(st.errors, 10);
}
END_TEST

START_TEST(read_only_namespace)
{
    enable(32);
    create_io_queues(16, false, 0);
    identify(0, 2);
    ck_assert_uint_eq(ram[IDBUF + 99] & 1, 1);                     /* NSATTR: protected */
    ck_assert_int_eq(io(rw(false, 2, 0, 8, DATA, 0)).status, 0);
    ck_assert_int_eq(io(rw(true, 2, 0, 8, DATA, 0)).status, 0x020);
    uint8_t range[16] = { 0 };
    range[4] = 8;
    memcpy(ram + DATA + 0x1000, range, 16);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x09, .nsid = 2, .prp1 = DATA + 0x1000,
                                        .cdw = { 0, 4 } }).status, 0x020);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x00, .nsid = 2 }).status, 0);  /* flush is fine */
    ck_assert_int_eq(io(rw(true, 1, 0, 8, DATA, 0)).status, 0);
}
END_TEST

START_TEST(flush_and_deallocate)
{
    enable(32);
    create_io_queues(16, false, 0);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x00, .nsid = 1 }).status, 0);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x00, .nsid = 0xffffffff }).status, 0x00b);
    /* Deallocate two ranges: they read back as zeroes, their neighbours
     * keep their bytes. */
    uint8_t ranges[32] = { 0 };
    uint32_t nlb = 16;
    uint64_t slba = 64;
    memcpy(ranges + 4, &nlb, 4);
    memcpy(ranges + 8, &slba, 8);
    slba = 1024;
    memcpy(ranges + 20, &nlb, 4);
    memcpy(ranges + 24, &slba, 8);
    memcpy(ram + DATA, ranges, 32);
    uint8_t before[512];
    file_read(0, 63 * 512, before, 512);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x09, .nsid = 1, .prp1 = DATA,
                                        .cdw = { 1, 4 } }).status, 0);
    uint8_t got[8192], zero[8192] = { 0 };
    file_read(0, 64 * 512, got, 8192);
    if (back[0].can_discard)
        ck_assert(memcmp(got, zero, 8192) == 0);
    file_read(0, 1024 * 512, got, 8192);
    if (back[0].can_discard)
        ck_assert(memcmp(got, zero, 8192) == 0);
    file_read(0, 63 * 512, got, 512);
    ck_assert(memcmp(got, before, 512) == 0);
    /* A range past the end: LBA Out of Range, nothing done. */
    slba = NS1_BYTES / 512 - 4;
    memcpy(ranges + 8, &slba, 8);
    memcpy(ram + DATA, ranges, 32);
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x09, .nsid = 1, .prp1 = DATA,
                                        .cdw = { 0, 4 } }).status, 0x080);
    /* Without the deallocate attribute: a hint, done. */
    ck_assert_int_eq(io((struct sqe_t){ .cdw0 = 0x09, .nsid = 1, .prp1 = DATA,
                                        .cdw = { 0, 1 } }).status, 0);
    /* The volatile write cache off: writes still land (written through). */
    struct cqe_t r = admin((struct sqe_t){ .cdw0 = 0x09, .cdw = { 0x06, 0 } });
    ck_assert_int_eq(r.status, 0);
    r = admin((struct sqe_t){ .cdw0 = 0x0a, .cdw = { 0x06 } });
    ck_assert_uint_eq(r.dw0, 0);
    fill(DATA + 0x3000, 4096, 3);
    ck_assert_int_eq(io(rw(true, 1, 200, 8, DATA + 0x3000, 0)).status, 0);
    file_read(0, 200 * 512, got, 4096);
    ck_assert(memcmp(got, ram + DATA + 0x3000, 4096) == 0);
}
END_TEST

START_TEST(queue_admin_errors)
{
    enable(32);
    /* Completion queue checks. */
    struct cqe_t r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 15u << 16 | 0, 1 } });
    ck_assert_int_eq(r.status, 0x101);                             /* qid 0 */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 15u << 16 | 5, 1 } });
    ck_assert_int_eq(r.status, 0x101);                             /* > granted queues */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 4096u << 16 | 1, 1 } });
    ck_assert_int_eq(r.status, 0x102);                             /* too big */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 15u << 16 | 1, 0 } });
    ck_assert_int_eq(r.status, 0x002);                             /* not contiguous */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ + 8, .cdw = { 15u << 16 | 1, 1 } });
    ck_assert_int_eq(r.status, 0x013);
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 15u << 16 | 1, 99u << 16 | 3 } });
    ck_assert_int_eq(r.status, 0x108);                             /* vector */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = RAM_SIZE - 0x1000, .cdw = { 1023u << 16 | 1, 1 } });
    ck_assert_int_eq(r.status, 0x002);                             /* runs past RAM */
    /* SQ on a CQ that is not there. */
    r = admin((struct sqe_t){ .cdw0 = 0x01, .prp1 = IOSQ, .cdw = { 15u << 16 | 1, 2u << 16 | 1 } });
    ck_assert_int_eq(r.status, 0x100);
    create_io_queues(16, false, 0);
    /* Twice the same queue; delete the CQ under its SQ. */
    r = admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 15u << 16 | 1, 1 } });
    ck_assert_int_eq(r.status, 0x101);
    r = admin((struct sqe_t){ .cdw0 = 0x04, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0x10c);
    r = admin((struct sqe_t){ .cdw0 = 0x00, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0);
    r = admin((struct sqe_t){ .cdw0 = 0x00, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0x101);
    r = admin((struct sqe_t){ .cdw0 = 0x04, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0);
    /* Other admin commands. */
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x55 }).status, 0x001);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x7c, .prp1 = IDBUF, .prp2 = IDBUF + 0x1000 }).status,
                     0x001);                                       /* no DBBUF here */
    r = admin((struct sqe_t){ .cdw0 = 0x09, .cdw = { 0x07, 0x00070007 } });   /* queues */
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.dw0, 0x00030003);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x09, .cdw = { 0x07, 0xffff } }).status, 0x002);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x09, .cdw = { 1u << 31 | 0x06, 1 } }).status,
                     0x10d);                                       /* not saveable */
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x0a, .cdw = { 0x42 } }).status, 0x002);
    r = admin((struct sqe_t){ .cdw0 = 0x0a, .cdw = { 0x04 } });
    ck_assert_uint_eq(r.dw0, 0x157);
    r = admin((struct sqe_t){ .cdw0 = 0x08, .cdw = { 1 } });       /* abort: not aborted */
    ck_assert_uint_eq(r.dw0 & 1, 1);
    /* Log pages: SMART counts the commands. */
    r = admin((struct sqe_t){ .cdw0 = 0x02, .prp1 = IDBUF, .cdw = { 0x02 | 127u << 16 } });
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(ram[IDBUF + 3], 100);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x02, .prp1 = IDBUF, .cdw = { 0x70 | 127u << 16 } })
                     .status, 0x109);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x02, .prp1 = IDBUF,
                                           .cdw = { 0x02 | 127u << 16, 0, 4096 } }).status, 0x002);
    /* Four event requests are held; the fifth is over the limit. */
    for (unsigned i = 0; i < 4; i++) {
        struct sqe_t aer = { .cdw0 = 0x0c };
        admin_submit(&aer);
    }
    r = admin((struct sqe_t){ .cdw0 = 0x0c });
    ck_assert_int_eq(r.status, 0x105);
    ck_assert_int_eq(identify(1, 0).status, 0);                    /* the queue still works */
}
END_TEST

START_TEST(msix_interrupts)
{
    enable(32);
    /* MSI-X on: table entry 1 at a recognisable address, unmasked. */
    int cap = -1;
    for (unsigned p = pci_cfg_read(pci, DEVFN, 0x34, 1); p; p = pci_cfg_read(pci, DEVFN, p + 1, 1))
        if (pci_cfg_read(pci, DEVFN, p, 1) == 0x11)
            cap = (int)p;
    ck_assert_int_ge(cap, 0);
    ck_assert_uint_eq((pci_cfg_read(pci, DEVFN, cap + 2, 2) & 0x7ff) + 1, 5);   /* 4 queues + admin */
    for (unsigned v = 0; v < 2; v++) {
        tbus_write(bus, BAR4 + 16 * v, 4, 0xfee00000u + v * 0x1000);
        tbus_write(bus, BAR4 + 16 * v + 4, 4, 0);
        tbus_write(bus, BAR4 + 16 * v + 8, 4, 0x40 + v);
        tbus_write(bus, BAR4 + 16 * v + 12, 4, 0);
    }
    pci_cfg_write(pci, DEVFN, cap + 2, 2, 0x8000);
    unsigned before = rec.nmsi;
    ck_assert_int_eq(identify(1, 0).status, 0);
    ck_assert_uint_ge(rec.nmsi, before + 1);                       /* admin: vector 0 */
    ck_assert_uint_eq(rec.msi_data[rec.nmsi - 1], 0x40);
    create_io_queues(16, true, 1);
    before = rec.nmsi;
    ck_assert_int_eq(io(rw(false, 1, 0, 8, DATA, 0)).status, 0);
    ck_assert_uint_ge(rec.nmsi, before + 1);
    ck_assert_uint_eq(rec.msi_data[rec.nmsi - 1], 0x41);
    ck_assert_uint_eq(rec.msi_addr[rec.nmsi - 1], 0xfee01000u);
    ck_assert_uint_eq(intx_raises, 0);                            /* never INTx meanwhile */
}
END_TEST

START_TEST(intx_level)
{
    enable(32);
    /* The admin CQ interrupts: INTx while an entry waits, low after the
     * head doorbell; masked by INTMS. */
    struct sqe_t c = { .cdw0 = 0x06, .prp1 = IDBUF, .cdw = { 1 } };
    admin_submit(&c);
    uint64_t end = now_ms() + 5000;
    while (!intx_level_now && now_ms() < end)
        usleep(100);
    ck_assert(intx_level_now);
    struct cqe_t r;
    ck_assert(poll_cq(ACQ, &acq_head, &acq_phase, 32, &r, 5000, 0x1004));
    end = now_ms() + 5000;
    while (intx_level_now && now_ms() < end)
        usleep(100);
    ck_assert(!intx_level_now);
    wr32(0x0c, 1);                                                 /* INTMS vector 0 */
    admin_submit(&c);
    usleep(50000);
    ck_assert(!intx_level_now);
    wr32(0x10, 1);
    end = now_ms() + 5000;
    while (!intx_level_now && now_ms() < end)
        usleep(100);
    ck_assert(intx_level_now);
    ck_assert(poll_cq(ACQ, &acq_head, &acq_phase, 32, &r, 5000, 0x1004));
    /* With the PCI command register's INTx disable, the line stays low. */
}
END_TEST

START_TEST(cq_full_backpressure)
{
    enable(32);
    /* A CQ of 2 entries holds one completion: the other commands wait in
     * the SQ until the head doorbell frees the slot. */
    iosq_size = 16;
    iocq_size = 2;
    memset(ram + IOSQ, 0, 0x2000);
    memset(ram + IOCQ, 0, 0x1000);
    iosq_tail = iocq_head = 0;
    iocq_phase = true;
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x05, .prp1 = IOCQ, .cdw = { 1u << 16 | 1, 1 } })
                     .status, 0);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x01, .prp1 = IOSQ,
                                           .cdw = { 15u << 16 | 1, 1u << 16 | 1 } }).status, 0);
    for (unsigned i = 0; i < 5; i++)
        io_submit(rw(false, 1, i, 1, DATA + i * 0x1000, 0), i == 4);
    usleep(100000);
    /* One entry written, the next slot still has the old phase. */
    uint32_t dw3;
    memcpy(&dw3, ram + IOCQ + 12, 4);
    ck_assert_uint_eq((dw3 >> 16) & 1, 1);
    memcpy(&dw3, ram + IOCQ + 16 + 12, 4);
    ck_assert_uint_eq((dw3 >> 16) & 1, 0);
    for (unsigned i = 0; i < 5; i++) {
        struct cqe_t r;
        ck_assert_msg(io_reap(&r, 5000), "completion %u", i);
        ck_assert_int_eq(r.status, 0);
    }
}
END_TEST

START_TEST(reset_with_io_in_flight)
{
    enable(32);
    create_io_queues(256, false, 0);
    for (unsigned i = 0; i < 200; i++)
        io_submit(rw(false, 1, (i * 64) % 16000, 64, DATA + (i % 32) * 0x8000,
                     DATA + 0x200000 + (i % 32) * 0x1000), false);
    for (unsigned i = 0; i < 32; i++)
        for (unsigned k = 0; k < 7; k++) {
            uint64_t e = DATA + (i % 32) * 0x8000 + (k + 1) * 0x1000;
            memcpy(ram + DATA + 0x200000 + i * 0x1000 + 8 * k, &e, 8);
        }
    wr32(0x1008, iosq_tail);
    wr32(0x14, 0);
    ck_assert(wait_csts(1, 0));
    /* Nothing is written into guest memory after RDY read 0: a canary. */
    memset(ram + DATA, 0xa5, 0x100000);
    usleep(50000);
    for (unsigned k = 0; k < 0x100000; k++)
        if (ram[DATA + k] != 0xa5)
            ck_abort_msg("guest memory written after the reset, at %#x", k);
    /* And it comes back. */
    next_cid = 1;
    enable(32);
    create_io_queues(16, false, 0);
    ck_assert_int_eq(io(rw(false, 1, 0, 8, DATA, 0)).status, 0);
}
END_TEST

START_TEST(delete_sq_waits_for_its_commands)
{
    enable(32);
    create_io_queues(64, false, 0);
    for (unsigned i = 0; i < 32; i++)
        io_submit(rw(false, 1, i * 8, 8, DATA + i * 0x1000, 0), i == 31);
    struct cqe_t r = admin((struct sqe_t){ .cdw0 = 0x00, .cdw = { 1 } });
    ck_assert_int_eq(r.status, 0);
    /* Every command had its completion (done, or aborted if it was not
     * taken yet) before the delete's. */
    unsigned seen = 0;
    while (io_reap(&r, 0)) {
        ck_assert_msg(r.status == 0 || r.status == 0x008, "status %#x", r.status);
        seen++;
    }
    ck_assert_uint_eq(seen, 32);
}
END_TEST

START_TEST(shutdown)
{
    enable(32);
    create_io_queues(16, false, 0);
    ck_assert_int_eq(io(rw(true, 1, 0, 8, DATA, 0)).status, 0);
    wr32(0x14, rd32(0x14) | 1u << 14);                             /* SHN normal */
    ck_assert(wait_csts(0xc, 0x8));                                /* SHST complete */
    wr32(0x14, 0);
    ck_assert(wait_csts(0xd, 0));
}
END_TEST

START_TEST(hostile_guest)
{
    enable(32);
    create_io_queues(64, false, 0);
    /* Random commands: every one is answered, nothing crashes. */
    srand(7);
    unsigned n = 0;
    for (unsigned round = 0; round < 20; round++) {
        for (unsigned i = 0; i < 50; i++) {
            struct sqe_t c;
            uint32_t *w = (uint32_t *)(void *)&c;
            for (unsigned k = 0; k < 16; k++)
                w[k] = (uint32_t)rand() * 2654435761u;
            c.cdw0 = (c.cdw0 & ~0xffu) | (rand() % 3 ? (unsigned)rand() % 3 : (unsigned)rand());
            c.nsid = 2;                                            /* the scratch namespace */
            if (rand() % 2)
                c.prp1 = DATA + ((uint64_t)rand() % 0x400000 & ~3ULL);
            io_submit(c, i == 49);
            n++;
        }
        struct cqe_t r;
        for (unsigned i = 0; i < 50; i++)
            ck_assert_msg(io_reap(&r, 5000), "round %u: completion %u missing", round, i);
    }
    /* Random register and doorbell writes, then a reset: it works again. */
    tbus_hammer(bus, IOBUS_MMIO, BAR0, NVME_BAR0_SIZE, 20000, 11);
    wr32(0x14, 0);
    ck_assert(wait_csts(1, 0));
    next_cid = 1;
    enable(32);
    create_io_queues(16, false, 0);
    uint8_t want[4096];
    file_read(0, 0, want, 4096);
    ck_assert_int_eq(io(rw(false, 1, 0, 8, DATA, 0)).status, 0);
    ck_assert(memcmp(ram + DATA, want, 4096) == 0);
}
END_TEST

START_TEST(bus_master_off)
{
    enable(32);
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    struct sqe_t c = { .cdw0 = 0x06, .prp1 = IDBUF, .cdw = { 1 } };
    admin_submit(&c);
    struct cqe_t r;
    ck_assert(!poll_cq(ACQ, &acq_head, &acq_phase, 32, &r, 100, 0x1004));
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    wr32(0x1000, asq_tail);
    ck_assert(poll_cq(ACQ, &acq_head, &acq_phase, 32, &r, 5000, 0x1004));
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(shadow_doorbells)
{
    enable(32);
    identify(1, 0);
    ck_assert_uint_eq(ram[IDBUF + 256] | ram[IDBUF + 257] << 8, 1u << 8);
    create_io_queues(64, false, 0);
    uint32_t *shadow = (uint32_t *)(void *)(ram + 0x30000);
    uint32_t *evidx = (uint32_t *)(void *)(ram + 0x31000);
    memset(shadow, 0, 8192);
    ck_assert_int_eq(admin((struct sqe_t){ .cdw0 = 0x7c, .prp1 = 0x30000, .prp2 = 0x31000 }).status, 0);
    ck_assert_uint_eq(atomic_load(&ioevt_assigned), 8);           /* 4 pairs */
    ck_assert_int_ge(ioevt_fd, 0);
    struct nvme_stats st0, st1;
    nvme_get_stats(ctrl, &st0);
    /* Commands announced through the shadow and the eventfd alone (what
     * KVM does with the doorbell write): no exit counted. */
    for (unsigned i = 0; i < 8; i++) {
        io_submit(rw(false, 1, i * 8, 8, DATA + i * 0x1000, 0), false);
        __atomic_store_n(&shadow[2], iosq_tail, __ATOMIC_RELEASE);
        uint64_t one = 1;
        ck_assert_int_eq(write(ioevt_fd, &one, 8), 8);
    }
    for (unsigned i = 0; i < 8; i++) {
        struct cqe_t r;
        uint64_t end = now_ms() + 5000;
        bool got = false;
        while (!got && now_ms() < end) {
            uint8_t *e = ram + IOCQ + (size_t)iocq_head * 16;
            uint32_t dw3 = __atomic_load_n((uint32_t *)(void *)(e + 12), __ATOMIC_ACQUIRE);
            if (((dw3 >> 16) & 1) == iocq_phase) {
                r.status = (int)((dw3 >> 17) & 0x7ff);
                got = true;
                if (++iocq_head == iocq_size) {
                    iocq_head = 0;
                    iocq_phase = !iocq_phase;
                }
                __atomic_store_n(&shadow[3], iocq_head, __ATOMIC_RELEASE);
            } else {
                usleep(50);
            }
        }
        ck_assert_msg(got, "completion %u", i);
        ck_assert_int_eq(r.status, 0);
    }
    nvme_get_stats(ctrl, &st1);
    ck_assert_uint_eq(st1.doorbell_exits, st0.doorbell_exits);
    ck_assert_uint_eq(evidx[2], iosq_tail);                        /* the controller's head */
    /* A reset takes the ioeventfds away. */
    wr32(0x14, 0);
    ck_assert(wait_csts(1, 0));
    ck_assert_uint_eq(atomic_load(&ioevt_assigned), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_nvme");
    TCase *tc = tcase_create("nvme");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, registers);
    tcase_add_test(tc, enable_disable_and_fatal);
    tcase_add_test(tc, identify_all);
    tcase_add_test(tc, read_write_prps);
    tcase_add_test(tc, io_errors);
    tcase_add_test(tc, flush_and_deallocate);
    tcase_add_test(tc, queue_admin_errors);
    tcase_add_test(tc, msix_interrupts);
    tcase_add_test(tc, intx_level);
    tcase_add_test(tc, cq_full_backpressure);
    tcase_add_test(tc, reset_with_io_in_flight);
    tcase_add_test(tc, delete_sq_waits_for_its_commands);
    tcase_add_test(tc, shutdown);
    tcase_add_test(tc, hostile_guest);
    tcase_add_test(tc, bus_master_off);
    suite_add_tcase(s, tc);
    TCase *ro = tcase_create("read-only");
    tcase_add_checked_fixture(ro, setup_ro, teardown);
    tcase_add_test(ro, read_only_namespace);
    suite_add_tcase(s, ro);
    TCase *io = tcase_create("shadow doorbells");
    tcase_add_checked_fixture(io, setup_ioevt, teardown);
    tcase_add_test(io, shadow_doorbells);
    suite_add_tcase(s, io);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

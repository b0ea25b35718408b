/* libFuzzer target for the NVMe controller's command parser and PRP walker
 * (hypervisor/vmm/dev/nvme.c), as a hostile guest drives it. The
 * controller runs in manual mode (no thread: nvme_run on this thread) on a
 * 1 MiB guest RAM of its own allocation (ASan sees any access outside it)
 * with one namespace over a 1 MiB file in /dev/shm. Per input: a reset, the
 * admin queue and one I/O queue pair set up as a driver does, then the
 * input: its first 4 KiB are guest RAM at 0x80000 (PRP lists, data, range
 * lists the commands point at), the rest 65-byte records, each a queue
 * choice (admin or I/O) and a 64-byte command put in that queue and rung;
 * every completion is consumed. Checks: no crash or sanitizer report, and
 * a reset and a sane enable always bring the controller back. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blkeng_backing.h"
#include "dev/dma.h"
#include "dev/nvme.h"
#include "dev/pci.h"
#include "iobus.h"

#define RAM_SIZE  (1u << 20)
#define ASQ       0x1000u
#define ACQ       0x2000u
#define IOSQ      0x3000u
#define IOCQ      0x5000u
#define IDBUF     0x6000u
#define SCRATCH   0x80000u
#define QSIZE     32u
#define DEVFN     PCI_DEVFN(4, 0)

static uint8_t *ram;
static struct dev_dma dma;
static struct iobus *bus;
static struct pci_bus *pci;
static struct nvme *ctrl;
static struct blkeng_backing back;
static unsigned asq_tail, acq_head, iosq_tail, iocq_head;
static bool acq_phase, iocq_phase;

static void *ram_map(void *o, uint64_t gpa, uint64_t len, bool write)
{
    (void)o;
    (void)write;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return ram + gpa;
}

static void wr32(uint64_t off, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    nvme_mmio(ctrl, off, b, 4, true);
}

static uint32_t rd32(uint64_t off)
{
    uint8_t b[4];
    nvme_mmio(ctrl, off, b, 4, false);
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void run(void)
{
    for (unsigned i = 0; i < 100000 && nvme_run(ctrl); i++)
        ;
}

/* Consumes every completion there is on one CQ. */
static unsigned reap(uint32_t base, unsigned *head, bool *phase, uint64_t db)
{
    unsigned n = 0;
    for (;;) {
        uint32_t dw3;
        memcpy(&dw3, ram + base + (size_t)*head * 16 + 12, 4);
        if (((dw3 >> 16) & 1) != *phase)
            break;
        if (++*head == QSIZE) {
            *head = 0;
            *phase = !*phase;
        }
        n++;
    }
    if (n)
        wr32(db, *head);
    return n;
}

static void submit(bool admin, const uint8_t cmd[64])
{
    uint32_t base = admin ? ASQ : IOSQ;
    unsigned *tail = admin ? &asq_tail : &iosq_tail;
    memcpy(ram + base + (size_t)*tail * 64, cmd, 64);
    *tail = (*tail + 1) % QSIZE;
    wr32(admin ? 0x1000 : 0x1008, *tail);
    run();
    reap(ACQ, &acq_head, &acq_phase, 0x1004);
    reap(IOCQ, &iocq_head, &iocq_phase, 0x100c);
}

static void cmd(uint8_t c[64], uint8_t opc, uint32_t nsid, uint64_t prp1, uint32_t cdw10,
                uint32_t cdw11)
{
    memset(c, 0, 64);
    c[0] = opc;
    memcpy(c + 4, &nsid, 4);
    memcpy(c + 24, &prp1, 8);
    memcpy(c + 40, &cdw10, 4);
    memcpy(c + 44, &cdw11, 4);
}

static void setup_once(void)
{
    ram = malloc(RAM_SIZE);
    dma = (struct dev_dma){ .map = ram_map, .ram = NULL, .ram_len = 0 };
    char path[64], err[256];
    snprintf(path, sizeof(path), "/dev/shm/tandem-nvme-fuzz-%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
        abort();
    close(fd);
    if (blkeng_backing_open(path, false, false, &back, err, sizeof(err)))
        abort();
    unlink(path);
    bus = iobus_new();
    pci = pci_bus_new(bus, NULL);
    struct nvme_config cfg = { .dma = &dma, .nr_ns = 1, .io_queues = 2, .name = "nvme-fuzz",
                               .manual = true };
    cfg.ns[0] = &back;
    snprintf(cfg.serial, sizeof(cfg.serial), "FUZZ");
    ctrl = nvme_create(pci, DEVFN, &cfg, err, sizeof(err));
    if (!ctrl)
        abort();
    pci_cfg_write(pci, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram)
        setup_once();
    /* Reset, then the queues as a driver sets them up. */
    wr32(0x14, 0);
    run();
    memset(ram, 0, RAM_SIZE);
    asq_tail = acq_head = iosq_tail = iocq_head = 0;
    acq_phase = iocq_phase = true;
    wr32(0x24, (QSIZE - 1) << 16 | (QSIZE - 1));
    wr32(0x28, ASQ);
    wr32(0x2c, 0);
    wr32(0x30, ACQ);
    wr32(0x34, 0);
    wr32(0x14, 1 | 6u << 16 | 4u << 20);
    run();
    if (!(rd32(0x1c) & 1))
        abort();                                     /* a sane enable must work */
    uint8_t c[64];
    cmd(c, 0x05, 0, IOCQ, (QSIZE - 1) << 16 | 1, 1);
    submit(true, c);
    cmd(c, 0x01, 0, IOSQ, (QSIZE - 1) << 16 | 1, 1u << 16 | 1);
    submit(true, c);
    /* The input: a count, that many 65-byte records, then guest RAM. */
    unsigned count = size ? data[0] % 32 : 0;
    size_t cmds = (size_t)count * 65;
    if (size < 1 + cmds)
        return 0;
    const uint8_t *rec = data + 1;
    size_t scratch = size - 1 - cmds < 4096 ? size - 1 - cmds : 4096;
    memcpy(ram + SCRATCH, rec + cmds, scratch);
    for (unsigned n = 0; n < count; n++, rec += 65)
        submit(rec[0] & 1, rec + 1);
    /* Still answering (unless the input reset it or broke its queues:
     * then the next input's reset must bring it back). */
    if ((rd32(0x1c) & 1) && !(rd32(0x1c) & 2)) {
        cmd(c, 0x06, 0, IDBUF, 1, 0);
        submit(true, c);
    }
    return 0;
}

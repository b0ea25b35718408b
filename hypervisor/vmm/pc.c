/*
 * The full-emulation platform (`--firmware`, docs/hvm.md "The PC"): an
 * ordinary PC for guests that know nothing of Tandem. This file wires the
 * device models of dev/ into one machine and owns what is between them
 * and KVM:
 *
 * - memory: RAM from 0 (at most PC_LOW_RAM_MAX: below the PCI hole; the
 *   rest from 4 GiB), the
 *   firmware ROM at the top of the first 4 GiB (a read-only memory slot)
 *   and its last 128 KiB seen at 0xe0000 too; 0xc0000-0xfffff as the
 *   i440FX's PAM registers say (ROM, RAM read-only, RAM; "PAM" below);
 * - interrupts: ISA IRQ n goes to the i8259 pair's input n and to the
 *   IOAPIC's GSI n (IRQ 0 to GSI 2, as the MADT of a PC says); the PICs'
 *   INTR reaches vCPU 0 by KVM_INTERRUPT (ExtINT: the LAPIC is KVM's,
 *   split irqchip) when KVM says the vCPU can take it; the IOAPIC and PCI
 *   MSIs go to KVM_SIGNAL_MSI;
 * - time: the PIT's counter 0 runs on a timerfd in the main loop;
 * - the UART on COM1 is the domain's console (output and input);
 * - port 0x402, SeaBIOS's debug output under QEMU, goes to the VMM's log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "dev/fw_cfg.h"
#include "dev/platform_devs.h"
#include "dev/dma.h"
#include "dev/e1000.h"
#include "dev/i8042.h"
#include "dev/ioapic.h"
#include "dev/pci.h"
#include "dev/nvme.h"
#include "dev/pci_host.h"
#include "dev/pic.h"
#include "dev/pit.h"
#include "dev/rtc.h"
#include "dev/uart.h"
#include "guest_mem.h"
#include "mapfile.h"
#include "neteng_tap.h"
#include "pc.h"
#include "vmm.h"

#define ISA_IRQS       16
#define LOW_BIOS_BASE  0xe0000ULL
#define LOW_BIOS_SIZE  0x20000ULL
#define ROM_SLOT       1
#define SERCON_PORT    0x3f8
#define NVME_DEVFN     PCI_DEVFN(4, 0)
#define CMOS_BOOTFLAG1 0x38           /* SeaBIOS on QEMU: bit 0 no floppy signature check, 7:4 third device */
#define CMOS_BOOTFLAG2 0x3d           /* first (3:0) and second (7:4) boot device: 1 fd, 2 hd, 3 cd, 4 net */

#define FWLOG_PORT     0x402          /* SeaBIOS's debug output on QEMU (isa-debugcon) */
#define FWLOG_LINE     200
#define FWLOG_READBACK 0xe9

struct pc {
    struct vm *vm;
    pthread_mutex_t fwlog_lock;
    char fwlog[FWLOG_LINE + 1];
    size_t fwlog_len;
    struct pic *pic;
    struct ioapic *ioapic;
    struct pit *pit;
    struct rtc *rtc;
    struct uart *com1;
    struct i8042 *kbd;
    struct fw_cfg *fw;
    struct pci_bus *pci;
    struct i440fx *host;
    struct piix3 *isa;
    struct nvme *nvme;
    struct e1000 *nic[VMM_MAX_NICS];
    int nic_fd[VMM_MAX_NICS];
    struct dev_dma dma;
    struct irq_line isa_irq[ISA_IRQS];
    struct loop_handler pit_h, rtc_h;
    atomic_bool intr;              /* the PICs' INTR output */
    /* The IOAPIC pins' messages as KVM's GSI routes 0-23 (pc_irq_routes):
     * KVM exits with KVM_EXIT_IOAPIC_EOI only for the vectors it finds
     * there. Under route_lock (taken inside the IOAPIC's lock). */
    pthread_mutex_t route_lock;
    struct { uint64_t addr; uint32_t data; bool live; } pin_route[IOAPIC_PINS];
    uint64_t com1_dropped;         /* bytes the console pty could not take (UART lock held) */
    _Atomic uint8_t pam[PAM_SEGMENTS];   /* enum pam_mode of each segment, as mapped */
    bool pam_obeyed;               /* KVM has read-only memory: the segments follow PAM */
    bool pam_slot[PAM_SEGMENTS];   /* the segment has a slot now (KVM refuses to delete none) */
};

int pc_firmware_open(const char *path, struct pc_firmware *fw, char *err, size_t errlen)
{
    struct mapped_file f;
    memset(fw, 0, sizeof(*fw));
    if (mapped_file_open(path, "firmware", PC_ROM_MIN, PC_ROM_MAX, PC_ROM_MIN, &f, err, errlen))
        return -1;
    fw->data = f.data;
    fw->size = f.len;
    return 0;
}

void pc_firmware_close(struct pc_firmware *fw)
{
    struct mapped_file f = { fw->data, fw->size };
    mapped_file_close(&f);
    fw->data = NULL;
}

int pc_disks_open(const struct vmm_config *cfg, struct pc_disks *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        char why[256];
        if (blkeng_backing_open(cfg->disks[i].path, cfg->disks[i].readonly, true, &d->b[i], why,
                                sizeof(why)) < 0) {
            snprintf(err, errlen, "--disk %s: %s", cfg->disks[i].path, why);
            pc_disks_close(d);
            return -1;
        }
        d->n++;
        if (!d->b[i].sectors) {
            snprintf(err, errlen, "--disk %s: smaller than one 512-byte sector",
                     cfg->disks[i].path);
            pc_disks_close(d);
            return -1;
        }
    }
    return 0;
}

void pc_disks_close(struct pc_disks *d)
{
    for (unsigned i = 0; i < d->n; i++)
        blkeng_backing_close(&d->b[i]);
    d->n = 0;
}

/* The ROM at 4 GiB - size, read-only where KVM can (writes then exit as
 * MMIO and are dropped, as a ROM ignores them), and its top 128 KiB in
 * RAM at 0xe0000 (the reset vector's code reaches it by far jumps). */
int pc_map_firmware(struct vm *vm, const struct pc_firmware *fw)
{
    struct kvm_userspace_memory_region r = {
        .slot = ROM_SLOT,
        .flags = vm->readonly_mem ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = (1ULL << 32) - fw->size,
        .memory_size = fw->size,
        .userspace_addr = (uint64_t)(uintptr_t)fw->data,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        fprintf(stderr, "tandem-vmm: mapping the firmware: %s\n", strerror(errno));
        return -1;
    }
    /* Also in the RAM under it, for a KVM without read-only memory, where
     * that RAM is all the guest sees there (see PAM below). */
    size_t low = fw->size < LOW_BIOS_SIZE ? fw->size : LOW_BIOS_SIZE;
    memcpy(vm->mem + LOW_BIOS_BASE + LOW_BIOS_SIZE - low, fw->data + fw->size - low, low);
    vm->pc_rom = fw->data;
    vm->pc_rom_size = fw->size;
    return 0;
}

/* ---- PAM: 0xc0000-0xfffff ----
 *
 * Each of the 13 segments (dev/pci_host.h) is one memory slot, mapped as
 * its PAM mode says, as on the i440FX (and QEMU): "PCI" (mode 0, at
 * reset) shows what the PCI side has there, the firmware ROM's last
 * 128 KiB at 0xe0000-0xfffff (its legacy alias) and nothing below; mode 1
 * RAM read-only; mode 2 the PCI side for reads, RAM for writes; mode 3
 * RAM. SeaBIOS starts from the ROM, makes the segments RAM (0x33 and
 * 0x30), copies itself from the ROM at 4 GiB into that RAM, and at the end
 * write-protects it (0x11, 0x10), so that no boot loader or OS can write
 * over the BIOS. Read-only slots (KVM_MEM_READONLY) make writes exit as
 * MMIO, to pam_io, which puts them in RAM in mode 2 and drops them
 * otherwise; where no slot is (no ROM byte), reads exit too and see
 * 0xff, as an empty bus. A KVM without read-only memory keeps the whole
 * range RAM, read and written (what this VMM did before; said once).
 * Under the PCI bus's configuration lock (the i440FX's callback), or
 * before any vCPU runs. */
static const uint8_t *pam_rom(const struct vm *vm, uint32_t base, uint32_t size)
{
    uint64_t alias = LOW_BIOS_BASE + LOW_BIOS_SIZE - (vm->pc_rom_size < LOW_BIOS_SIZE
                                                      ? vm->pc_rom_size : LOW_BIOS_SIZE);
    if (!vm->pc_rom || base < alias || base + size > LOW_BIOS_BASE + LOW_BIOS_SIZE)
        return NULL;
    return vm->pc_rom + vm->pc_rom_size - (LOW_BIOS_BASE + LOW_BIOS_SIZE - base);
}

static int pam_map(struct pc *pc, unsigned seg, enum pam_mode m)
{
    struct vm *vm = pc->vm;
    uint32_t base, size;
    i440fx_pam_segment(seg, &base, &size);
    const void *host = m == PAM_READ_WRITE || m == PAM_READ_ONLY ? vm->mem + base
                                                                  : pam_rom(vm, base, size);
    atomic_store(&pc->pam[seg], (uint8_t)m);   /* what pam_io follows while no slot is there */
    /* A slot's flags and memory cannot change: it goes, and comes back. */
    struct kvm_userspace_memory_region r = { .slot = PC_PAM_SLOT0 + seg, .guest_phys_addr = base };
    if (pc->pam_slot[seg] && ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        goto fail;
    pc->pam_slot[seg] = false;
    if (!host)
        return 0;
    r.memory_size = size;
    r.userspace_addr = (uint64_t)(uintptr_t)host;
    r.flags = m == PAM_READ_WRITE ? 0 : KVM_MEM_READONLY;
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        goto fail;
    pc->pam_slot[seg] = true;
    return 0;
fail:
    fprintf(stderr, "tandem-vmm: PAM segment %#x-%#x: KVM_SET_USER_MEMORY_REGION: %s\n", base,
            base + size - 1, strerror(errno));
    return -1;
}

static void pam_changed(void *opaque, unsigned int seg, uint32_t base, uint32_t size,
                        enum pam_mode mode)
{
    (void)base;
    (void)size;
    struct pc *pc = opaque;
    if (pc->pam_obeyed && pam_map(pc, seg, mode) < 0)
        vm_stop(pc->vm, TANDEM_EXIT_ERROR, "cannot map a PAM segment");
}

/* An access no slot took: a write to a read-only segment (or any access
 * while a segment is being remapped, or to one with nothing mapped). */
static void pam_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    (void)v;
    struct pc *pc = opaque;
    for (uint32_t i = 0; i < len; i++) {
        uint64_t gpa = PC_PAM_BASE + off + i;
        int seg = i440fx_pam_segment_at(gpa);
        if (seg < 0) {
            if (!is_write)
                data[i] = 0xff;
            continue;
        }
        enum pam_mode m = atomic_load(&pc->pam[seg]);
        bool ram = is_write ? m == PAM_WRITE_ONLY || m == PAM_READ_WRITE
                            : m == PAM_READ_ONLY || m == PAM_READ_WRITE;
        if (ram && is_write) {
            pc->vm->mem[gpa] = data[i];
        } else if (ram) {
            data[i] = pc->vm->mem[gpa];
        } else if (!is_write) {
            const uint8_t *rom = pam_rom(pc->vm, (uint32_t)gpa, 1);
            data[i] = rom ? *rom : 0xff;
        }   /* a write to the PCI side: no device takes it */
    }
}

/* At reset every segment is mode 0: the firmware runs from its ROM. */
static int pam_init(struct pc *pc)
{
    struct vm *vm = pc->vm;
    if (dev_register(vm, IOBUS_MMIO, PC_PAM_BASE, PC_PAM_END - PC_PAM_BASE, pam_io, pc, "pam"))
        return -1;
    if (!vm->readonly_mem) {
        fprintf(stderr, "tandem-vmm: KVM has no read-only memory: 0xc0000-0xfffff stays RAM, "
                "whatever the PAM registers say\n");
        for (unsigned seg = 0; seg < PAM_SEGMENTS; seg++)
            atomic_store(&pc->pam[seg], PAM_READ_WRITE);
        return 0;
    }
    /* The one slot kvm_vm.c made for the range goes; each segment gets its own. */
    struct kvm_userspace_memory_region r = { .slot = PC_PAM_SLOT0, .guest_phys_addr = PC_PAM_BASE };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        fprintf(stderr, "tandem-vmm: PAM: KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno));
        return -1;
    }
    pc->pam_obeyed = true;
    for (unsigned seg = 0; seg < PAM_SEGMENTS; seg++)
        if (pam_map(pc, seg, i440fx_pam_mode(pc->host, seg)) < 0)
            return -1;
    return 0;
}

/* ---- interrupts ---- */

static void isa_irq_set(void *opaque, unsigned int irq, bool level)
{
    struct pc *pc = opaque;
    pic_set_irq(pc->pic, irq, level);
    ioapic_set_irq(pc->ioapic, irq == 0 ? 2 : irq, level);
}

/* Called with the PIC's lock held: only note the level and make vCPU 0
 * look (unless it is vCPU 0 that is in the PIC now: it looks before it
 * enters the guest again). */
static void pic_intr_set(void *opaque, unsigned int line, bool level)
{
    (void)line;
    struct pc *pc = opaque;
    bool was = atomic_exchange(&pc->intr, level);
    struct vcpu *bsp = &pc->vm->vcpus[0];
    if (level && !was && bsp->thread_started && !pthread_equal(pthread_self(), bsp->thread))
        vcpu_kick(bsp);
}

/* A pin's redirection entry changed (the IOAPIC's lock held): keep it and
 * rebuild KVM's routing table with the VM's lock (vm->lock is never held
 * while calling into the IOAPIC). */
static void ioapic_route_changed(void *opaque, unsigned int pin, uint64_t addr, uint32_t data,
                                 bool masked)
{
    struct pc *pc = opaque;
    if (pin >= IOAPIC_PINS)
        return;
    pthread_mutex_lock(&pc->route_lock);
    bool was = pc->pin_route[pin].live;
    bool same = was && !masked && pc->pin_route[pin].addr == addr && pc->pin_route[pin].data == data;
    pc->pin_route[pin].addr = addr;
    pc->pin_route[pin].data = data;
    pc->pin_route[pin].live = !masked;
    pthread_mutex_unlock(&pc->route_lock);
    if (same || (!was && masked))
        return;
    pthread_mutex_lock(&pc->vm->lock);
    evtchn_irq_routes_update(pc->vm);
    pthread_mutex_unlock(&pc->vm->lock);
}

unsigned pc_irq_routes(struct vm *vm, struct kvm_irq_routing_entry *e, unsigned max)
{
    struct pc *pc = vm->pc;
    unsigned n = 0;
    if (!pc)
        return 0;
    pthread_mutex_lock(&pc->route_lock);
    for (unsigned pin = 0; pin < IOAPIC_PINS && n < max; pin++) {
        if (!pc->pin_route[pin].live)
            continue;
        e[n] = (struct kvm_irq_routing_entry){ .gsi = pin, .type = KVM_IRQ_ROUTING_MSI };
        e[n].u.msi.address_lo = (uint32_t)pc->pin_route[pin].addr;
        e[n].u.msi.address_hi = (uint32_t)(pc->pin_route[pin].addr >> 32);
        e[n].u.msi.data = pc->pin_route[pin].data;
        n++;
    }
    pthread_mutex_unlock(&pc->route_lock);
    return n;
}

void pc_ioapic_eoi(struct vm *vm, uint8_t vector)
{
    if (vm->pc)
        ioapic_eoi(vm->pc->ioapic, vector);
}

static int msi_to_kvm(void *opaque, uint64_t addr, uint32_t data)
{
    struct pc *pc = opaque;
    struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
                           .data = data };
    return ioctl(pc->vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

void pc_before_run(struct vcpu *v)
{
    struct pc *pc = v->vm->pc;
    if (!pc || v->id != 0)
        return;
    struct kvm_run *run = v->run;
    if (!atomic_load(&pc->intr) || !pic_intr(pc->pic)) {
        run->request_interrupt_window = 0;
        return;
    }
    if (run->ready_for_interrupt_injection && run->if_flag) {
        int vec = pic_ack(pc->pic);
        if (vec >= 0) {
            struct kvm_interrupt irq = { .irq = (uint32_t)vec };
            if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0 && errno != EEXIST)
                fprintf(stderr, "tandem-vmm: KVM_INTERRUPT %#x: %s\n", vec, strerror(errno));
        }
        run->request_interrupt_window = pic_intr(pc->pic);
    } else {
        run->request_interrupt_window = 1;   /* KVM exits when it can take one */
    }
}

/* ---- the PIT on the main loop's timerfd ---- */

static void pit_arm(struct pc *pc)
{
    uint64_t at = pit_next_event_ns(pc->pit);
    struct itimerspec its = { 0 };
    if (at != PIT_NO_EVENT) {
        its.it_value.tv_sec = (time_t)(at / 1000000000ULL);
        its.it_value.tv_nsec = (long)(at % 1000000000ULL);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    timerfd_settime(pc->pit_h.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_pit_timer(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    struct pc *pc = vm->pc;
    uint64_t n;
    if (read(h->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pit_tick(pc->pit);
    pit_arm(pc);
}

static void pit_changed(void *opaque)
{
    pit_arm(opaque);
}

/* ---- the RTC's periodic, alarm and update interrupts on a timerfd ---- */

static void rtc_arm(struct pc *pc)
{
    int64_t ns = rtc_poll(pc->rtc);
    struct itimerspec its = { 0 };
    if (ns >= 0) {
        if (ns == 0)
            ns = 1;
        its.it_value.tv_sec = (time_t)(ns / 1000000000LL);
        its.it_value.tv_nsec = (long)(ns % 1000000000LL);
    }
    timerfd_settime(pc->rtc_h.fd, 0, &its, NULL);
}

static void on_rtc_timer(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    uint64_t n;
    if (read(h->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    rtc_arm(vm->pc);
}

static void rtc_changed(void *opaque)
{
    rtc_arm(opaque);
}

/* ---- the rest of the machine ---- */

/* To stdout or a file, COM1 waits for the destination (`tandem run` reads
 * it). To a pty it never waits: with nobody attached the pty fills, and a
 * guest must not stop on its serial port for that (QEMU's pty drops too);
 * the pty keeps what fits for whoever attaches, the rest is dropped and
 * counted. */
static void com1_tx(void *opaque, uint8_t byte)
{
    struct pc *pc = opaque;
    if (pc->vm->cfg->console != CONSOLE_PTY) {
        console_write(pc->vm, &byte, 1);
        return;
    }
    if (!console_write_nowait(pc->vm, &byte, 1) && pc->com1_dropped++ == 0)
        fprintf(stderr, "tandem-vmm: COM1: the console pty is full (nobody reads it): "
                "output dropped until it drains\n");
}

static void com1_rx_room(void *opaque)
{
    struct pc *pc = opaque;
    console_input_room(pc->vm);
}

static size_t com1_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct pc *pc = opaque;
    return uart_push_input(pc->com1, buf, len);
}

static size_t com1_room(void *opaque)
{
    struct pc *pc = opaque;
    return uart_rx_room(pc->com1);
}

static void kbd_reset(void *opaque)
{
    struct pc *pc = opaque;
    vm_guest_shutdown(pc->vm, 1 /* SHUTDOWN_reboot */);
}

/* Port 0xcf9 (the PIIX3's reset control): a reset is a reboot, hard or soft. */
static void pci_reset(void *opaque, bool hard)
{
    (void)hard;
    kbd_reset(opaque);
}

static int dma_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct pc *pc = opaque;
    void *p = gpa_to_host(pc->vm, gpa, len, false);
    if (!p)
        return -1;
    memcpy(buf, p, len);
    return 0;
}

static int dma_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct pc *pc = opaque;
    void *p = gpa_to_host(pc->vm, gpa, len, true);
    if (!p)
        return -1;
    memcpy(p, buf, len);
    return 0;
}

static void *dma_map_ram(void *opaque, uint64_t gpa, uint64_t len, bool write)
{
    struct pc *pc = opaque;
    return gpa_to_host(pc->vm, gpa, len, write);
}

/* A KVM ioeventfd on a 4-byte MMIO doorbell, any value written. */
static int mmio_ioeventfd(void *opaque, uint64_t gpa, int fd, bool assign)
{
    struct pc *pc = opaque;
    struct kvm_ioeventfd io = { .addr = gpa, .len = 4, .fd = fd,
                                .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };
    return ioctl(pc->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -1 : 0;
}

static int add_disks(struct pc *pc, const struct pc_disks *disks)
{
    if (!disks || !disks->n)
        return 0;
    struct vm *vm = pc->vm;
    struct nvme_config nc = { .dma = &pc->dma, .nr_ns = disks->n, .name = "nvme0",
                              .io_queues = vm->nr_vcpus < 4 ? 4 : vm->nr_vcpus,
                              .ioeventfd = mmio_ioeventfd, .ioeventfd_opaque = pc };
    if (nc.io_queues > NVME_MAX_IO_QUEUES)
        nc.io_queues = NVME_MAX_IO_QUEUES;
    for (unsigned i = 0; i < disks->n; i++)
        nc.ns[i] = &disks->b[i];
    snprintf(nc.serial, sizeof(nc.serial), "TANDEM-%u", vm->cfg->domid);
    char err[256];
    pc->nvme = nvme_create(pc->pci, NVME_DEVFN, &nc, err, sizeof(err));
    if (!pc->nvme) {
        fprintf(stderr, "tandem-vmm: pc: %s\n", err);
        return -1;
    }
    /* Boot from the disk first (SeaBIOS reads QEMU's CMOS boot flags),
     * with no floppy signature check. */
    rtc_nvram_set(pc->rtc, CMOS_BOOTFLAG2, 0x02);
    rtc_nvram_set(pc->rtc, CMOS_BOOTFLAG1, 0x01);
    return 0;
}

/* The NICs: e1000s in slots 3, 5, 6, 7 on taps the VMM creates (and
 * attaches to their bridge): the tap goes when the VMM does. */
static int add_nics(struct pc *pc)
{
    const struct vmm_config *cfg = pc->vm->cfg;
    static const unsigned slots[VMM_MAX_NICS] = { 3, 5, 6, 7 };
    for (unsigned i = 0; i < cfg->nr_nics; i++) {
        const struct vmm_nic *n = &cfg->nics[i];
        char err[256], name[48];
        pc->nic_fd[i] = neteng_tap_open(n->tap, err, sizeof(err));
        if (pc->nic_fd[i] < 0 ||
            neteng_tap_up(n->tap, n->bridge[0] ? n->bridge : NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "tandem-vmm: pc: NIC %u: tap %s: %s\n", i, n->tap, err);
            return -1;
        }
        snprintf(name, sizeof(name), "e1000 00:%02x.0 (%s)", slots[i], n->tap);
        struct e1000_config ec = { .tap_fd = pc->nic_fd[i], .dma = &pc->dma, .name = name };
        memcpy(ec.mac, n->mac, 6);
        pc->nic[i] = e1000_create(pc->pci, PCI_DEVFN(slots[i], 0), &ec, err, sizeof(err));
        if (!pc->nic[i]) {
            fprintf(stderr, "tandem-vmm: pc: NIC %u: %s\n", i, err);
            return -1;
        }
    }
    return 0;
}

/* The firmware's debug port: its lines go to the VMM's log (stderr),
 * each prefixed, control characters shown as '?', long lines cut. */
static void fwlog_flush(struct pc *pc)
{
    fprintf(stderr, "tandem-vmm: firmware: %.*s\n", (int)pc->fwlog_len, pc->fwlog);
    pc->fwlog_len = 0;
}

static void fwlog_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                     bool is_write)
{
    struct pc *pc = opaque;
    (void)v;
    (void)off;
    if (!is_write) {   /* QEMU's debugcon reads back 0xe9: SeaBIOS writes only if it does */
        memset(data, FWLOG_READBACK, len);
        return;
    }
    pthread_mutex_lock(&pc->fwlog_lock);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\n') {
            fwlog_flush(pc);
            continue;
        }
        if (c == '\r')
            continue;
        if (pc->fwlog_len == FWLOG_LINE)
            fwlog_flush(pc);
        pc->fwlog[pc->fwlog_len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    pthread_mutex_unlock(&pc->fwlog_lock);
}

/* What SeaBIOS reads from fw_cfg: the PC items, the RAM map, and the
 * serial port its console (sercon) mirrors the screen to: there is no
 * VGA, so COM1 is the screen. */
static int fill_fw_cfg(struct pc *pc)
{
    struct vm *vm = pc->vm;
    struct fw_cfg_e820 ram[2] = { { .addr = 0, .len = vm->ram_low, .type = 1 },
                                  { .addr = PC_HIGH_RAM_GPA, .len = vm->ram_size - vm->ram_low,
                                    .type = 1 } };
    uint8_t sercon[2] = { SERCON_PORT & 0xff, SERCON_PORT >> 8 };
    if (fw_cfg_add_pc_items(pc->fw, vm->nr_vcpus, vm->nr_vcpus, vm->ram_size) ||
        fw_cfg_add_e820(pc->fw, ram, vm->ram_size > vm->ram_low ? 2 : 1) ||
        (vm->cfg->boot_menu && fw_cfg_add_u16(pc->fw, FW_CFG_BOOT_MENU, 1)) ||
        fw_cfg_add_file(pc->fw, "etc/sercon-port", sercon, sizeof(sercon), false) < 0)
        return -1;
    return 0;
}

#define FAIL_IF(cond, what) \
    do { \
        if (cond) { \
            fprintf(stderr, "tandem-vmm: pc: %s: %s\n", what, strerror(errno)); \
            return -1; \
        } \
    } while (0)

static int build_devices(struct vm *vm, const struct pc_disks *disks)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    FAIL_IF(!pc, "memory");
    pc->vm = vm;
    pc->pit_h.fd = pc->rtc_h.fd = -1;
    for (unsigned i = 0; i < VMM_MAX_NICS; i++)
        pc->nic_fd[i] = -1;
    pthread_mutex_init(&pc->fwlog_lock, NULL);
    pthread_mutex_init(&pc->route_lock, NULL);
    vm->pc = pc;
    if (dev_register(vm, IOBUS_PIO, FWLOG_PORT, 1, fwlog_io, pc, "firmware-log"))
        return -1;
    for (unsigned int i = 0; i < ISA_IRQS; i++)
        pc->isa_irq[i] = (struct irq_line){ isa_irq_set, pc, i };
    struct irq_line intr = { pic_intr_set, pc, 0 };
    struct msi_sink msi = { msi_to_kvm, pc };
    pc->pic = pic_create(vm->bus, &intr);
    FAIL_IF(!pc->pic, "the i8259 pair");
    struct ioapic_route_fn routes = { ioapic_route_changed, pc };
    pc->ioapic = ioapic_create(vm->bus, &msi, &routes);
    FAIL_IF(!pc->ioapic, "the IOAPIC");
    struct pit_changed_fn changed = { pit_changed, pc };
    pc->pit = pit_create(vm->bus, &pc->isa_irq[0], NULL, &changed);
    FAIL_IF(!pc->pit, "the PIT");
    pc->rtc = rtc_create(vm->bus, &pc->isa_irq[8], NULL);
    FAIL_IF(!pc->rtc, "the RTC");
    rtc_set_memory(pc->rtc, vm->ram_low, vm->ram_size - vm->ram_low);
    rtc_set_cpus(pc->rtc, vm->nr_vcpus);
    struct uart_ops uops = { com1_tx, com1_rx_room, pc };
    pc->com1 = uart_create(vm->bus, UART_COM1_BASE, &pc->isa_irq[4], &uops);
    FAIL_IF(!pc->com1, "COM1");
    struct i8042_ops kops = { kbd_reset, NULL, pc };
    pc->kbd = i8042_create(vm->bus, &pc->isa_irq[1], &kops);
    FAIL_IF(!pc->kbd, "the i8042");
    struct fw_cfg_dma_ops dops = { dma_read, dma_write, pc };
    pc->fw = fw_cfg_create(vm->bus, &dops);
    FAIL_IF(!pc->fw || fill_fw_cfg(pc), "fw_cfg");
    pc->pci = pci_bus_new(vm->bus, &msi);
    FAIL_IF(!pc->pci, "the PCI bus");
    struct i440fx_fn hfn = { .pam_changed = pam_changed, .opaque = pc };
    pc->host = i440fx_create(pc->pci, &hfn);
    FAIL_IF(!pc->host, "the i440FX");
    FAIL_IF(pam_init(pc), "the PAM segments");
    pc->isa = piix3_create(pc->pci, &pc->isa_irq[0]);
    FAIL_IF(!pc->isa, "the PIIX3");
    pci_bus_set_reset(pc->pci, pci_reset, pc);
    pc->dma = (struct dev_dma){ dma_map_ram, pc, vm->mem, vm->ram_size };
    if (add_disks(pc, disks) || add_nics(pc))
        return -1;
    struct console_input in = { com1_input, com1_room, pc };
    console_set_input(vm, &in);
    pc->pit_h = (struct loop_handler){ on_pit_timer,
                                       timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                       pc };
    FAIL_IF(pc->pit_h.fd < 0 || loop_add(&pc->pit_h, EPOLLIN), "the PIT's timer");
    pit_arm(pc);
    pc->rtc_h = (struct loop_handler){ on_rtc_timer,
                                       timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                       pc };
    FAIL_IF(pc->rtc_h.fd < 0 || loop_add(&pc->rtc_h, EPOLLIN), "the RTC's timer");
    rtc_set_changed(pc->rtc, rtc_changed, pc);
    rtc_arm(pc);
    return 0;
}

int pc_direct_boot(struct vm *vm, struct pc_kernel *k)
{
    if (vm->cfg->firmware)
        return pc_kernel_fw_cfg(k, vm->pc->fw);
    return pc_kernel_load(vm, k, vm->pc->pci);
}

/* A step that fails undoes its own part (main.c): the models made so far
 * unregister and go. */
int pc_devices_init(struct vm *vm, const struct pc_disks *disks)
{
    if (build_devices(vm, disks) == 0)
        return 0;
    pc_devices_close(vm);
    return -1;
}

/* After the vCPU threads have ended; before the bus goes. */
void pc_devices_close(struct vm *vm)
{
    struct pc *pc = vm->pc;
    if (!pc)
        return;
    if (pc->pit_h.fd >= 0) {
        loop_del(&pc->pit_h);
        close(pc->pit_h.fd);
    }
    if (pc->rtc_h.fd >= 0) {
        if (pc->rtc)
            rtc_set_changed(pc->rtc, NULL, NULL);
        loop_del(&pc->rtc_h);
        close(pc->rtc_h.fd);
    }
    if (pc->nvme) {
        struct nvme_stats st;
        nvme_get_stats(pc->nvme, &st);
        fprintf(stderr, "tandem-vmm: nvme0: %llu commands (%llu admin), %llu reads, %llu writes, "
                "%llu flushes, %llu errors; %llu doorbell exits, %llu interrupts\n",
                (unsigned long long)st.commands, (unsigned long long)st.admin,
                (unsigned long long)st.reads, (unsigned long long)st.writes,
                (unsigned long long)st.flushes, (unsigned long long)st.errors,
                (unsigned long long)st.doorbell_exits, (unsigned long long)st.interrupts);
        nvme_destroy(pc->nvme);
    }
    for (unsigned i = 0; i < VMM_MAX_NICS; i++) {
        if (pc->nic[i]) {
            struct e1000_stats st;
            e1000_get_stats(pc->nic[i], &st);
            fprintf(stderr, "tandem-vmm: e1000 %u: tx %llu frames %llu bytes (%llu dropped, %llu "
                    "tap errors), rx %llu frames %llu bytes (%llu filtered, %llu dropped)\n", i,
                    (unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes,
                    (unsigned long long)st.tx_dropped, (unsigned long long)st.tx_tap_errors,
                    (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
                    (unsigned long long)st.rx_filtered, (unsigned long long)st.rx_dropped);
            e1000_destroy(pc->nic[i]);
        }
        if (pc->nic_fd[i] >= 0)
            close(pc->nic_fd[i]);
    }
    piix3_destroy(pc->isa);
    i440fx_destroy(pc->host);
    pci_bus_free(pc->pci);
    fw_cfg_destroy(pc->fw);
    i8042_destroy(pc->kbd);
    uart_destroy(pc->com1);
    rtc_destroy(pc->rtc);
    pit_destroy(pc->pit);
    ioapic_destroy(pc->ioapic);
    pic_destroy(pc->pic);
    if (pc->com1_dropped)
        fprintf(stderr, "tandem-vmm: COM1: %llu bytes dropped (the console pty was full)\n",
                (unsigned long long)pc->com1_dropped);
    if (pc->fwlog_len)
        fwlog_flush(pc);
    free(pc);
    vm->pc = NULL;
}

/*
 * vCPUs: creation (CPUID, TSC), initial register state, one thread each
 * running KVM_RUN, and the exit handler. A guest failure (triple fault,
 * emulation failure, unknown exit) prints the registers and stops the VM
 * with status 7; it never hangs.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "iobus.h"
#include "pc.h"
#include "vmm.h"

#define MSR_IA32_TSC 0x10
#define CPUID_MAX_ENTRIES 256

static int set_cpuid(struct vcpu *v)
{
    struct {
        struct kvm_cpuid2 h;
        struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
    } c;
    memset(&c, 0, sizeof(c));
    c.h.nent = CPUID_MAX_ENTRIES;
    if (ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &c) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
        return -1;
    }
    for (unsigned int i = 0; i < c.h.nent; i++) {
        struct kvm_cpuid_entry2 *e = &c.e[i];
        if (e->function == 1) {
            e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)v->id << 24); /* APIC id */
            e->ecx |= 1u << 31;                                       /* hypervisor */
        } else if (e->function == 0xb || e->function == 0x1f) {
            e->edx = (uint32_t)v->id; /* x2APIC id */
        }
    }
    if (v->vm->xen_hvm && xen_hvm_cpuid(v->vm, c.e, &c.h.nent, CPUID_MAX_ENTRIES, (uint32_t)v->id)) {
        fprintf(stderr, "tandem-vmm: too many CPUID entries for Xen's leaves\n");
        return -1;
    }
    if (ioctl(v->fd, KVM_SET_CPUID2, &c) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_SET_CPUID2: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Guest TSC = host TSC, so that native rdtsc (PVM) and emulated rdtsc agree
 * and the VMM can sample the guest's clock with its own rdtsc. */
static void zero_tsc_offset(struct vcpu *v)
{
#ifdef KVM_VCPU_TSC_CTRL
    uint64_t zero = 0;
    struct kvm_device_attr a = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uint64_t)(uintptr_t)&zero,
    };
    if (ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a) == 0)
        return;
#endif
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = { .h.nmsrs = 1, .e.index = MSR_IA32_TSC, .e.data = __builtin_ia32_rdtsc() };
    ioctl(v->fd, KVM_SET_MSRS, &m);
}

/* LAPIC software-enabled (SVR bit 8, spurious vector 0xff) from the start,
 * so upcalls are accepted before the guest touches its APIC. */
static int enable_lapic(struct vcpu *v)
{
    struct kvm_lapic_state l;
    if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
        return -1;
    uint32_t svr = 0x1ff;
    memcpy(&l.regs[0xf0], &svr, sizeof(svr));
    return ioctl(v->fd, KVM_SET_LAPIC, &l) < 0 ? -1 : 0;
}

int vcpu_create(struct vm *vm, int id)
{
    struct vcpu *v = &vm->vcpus[id];
    v->vm = vm;
    v->id = id;
    for (int i = 0; i < NR_VIRQS; i++)
        v->virq_port[i] = 0;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
    if (v->fd < 0) {
        fprintf(stderr, "tandem-vmm: KVM_CREATE_VCPU %d: %s\n", id, strerror(errno));
        return -1;
    }
    int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0)
        return -1;
    v->run_size = (size_t)sz;
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        fprintf(stderr, "tandem-vmm: mmap kvm_run: %s\n", strerror(errno));
        return -1;
    }
    int caps = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    v->sync_regs = caps > 0 && (caps & KVM_SYNC_X86_REGS);
    if (set_cpuid(v))
        return -1;
    if (!vm->pc_platform && enable_lapic(v)) {   /* the PC's firmware sets up its own */
        fprintf(stderr, "tandem-vmm: vCPU %d: enabling the local APIC: %s\n", id, strerror(errno));
        return -1;
    }
    zero_tsc_offset(v);
    return timer_init(v);
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
    return (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
        .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0, .g = 1,
    };
}

static void system_segs(struct kvm_sregs *s)
{
    s->tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
    s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1, .unusable = 1 };
}

/* PVH entry: 32-bit flat protected mode, paging off, ebx = start_info. */
int vcpu_set_boot_state(struct vcpu *v, uint32_t entry, uint32_t start_info)
{
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return -1;
    s.cs = flat_seg(0x10, 11, false);
    s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, 3, false);
    system_segs(&s);
    s.cr0 = 0x11; /* PE | ET */
    s.cr3 = 0;
    s.cr4 = 0;
    s.efer = 0;
    if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_SET_SREGS: %s\n", strerror(errno));
        return -1;
    }
    struct kvm_regs r = { .rip = entry, .rbx = start_info, .rflags = 2 };
    return ioctl(v->fd, KVM_SET_REGS, &r) < 0 ? -1 : 0;
}

/* 64-bit mode, paging on with cr3, cs/ds the given flat selectors (in the
 * GDT at gdt_base if it is not 0, else the one KVM has). */
static int set_long_mode(struct vcpu *v, uint16_t cs, uint16_t ds, uint64_t cr3, uint64_t gdt_base,
                         uint16_t gdt_limit, const struct kvm_regs *r)
{
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return -EIO;
    s.cs = flat_seg(cs, 11, true);
    s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(ds, 3, false);
    system_segs(&s);
    if (gdt_base) {
        s.gdt.base = gdt_base;
        s.gdt.limit = gdt_limit;
    }
    s.cr3 = cr3;
    s.cr4 = 0x20;             /* PAE */
    s.cr0 = 0x80050033;       /* PG | AM | WP | NE | ET | MP | PE */
    s.efer = 0x500;           /* LME | LMA */
    if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
        return -EINVAL;
    if (ioctl(v->fd, KVM_SET_REGS, r) < 0)
        return -EINVAL;
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    ioctl(v->fd, KVM_SET_MP_STATE, &mp);
    return 0;
}

/* Secondary vCPU start: 64-bit, paging on (docs/abi.md). */
int vcpu_set_context(struct vcpu *v, const struct tandem_vcpu_context *c)
{
    struct kvm_regs r = { .rip = c->rip, .rsp = c->rsp, .rdi = c->rdi, .rsi = c->rsi, .rflags = 2 };
    return set_long_mode(v, TANDEM_VCPU_CS, TANDEM_VCPU_DS, c->cr3, 0, 0, &r);
}

/* Linux's 64-bit boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18, rsi = the
 * zero page, interrupts off. */
int vcpu_set_long_mode(struct vcpu *v, uint64_t rip, uint64_t rsi, uint64_t cr3, uint64_t gdt_base,
                       uint16_t gdt_limit)
{
    struct kvm_regs r = { .rip = rip, .rsi = rsi, .rflags = 2 };
    int e = set_long_mode(v, 0x10, 0x18, cr3, gdt_base, gdt_limit, &r);
    if (e)
        fprintf(stderr, "tandem-vmm: vCPU %u: cannot enter 64-bit mode: %s\n", v->id, strerror(-e));
    return e ? -1 : 0;
}

/* The bytes at the guest's rip, through its page tables. */
static void dump_code(struct vcpu *v, uint64_t linear)
{
    struct kvm_translation tr = { .linear_address = linear };
    if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
        return;
    const uint8_t *p = gpa_to_host(v->vm, tr.physical_address, 16, false);
    if (!p)
        return;
    fprintf(stderr, "  code at rip (gpa %llx):", (unsigned long long)tr.physical_address);
    for (int i = 0; i < 16; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, "\n");
}

void vcpu_dump(struct vcpu *v, const char *why)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    fprintf(stderr, "tandem-vmm: vCPU %d: %s\n", v->id, why);
    if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
        fprintf(stderr, "  (registers unavailable: %s)\n", strerror(errno));
        return;
    }
    fprintf(stderr,
            "  rip %016llx  rsp %016llx  rflags %016llx\n"
            "  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n"
            "  rsi %016llx  rdi %016llx  rbp %016llx  r8  %016llx\n"
            "  r9  %016llx  r10 %016llx  r11 %016llx  r12 %016llx\n"
            "  r13 %016llx  r14 %016llx  r15 %016llx\n"
            "  cs %04x (base %llx l=%u db=%u) ss %04x ds %04x\n"
            "  cr0 %016llx  cr2 %016llx  cr3 %016llx  cr4 %016llx  efer %llx\n"
            "  gdt %llx/%x  idt %llx/%x\n",
            r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8, r.r9,
            r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cs.selector, s.cs.base, s.cs.l, s.cs.db,
            s.ss.selector, s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base,
            s.gdt.limit, s.idt.base, s.idt.limit);
    dump_code(v, s.cs.base + r.rip);
    if (r.rip == 0xfff0 && s.cs.selector == 0xf000)
        fprintf(stderr, "  note: these are the vCPU's reset registers, not its state at the failure: "
                "KVM on AMD (SVM) puts a vCPU through INIT before it reports a shutdown\n");
}

static void guest_failure(struct vcpu *v, const char *why)
{
    vcpu_dump(v, why);
    vm_stop(v->vm, TANDEM_EXIT_GUESTFAIL, why);
}

/* Registers for a hypercall: from the shared kvm_run page when KVM syncs
 * them (no extra ioctl), else with KVM_GET_REGS. */
static struct kvm_regs *get_regs(struct vcpu *v, struct kvm_regs *buf)
{
    if (v->sync_regs)
        return &v->run->s.regs.regs;
    return ioctl(v->fd, KVM_GET_REGS, buf) < 0 ? NULL : buf;
}

static void put_regs(struct vcpu *v, struct kvm_regs *r)
{
    if (v->sync_regs)
        v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    else
        ioctl(v->fd, KVM_SET_REGS, r);
}

/* SCHEDOP_block returns with events enabled (RFLAGS.IF), whichever way
 * the hypercall trapped. */
static void enable_events(struct vcpu *v, struct kvm_regs *r)
{
    if (!v->enable_events_next)
        return;
    v->enable_events_next = false;
    r->rflags |= 0x200; /* X86_EFLAGS_IF */
}

/* A hypercall through Tandem's port (dev/hypercall_port.c): number nr,
 * arguments in rdi, rsi, rdx, r10, r8; the result goes to rax. */
void vcpu_hypercall(struct vcpu *v, uint32_t nr)
{
    struct kvm_regs buf, *r = get_regs(v, &buf);
    if (!r) {
        guest_failure(v, "cannot read registers for a hypercall");
        return;
    }
    uint64_t args[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
    r->rax = (uint64_t)hypercall_dispatch(v, nr, args);
    enable_events(v, r);
    put_regs(v, r);
}

/* A vmcall/vmmcall through KVM's Xen support (Xen HVM platform): KVM
 * writes the result to rax and moves past the instruction on the next
 * KVM_RUN. Hypercalls from guest user mode are refused as Xen does. */
static void handle_xen(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    if (run->xen.type != KVM_EXIT_XEN_HCALL) {
        v->unknown_hypercalls++;
        return;
    }
    if (run->xen.u.hcall.cpl != 0) {
        run->xen.u.hcall.result = (uint64_t)(long)-EPERM;
        return;
    }
    const __u64 *p = run->xen.u.hcall.params;
    uint64_t args[5] = { p[0], p[1], p[2], p[3], p[4] };
    uint64_t nr = run->xen.u.hcall.input;
    guest_mem_hypercall(v);   /* its pointers are linear addresses */
    run->xen.u.hcall.result =
        (uint64_t)(nr > UINT32_MAX ? -ENOSYS : hypercall_dispatch(v, (uint32_t)nr, args));
    guest_mem_hypercall(NULL);
    if (!v->hypercalled) {
        /* Its first hypercall: a secondary vCPU now runs the guest with its
         * local APIC enabled. The INIT that started it cleared the LAPIC,
         * and with it any upcall MSI sent before (for events raised while
         * the guest prepared it); evtchn_upcall_pending is still set, so no
         * new MSI would come. Signal it again. */
        v->hypercalled = true;
        pthread_mutex_lock(&v->vm->lock);
        evtchn_kick_vcpu(v->vm, v);
        pthread_mutex_unlock(&v->vm->lock);
    }
    if (v->enable_events_next) {
        struct kvm_regs buf, *r = get_regs(v, &buf);
        if (r) {
            enable_events(v, r);
            put_regs(v, r);
        }
    }
}

/* A port access nothing here serves (no device on the bus, or a device
 * that does not serve this offset, size or direction): reads see `fill`
 * (0xff as on an empty bus; the PIT stand-in gives 0), writes are dropped,
 * and the first access to each port is logged (what a guest probes for). */
void vcpu_io_unserved(struct vcpu *v, uint16_t port, uint8_t *data, uint32_t len, bool is_write,
                      uint8_t fill)
{
    static _Atomic uint64_t seen[65536 / 64];
    uint64_t bit = 1ULL << (port % 64);
    if (!is_write)
        memset(data, fill, len);
    if (!v)
        return;
    v->unhandled_io++;
    if (!(atomic_fetch_or(&seen[port / 64], bit) & bit))
        fprintf(stderr, "tandem-vmm: vCPU %d: port %#x: nothing there (%s; reported once)\n", v->id,
                port, is_write ? "writes dropped" : fill ? "reads see 0xff" : "reads see 0");
}

/* Each element of a port access (a `rep ins/outs` has run->io.count of
 * them) goes to the device on the bus that holds the port. */
static void handle_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
    uint32_t size = run->io.size;
    for (uint32_t i = 0; i < run->io.count; i++, data += size)
        if (!iobus_access(v->vm->bus, IOBUS_PIO, run->io.port, data, size, is_write, v))
            vcpu_io_unserved(v, run->io.port, data, size, is_write, 0xff);
}

static void handle_mmio(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    if (iobus_access(v->vm->bus, IOBUS_MMIO, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
                     run->mmio.is_write, v))
        return;
    /* Writes to the read-only hypercall page and accesses to unbacked
     * addresses are dropped; reads see all ones, as on an empty bus. */
    if (!run->mmio.is_write)
        memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
    v->unhandled_mmio++;
}

/* Returns false when this vCPU must stop running. */
static bool handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint32_t reason = run->exit_reason;
    v->exits[reason < VMM_NR_EXIT_REASONS ? reason : 0]++;
    char why[128];
    switch (reason) {
    case KVM_EXIT_IO:
        handle_io(v);
        return true;
    case KVM_EXIT_MMIO:
        handle_mmio(v);
        return true;
    case KVM_EXIT_XEN:
        handle_xen(v);
        return true;
    case KVM_EXIT_INTR:
        return true;
    case KVM_EXIT_HLT:
        return true;
    case KVM_EXIT_IRQ_WINDOW_OPEN:   /* the PC's interrupt goes in before the next entry */
        return true;
    case KVM_EXIT_IOAPIC_EOI:        /* the PC's level-triggered IOAPIC input */
        pc_ioapic_eoi(v->vm, run->eoi.vector);
        return true;
    case KVM_EXIT_SHUTDOWN:
        if (v->vm->pc_platform) {
            /* A PC resets on a triple fault (firmware's last resort for a
             * reboot, too): a reboot, as QEMU does, said in the log. */
            fprintf(stderr, "tandem-vmm: vCPU %u: triple fault: the PC resets (a reboot)\n", v->id);
            vm_guest_shutdown(v->vm, 1 /* SHUTDOWN_reboot */);
            return false;
        }
        guest_failure(v, "triple fault (KVM_EXIT_SHUTDOWN)");
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        snprintf(why, sizeof(why), "KVM internal error, suberror %u%s", run->internal.suberror,
                 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                     ? " (instruction emulation failed)" : "");
        guest_failure(v, why);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(why, sizeof(why), "VM entry failed, reason %#llx",
                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        guest_failure(v, why);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
            vm_guest_shutdown(v->vm, 1 /* SHUTDOWN_reboot */);
        else if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
            vm_guest_shutdown(v->vm, 0 /* SHUTDOWN_poweroff */);
        else
            guest_failure(v, "unexpected system event");
        return false;
    default:
        snprintf(why, sizeof(why), "unhandled KVM exit reason %u", reason);
        guest_failure(v, why);
        return false;
    }
}

/* SCHEDOP_block: enter the guest halted; KVM wakes it in the kernel on the
 * next interrupt (LAPIC in KVM). */
static void apply_halt(struct vcpu *v)
{
    if (!v->halt_next)
        return;
    v->halt_next = false;
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_HALTED };
    ioctl(v->fd, KVM_SET_MP_STATE, &mp);
}

/* Completes a port-I/O exit KVM still holds (KVM moves rip past the `out`
 * on the next KVM_RUN), so the registers are final while parked: what
 * save reads. immediate_exit makes KVM_RUN return at once after that. */
static void settle(struct vcpu *v)
{
    if (v->sync_regs)
        v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
    v->run->immediate_exit = 1;
    ioctl(v->fd, KVM_RUN, 0);
    v->run->immediate_exit = 0;
}

static bool wait_runnable(struct vcpu *v)
{
    struct vm *vm = v->vm;
    if (atomic_load(&vm->state) == VM_RUNNING)
        return true;
    settle(v);
    pthread_mutex_lock(&vm->lock);
    v->parked = true;
    pthread_cond_broadcast(&vm->parked_cond);
    while (atomic_load(&vm->state) == VM_PAUSED)
        pthread_cond_wait(&vm->unpause, &vm->lock);
    v->parked = false;
    pthread_mutex_unlock(&vm->lock);
    return atomic_load(&vm->state) == VM_RUNNING;
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    sigset_t set;
    char tname[16];
    snprintf(tname, sizeof(tname), "vcpu%u", v->id);   /* `tandem vcpu-list` finds it */
    pthread_setname_np(pthread_self(), tname);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    for (;;) {
        if (!wait_runnable(v))
            break;
        apply_halt(v);
        pc_before_run(v);
        if (v->sync_regs)
            v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                v->run->immediate_exit = 0;
                continue;
            }
            char why[96];
            snprintf(why, sizeof(why), "KVM_RUN failed: %s", strerror(errno));
            guest_failure(v, why);
            break;
        }
        if (!handle_exit(v))
            break;
    }
    return NULL;
}

static void kick_handler(int sig)
{
    (void)sig;
}

int vcpu_start(struct vcpu *v)
{
    static bool handler_set;
    if (!handler_set) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = kick_handler;
        sigaction(SIGUSR1, &sa, NULL);
        handler_set = true;
    }
    if (v->thread_started)
        return 0;
    int e = pthread_create(&v->thread, NULL, vcpu_thread, v);
    if (e) {
        fprintf(stderr, "tandem-vmm: vCPU %d thread: %s\n", v->id, strerror(e));
        return -1;
    }
    v->thread_started = true;
    return 0;
}

/* Makes the vCPU leave KVM_RUN (or not enter it) and look at vm->state. */
void vcpu_kick(struct vcpu *v)
{
    if (!v->thread_started)
        return;
    v->run->immediate_exit = 1;
    pthread_kill(v->thread, SIGUSR1);
    pthread_mutex_lock(&v->vm->poll_lock);
    pthread_cond_broadcast(&v->vm->poll_cond);
    pthread_mutex_unlock(&v->vm->poll_lock);
}

/*
 * tandem-vmm: runs one PVH domain on KVM (docs/vmm.md). Order matters for
 * the exit status contract: everything the user can get wrong (options,
 * memory size, the kernel file) is checked before any VM exists (status 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_load.h"
#include "kernel_image.h"
#include "mapfile.h"
#include "ramdisk.h"
#include "pc.h"
#include "restore.h"
#include "vmm.h"

#define KERNEL_MAX_BYTES (256ULL << 20)

/* The kernel and ramdisk, checked before any VM exists. The file and the
 * unpacked ELF are kept only until the segments are in guest RAM. */
struct boot_files {
    struct mapped_file file;
    struct kernel_payload payload;   /* the ELF: in file, or unpacked from a bzImage */
    struct elf_image img;
    struct ramdisk rd;
};

static uint64_t host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

static int map_kernel(const char *path, struct mapped_file *k)
{
    char err[512];
    if (mapped_file_open(path, "kernel", 1, KERNEL_MAX_BYTES, 0, k, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "tandem-vmm: %s\n", err);
    return -1;
}

static void release_kernel(struct boot_files *b)
{
    kernel_payload_release(&b->payload);   /* may point into the file: first */
    mapped_file_close(&b->file);
}

static int open_boot_files(const struct vmm_config *cfg, struct boot_files *b)
{
    char err[512];
    uint64_t ram = cfg->memory_mib << 20;
    memset(b, 0, sizeof(*b));
    b->rd.fd = -1;
    if (map_kernel(cfg->kernel, &b->file))
        return -1;
    if (kernel_image_unwrap(b->file.data, b->file.len, KERNEL_UNPACKED_MAX, &b->payload, err,
                            sizeof(err)) ||
        elf_parse(b->payload.elf, b->payload.elf_len, ram, &b->img, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: kernel %s: %s\n", cfg->kernel, err);
        release_kernel(b);
        return -1;
    }
    if (cfg->ramdisk && ramdisk_open(cfg->ramdisk, ram, b->img.high, &b->rd, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: ramdisk %s: %s\n", cfg->ramdisk, err);
        release_kernel(b);
        return -1;
    }
    return 0;
}

/* --check: what would be loaded where, on stdout (docs/vmm.md). */
static void print_check(const struct vmm_config *cfg, const struct boot_files *b)
{
    const struct kernel_payload *p = &b->payload;
    printf("kernel: %s\n", cfg->kernel);
    if (p->comp == KCOMP_NONE)
        printf("format: ELF\n");
    else
        printf("format: bzImage %u.%02u, %s\n", p->boot_version >> 8, p->boot_version & 0xff,
               kernel_compression_name(p->comp));
    printf("elf-size: %zu\n", p->elf_len);
    printf("entry: %#x\n", b->img.entry);
    for (unsigned int i = 0; i < b->img.nsegs; i++)
        printf("segment: %#llx memsz %#llx filesz %#llx\n",
               (unsigned long long)b->img.segs[i].paddr, (unsigned long long)b->img.segs[i].memsz,
               (unsigned long long)b->img.segs[i].filesz);
    printf("image: %#llx-%#llx\n", (unsigned long long)b->img.low,
           (unsigned long long)b->img.high);
    if (cfg->ramdisk)
        printf("ramdisk: %#llx size %llu (%s)\n", (unsigned long long)b->rd.gpa,
               (unsigned long long)b->rd.size, cfg->ramdisk);
    printf("memory: %llu MiB\n", (unsigned long long)cfg->memory_mib);
}

static bool detect_pvm(struct vm *vm)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = { .h.nmsrs = 1, .e.index = PVM_MSR_SIGNATURE };
    return ioctl(vm->vcpus[0].fd, KVM_GET_MSRS, &m) == 1 && m.e.data == PVM_SIGNATURE;
}

/* 0, or -1 when the user asked for a mode this host lacks (bad input). */
static int choose_cpu_mode(struct vm *vm)
{
    vm->pvm_host = detect_pvm(vm);
    switch (vm->cfg->cpu_mode) {
    case CPU_MODE_PLAIN:
        vm->pvm = false;
        return 0;
    case CPU_MODE_PVM:
        if (!vm->pvm_host) {
            fprintf(stderr, "tandem-vmm: --cpu-mode=pvm: this host's KVM is not PVM\n");
            return -1;
        }
        vm->pvm = true;
        return 0;
    default:
        vm->pvm = vm->pvm_host;
        return 0;
    }
}

static void block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* docs/vmm.md "Platforms": Tandem's for our own kernel (its GUEST_OS note),
 * Xen's HVM interface for any other (Linux), unless --platform says. */
static bool wants_xen_hvm(const struct vmm_config *cfg, const struct elf_image *img)
{
    if (cfg->platform != PLATFORM_AUTO)
        return cfg->platform == PLATFORM_XEN;
    return strcmp(img->guest_os, "Tandem") != 0;
}

/* Xen HVM platform: every vCPU's thread runs from the start; KVM holds the
 * secondaries in wait-for-SIPI until the guest starts them through its
 * local APIC (INIT, SIPI), as on a PC. */
static int start_secondaries(struct vm *vm)
{
    for (unsigned int i = 1; i < vm->nr_vcpus; i++) {
        vm->vcpus[i].up = vm->vcpus[i].initialised = true;
        if (vcpu_start(&vm->vcpus[i]))
            return -1;
    }
    return 0;
}

/* Kernel segments, then the ramdisk, into guest RAM; the files go. */
static int load_boot_files(struct vm *vm, struct boot_files *b)
{
    char err[512];
    elf_load(b->payload.elf, &b->img, vm->mem);
    release_kernel(b);
    if (b->rd.fd < 0)
        return 0;
    if (ramdisk_load(&b->rd, vm->mem, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: ramdisk %s: %s\n", vm->cfg->ramdisk, err);
        return -1;
    }
    vm->ramdisk_gpa = b->rd.gpa;
    vm->ramdisk_size = b->rd.size;
    return 0;
}

/*
 * Bringing a domain up is a list of steps run in order; at exit, or when
 * one fails, the steps that succeeded are undone in reverse order (a step
 * that fails has undone its own part). The boot and the restore paths
 * differ only in their lists (docs/vmm.md "Devices").
 */
struct run_ctx {
    const struct vmm_config *cfg;
    struct boot_files *boot;     /* the boot path */
    struct restore *rs;          /* the restore path */
    struct pc_firmware *fw;      /* the PC: its firmware, or */
    struct pc_kernel *pck;       /* the kernel it boots directly */
    struct pc_disks *disks;
};

struct step {
    const char *name;
    /* 0, or the exit status to end with (it has said why) */
    int (*init)(struct vm *vm, struct run_ctx *c);
    void (*teardown)(struct vm *vm);
    const char *fail_why;        /* non-NULL: a failure stops the domain with this reason */
};

static int step_platform(struct vm *vm, struct run_ctx *c)
{
    vm->xen_hvm = wants_xen_hvm(c->cfg, &c->boot->img);
    if (vm->xen_hvm && c->cfg->cpu_mode == CPU_MODE_PVM) {
        fprintf(stderr, "tandem-vmm: --cpu-mode=pvm: only Tandem guests have a PVM mode\n");
        return TANDEM_EXIT_BADINPUT;
    }
    return 0;
}

static int step_vm(struct vm *vm, struct run_ctx *c)
{
    int cr = vm_create(vm, c->cfg);
    if (cr) {   /* -2: this host's KVM cannot run this guest (a configuration error) */
        vm_destroy(vm);
        return cr == -2 ? TANDEM_EXIT_BADINPUT : TANDEM_EXIT_ERROR;
    }
    return 0;
}

static int step_cpu_mode(struct vm *vm, struct run_ctx *c)
{
    (void)c;
    if (vm->xen_hvm) {
        vm->pvm = false;
        return 0;
    }
    return choose_cpu_mode(vm) ? TANDEM_EXIT_BADINPUT : 0; /* never ran: a configuration error */
}

static int step_clock(struct vm *vm, struct run_ctx *c)
{
    (void)c;
    pvclock_init(vm);
    return 0;
}

static int step_kernel(struct vm *vm, struct run_ctx *c)
{
    return load_boot_files(vm, c->boot) ? TANDEM_EXIT_ERROR : 0;
}

static int step_restore_memory(struct vm *vm, struct run_ctx *c)
{
    char err[512];
    if (restore_memory(c->rs, vm, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: %s: %s\n", c->cfg->restore, err);
        return TANDEM_EXIT_BADINPUT;
    }
    return 0;
}

static int step_restore_state(struct vm *vm, struct run_ctx *c)
{
    char err[512];
    if (restore_state(c->rs, vm, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: %s: %s\n", c->cfg->restore, err);
        return TANDEM_EXIT_ERROR;
    }
    return 0;
}

/* The steps that only say 0 or -1. */
#define SIMPLE_STEP(fn, call) \
    static int fn(struct vm *vm, struct run_ctx *c) \
    { \
        (void)c; \
        return (call) ? TANDEM_EXIT_ERROR : 0; \
    }
SIMPLE_STEP(step_devices, devices_init(vm))
SIMPLE_STEP(step_boot_data, boot_setup(vm, c->boot->img.entry))
SIMPLE_STEP(step_loop, loop_init(vm))
SIMPLE_STEP(step_console, console_init(vm))
SIMPLE_STEP(step_control, control_open(vm))
SIMPLE_STEP(step_xs_link, xs_link_init(vm))
SIMPLE_STEP(step_xenstore, xs_domain_register(vm))

static int step_pc_platform(struct vm *vm, struct run_ctx *c)
{
    (void)c;
    vm->pc_platform = true;
    return 0;
}

SIMPLE_STEP(step_pc_firmware, c->fw ? pc_map_firmware(vm, c->fw) : 0)
SIMPLE_STEP(step_pc_devices, pc_devices_init(vm, c->disks))
SIMPLE_STEP(step_pc_kernel, c->pck ? pc_direct_boot(vm, c->pck) : 0)

/* The vCPUs start last. A start that fails stops the domain, but the main
 * loop still runs, briefly: xenstored may be calling back. */
static int step_vcpus(struct vm *vm, struct run_ctx *c)
{
    if (c->cfg->start_paused)   /* before any vCPU thread: nothing to kick */
        atomic_store(&vm->state, VM_PAUSED);
    vm->vcpus[0].up = vm->vcpus[0].initialised = true;
    if (vcpu_start(&vm->vcpus[0]) || ((vm->xen_hvm || vm->pc_platform) && start_secondaries(vm)))
        vm_stop(vm, TANDEM_EXIT_ERROR, "cannot start the vCPUs");
    return 0;
}

static int step_restored_vcpus(struct vm *vm, struct run_ctx *c)
{
    fprintf(stderr, "tandem-vmm: domain %u restored from %s (saved as domain %u)\n", c->cfg->domid,
            c->cfg->restore, c->rs->h.domid);
    if (c->cfg->start_paused)
        atomic_store(&vm->state, VM_PAUSED);
    if (restore_start_vcpus(vm))
        vm_stop(vm, TANDEM_EXIT_ERROR, "cannot start the vCPUs");
    return 0;
}

static void join_vcpus(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i].thread_started)
            pthread_join(vm->vcpus[i].thread, NULL);
    if (vm->cfg->stats)
        stats_print(vm);
}

#define SETUP_FAILED "setup failed"

static const struct step boot_steps[] = {
    { "platform", step_platform, NULL, NULL },
    { "vm", step_vm, vm_destroy, NULL },
    { "cpu-mode", step_cpu_mode, NULL, NULL },
    { "clock", step_clock, NULL, NULL },
    { "kernel", step_kernel, NULL, NULL },
    { "devices", step_devices, devices_close, SETUP_FAILED },
    { "boot-data", step_boot_data, NULL, SETUP_FAILED },
    { "loop", step_loop, loop_close, SETUP_FAILED },
    { "console", step_console, console_close, SETUP_FAILED },
    { "control", step_control, control_close, SETUP_FAILED },
    { "xenstore-link", step_xs_link, xs_link_close, SETUP_FAILED },
    { "xenstore", step_xenstore, xs_domain_unregister, SETUP_FAILED },
    { "vcpus", step_vcpus, join_vcpus, NULL },
};

/* --firmware: the PC (pc.c). Its devices come after the loop and the
 * console: the PIT's timer is on the loop, COM1's input comes from the
 * console. */
static const struct step pc_steps[] = {
    { "platform", step_pc_platform, NULL, NULL },
    { "vm", step_vm, vm_destroy, NULL },
    { "firmware", step_pc_firmware, NULL, NULL },
    { "bus", step_devices, devices_close, SETUP_FAILED },
    { "loop", step_loop, loop_close, SETUP_FAILED },
    { "console", step_console, console_close, SETUP_FAILED },
    { "devices", step_pc_devices, pc_devices_close, SETUP_FAILED },
    { "kernel", step_pc_kernel, NULL, SETUP_FAILED },
    { "control", step_control, control_close, SETUP_FAILED },
    { "xenstore", step_xenstore, xs_domain_unregister, SETUP_FAILED },
    { "vcpus", step_vcpus, join_vcpus, NULL },
};

/* --restore: the machine comes from the file; nothing is registered or
 * run before its memory has been read and checked (a bad file: status 2). */
static const struct step restore_steps[] = {
    { "vm", step_vm, vm_destroy, NULL },
    { "cpu-mode", step_cpu_mode, NULL, NULL },
    { "clock", step_clock, NULL, NULL },
    { "memory", step_restore_memory, NULL, NULL },
    { "state", step_restore_state, NULL, NULL },
    { "devices", step_devices, devices_close, SETUP_FAILED },
    { "loop", step_loop, loop_close, SETUP_FAILED },
    { "console", step_console, console_close, SETUP_FAILED },
    { "control", step_control, control_close, SETUP_FAILED },
    { "xenstore-link", step_xs_link, xs_link_close, SETUP_FAILED },
    { "xenstore", step_xenstore, xs_domain_unregister, SETUP_FAILED },
    { "vcpus", step_restored_vcpus, join_vcpus, NULL },
};

static void undo_steps(struct vm *vm, const struct step *steps, size_t n)
{
    while (n--)
        if (steps[n].teardown)
            steps[n].teardown(vm);
}

static int run_steps(const struct step *steps, size_t n, struct run_ctx *c)
{
    static struct vm vm;
    block_signals();
    for (size_t i = 0; i < n; i++) {
        int status = steps[i].init(&vm, c);
        if (status) {
            if (steps[i].fail_why)
                vm_stop(&vm, status, steps[i].fail_why);
            undo_steps(&vm, steps, i);
            return status;
        }
    }
    int status = loop_run(&vm);
    undo_steps(&vm, steps, n);
    return status;
}

#define RUN(list, ctx) run_steps(list, sizeof(list) / sizeof(list[0]), ctx)

int main(int argc, char **argv)
{
    struct vmm_config cfg;
    char err[512];
    int r = config_parse(&cfg, argc, argv, host_memory(), err, sizeof(err));
    if (r == 1) {
        fputs(config_usage(), stdout);
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "tandem-vmm: %s\n", err);
        return TANDEM_EXIT_BADINPUT;
    }
    if (cfg.restore) {
        struct restore rs = { .fd = -1 };
        if (restore_open(&rs, &cfg, err, sizeof(err))) {
            fprintf(stderr, "tandem-vmm: %s\n", err);
            restore_close(&rs);
            return TANDEM_EXIT_BADINPUT;
        }
        struct run_ctx c = { .cfg = &cfg, .rs = &rs };
        int status = RUN(restore_steps, &c);
        restore_close(&rs);
        return status;
    }
    if (cfg.pc) {
        static struct pc_firmware fw;
        static struct pc_kernel pck = { .rd = { .fd = -1 } };
        static struct pc_disks disks;
        int status = TANDEM_EXIT_BADINPUT;
        if ((!cfg.firmware || pc_firmware_open(cfg.firmware, &fw, err, sizeof(err)) == 0) &&
            (!cfg.kernel || pc_kernel_open(&cfg, &pck, err, sizeof(err)) == 0) &&
            pc_disks_open(&cfg, &disks, err, sizeof(err)) == 0) {
            struct run_ctx c = { .cfg = &cfg, .fw = cfg.firmware ? &fw : NULL,
                                 .pck = cfg.kernel ? &pck : NULL, .disks = &disks };
            status = RUN(pc_steps, &c);
        } else {
            fprintf(stderr, "tandem-vmm: %s\n", err);
        }
        pc_disks_close(&disks);
        pc_kernel_close(&pck);
        pc_firmware_close(&fw);
        return status;
    }
    static struct boot_files b;
    if (open_boot_files(&cfg, &b))
        return TANDEM_EXIT_BADINPUT;
    if (cfg.check_only) {
        print_check(&cfg, &b);
        release_kernel(&b);
        ramdisk_close(&b.rd);
        return fflush(stdout) ? TANDEM_EXIT_ERROR : 0;
    }
    struct run_ctx c = { .cfg = &cfg, .boot = &b };
    int status = RUN(boot_steps, &c);
    release_kernel(&b);
    ramdisk_close(&b.rd);
    return status;
}

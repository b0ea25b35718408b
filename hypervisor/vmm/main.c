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
#include "restore.h"
#include "vmm.h"

#define KERNEL_MAX_BYTES (256ULL << 20)

struct kernel_file {
    uint8_t *data;
    size_t len;
};

static uint64_t host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

static int map_kernel(const char *path, struct kernel_file *k)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tandem-vmm: kernel %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int r = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        fprintf(stderr, "tandem-vmm: kernel %s: not a regular file\n", path);
    else if (st.st_size == 0 || (uint64_t)st.st_size > KERNEL_MAX_BYTES)
        fprintf(stderr, "tandem-vmm: kernel %s: size %lld is not in 1..%llu bytes\n", path,
                (long long)st.st_size, KERNEL_MAX_BYTES);
    else {
        k->len = (size_t)st.st_size;
        k->data = mmap(NULL, k->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (k->data == MAP_FAILED)
            fprintf(stderr, "tandem-vmm: kernel %s: %s\n", path, strerror(errno));
        else
            r = 0;
    }
    close(fd);
    return r;
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

static void teardown(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i].thread_started)
            pthread_join(vm->vcpus[i].thread, NULL);
    if (vm->cfg->stats)
        stats_print(vm);
    xs_domain_unregister(vm);
    control_close(vm);
    console_close(vm);
    vm_destroy(vm);
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

static int run(const struct vmm_config *cfg, const struct kernel_file *k,
               const struct elf_image *img)
{
    static struct vm vm;
    block_signals();
    vm.xen_hvm = wants_xen_hvm(cfg, img);
    if (vm.xen_hvm && cfg->cpu_mode == CPU_MODE_PVM) {
        fprintf(stderr, "tandem-vmm: --cpu-mode=pvm: only Tandem guests have a PVM mode\n");
        return TANDEM_EXIT_BADINPUT;
    }
    int cr = vm_create(&vm, cfg);
    if (cr) {   /* -2: this host's KVM cannot run this guest (a configuration error) */
        vm_destroy(&vm);
        return cr == -2 ? TANDEM_EXIT_BADINPUT : TANDEM_EXIT_ERROR;
    }
    if (vm.xen_hvm)
        vm.pvm = false;
    else if (choose_cpu_mode(&vm)) { /* the VM never ran: a configuration error */
        vm_destroy(&vm);
        return TANDEM_EXIT_BADINPUT;
    }
    pvclock_init(&vm);
    elf_load(k->data, img, vm.mem);
    if (boot_setup(&vm, img->entry) || console_init(&vm) || loop_init(&vm) ||
        control_open(&vm) || xs_domain_register(&vm)) {
        vm_stop(&vm, TANDEM_EXIT_ERROR, "setup failed");
        teardown(&vm);
        return TANDEM_EXIT_ERROR;
    }
    if (cfg->start_paused)   /* before any vCPU thread: nothing to kick */
        atomic_store(&vm.state, VM_PAUSED);
    vm.vcpus[0].up = vm.vcpus[0].initialised = true;
    if (vcpu_start(&vm.vcpus[0]) || (vm.xen_hvm && start_secondaries(&vm)))
        vm_stop(&vm, TANDEM_EXIT_ERROR, "cannot start the vCPUs");
    int status = loop_run(&vm);
    teardown(&vm);
    return status;
}

/* --restore: the machine comes from the file; nothing is registered or
 * run before its memory has been read and checked (a bad file: status 2). */
static int run_restored(struct vmm_config *cfg, struct restore *rs)
{
    static struct vm vm;
    char err[512];
    block_signals();
    if (vm_create(&vm, cfg)) {
        vm_destroy(&vm);
        return TANDEM_EXIT_ERROR;
    }
    if (choose_cpu_mode(&vm)) {
        vm_destroy(&vm);
        return TANDEM_EXIT_BADINPUT;
    }
    pvclock_init(&vm);
    if (restore_memory(rs, &vm, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: %s: %s\n", cfg->restore, err);
        vm_destroy(&vm);
        return TANDEM_EXIT_BADINPUT;
    }
    if (restore_state(rs, &vm, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: %s: %s\n", cfg->restore, err);
        vm_destroy(&vm);
        return TANDEM_EXIT_ERROR;
    }
    if (console_init(&vm) || loop_init(&vm) || control_open(&vm) || xs_domain_register(&vm)) {
        vm_stop(&vm, TANDEM_EXIT_ERROR, "setup failed");
        teardown(&vm);
        return TANDEM_EXIT_ERROR;
    }
    fprintf(stderr, "tandem-vmm: domain %u restored from %s (saved as domain %u)\n", cfg->domid,
            cfg->restore, rs->h.domid);
    if (cfg->start_paused)
        atomic_store(&vm.state, VM_PAUSED);
    if (restore_start_vcpus(&vm))
        vm_stop(&vm, TANDEM_EXIT_ERROR, "cannot start the vCPUs");
    int status = loop_run(&vm);
    teardown(&vm);
    return status;
}

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
        int status = run_restored(&cfg, &rs);
        restore_close(&rs);
        return status;
    }
    struct kernel_file k;
    struct elf_image img;
    if (map_kernel(cfg.kernel, &k))
        return TANDEM_EXIT_BADINPUT;
    if (elf_parse(k.data, k.len, cfg.memory_mib << 20, &img, err, sizeof(err))) {
        fprintf(stderr, "tandem-vmm: kernel %s: %s\n", cfg.kernel, err);
        return TANDEM_EXIT_BADINPUT;
    }
    int status = run(&cfg, &k, &img);
    munmap(k.data, k.len);
    return status;
}

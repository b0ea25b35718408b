/*
 * The KVM VM: guest memory (one sealed memfd: RAM, then the 2 MiB platform
 * region; the PC has RAM only), memory slots, the split irqchip and PVM
 * detection.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "pc.h"
#include "vmm.h"

#define IOAPIC_ROUTES 24

static int set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, uint64_t off,
                    uint32_t flags)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)(vm->mem + off),
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_SET_USER_MEMORY_REGION slot %u: %s\n", slot,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Guest memory as an unlinked file in a tmpfs directory (--mem-path),
 * so that a tmpfs mounted with huge=always|within_size backs it with
 * 2 MiB pages: on these hosts where a guest buffer lies in memory decides
 * how fast the disk reads into it (128 KiB reads: 1.4 GB/s into 4 KiB
 * pages, 3.2 GB/s into 2 MiB ones; docs/benchmarks-blk.md). hugetlbfs is
 * refused: its mappings must be 2 MiB-aligned and dom0 services map
 * single pages. Unlike a memfd the file cannot be sealed; the VMM is the
 * only one that can resize it and never does. */
/* The file system is checked before anything is created in it, so that a
 * directory that is not a tmpfs is reported as such (not as EROFS, say). */
static int open_mem_path(const char *dir)
{
    struct statfs sf = { 0 };
    if (statfs(dir, &sf) < 0) {
        fprintf(stderr, "tandem-vmm: --mem-path %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if ((unsigned long)sf.f_type != TMPFS_MAGIC) {
        fprintf(stderr, "tandem-vmm: --mem-path %s: not a tmpfs%s (guest memory must be shared "
                "memory; mount one with -o huge=within_size for 2 MiB pages)\n", dir,
                (unsigned long)sf.f_type == HUGETLBFS_MAGIC ? " but hugetlbfs" : "");
        return -1;
    }
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fprintf(stderr, "tandem-vmm: --mem-path %s: %s\n", dir, strerror(errno));
    return fd;
}

static int create_memory(struct vm *vm)
{
    char name[32];
    snprintf(name, sizeof(name), "tandem-dom%u", vm->cfg->domid);
    if (vm->cfg->mem_path) {
        vm->memfd = open_mem_path(vm->cfg->mem_path);
        if (vm->memfd < 0)
            return -1;
    } else {
        vm->memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    }
    if (vm->memfd < 0 || ftruncate(vm->memfd, (off_t)vm->mem_size) < 0) {
        fprintf(stderr, "tandem-vmm: guest memory (%llu MiB): %s\n",
                (unsigned long long)(vm->mem_size >> 20), strerror(errno));
        return -1;
    }
    /* A tmpfs has a size limit: reserve every page now, so that running
     * out is a clear error here and not a SIGBUS later in the VMM or in a
     * dom0 service touching a guest page (QEMU's -mem-prealloc). */
    if (vm->cfg->mem_path) {
        int rc = posix_fallocate(vm->memfd, 0, (off_t)vm->mem_size);
        if (rc) {
            fprintf(stderr, "tandem-vmm: --mem-path %s: cannot reserve %llu MiB of guest memory: %s\n",
                    vm->cfg->mem_path, (unsigned long long)(vm->mem_size >> 20), strerror(rc));
            return -1;
        }
    }
    /* The size never changes: dom0 services map it without fearing SIGBUS. */
    if (!vm->cfg->mem_path &&
        fcntl(vm->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        fprintf(stderr, "tandem-vmm: sealing guest memory: %s\n", strerror(errno));
        return -1;
    }
    vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                   vm->memfd, 0);
    if (vm->mem == MAP_FAILED) {
        vm->mem = NULL;
        fprintf(stderr, "tandem-vmm: mapping guest memory: %s\n", strerror(errno));
        return -1;
    }
    madvise(vm->mem, vm->mem_size, MADV_DONTDUMP);
    if (vm->cfg->mem_path)
        madvise(vm->mem, vm->mem_size, MADV_HUGEPAGE);   /* for a tmpfs mounted huge=advise */
    return 0;
}

static int map_memory(struct vm *vm)
{
    uint64_t hc = vm_region_offset(vm, TANDEM_HYPERCALL_PAGE_GPA);
    vm->readonly_mem = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    if (vm->pc_platform) {
        /* RAM below 0xc0000 and from 1 MiB; between, the PAM segments,
         * RAM until pc.c maps them as the i440FX says (13 slots). */
        if (set_slot(vm, 0, 0, PC_PAM_BASE, 0, 0) ||
            set_slot(vm, PC_RAM_1M_SLOT, PC_PAM_END, vm->ram_low - PC_PAM_END, PC_PAM_END, 0) ||
            set_slot(vm, PC_PAM_SLOT0, PC_PAM_BASE, PC_PAM_END - PC_PAM_BASE, PC_PAM_BASE, 0))
            return -1;
    } else if (set_slot(vm, 0, 0, vm->ram_low, 0, 0)) {
        return -1;
    }
    if (vm->ram_size > vm->ram_low &&   /* the PC's RAM above 4 GiB (slot 1 is its ROM) */
        set_slot(vm, 2, PC_HIGH_RAM_GPA, vm->ram_size - vm->ram_low, vm->ram_low, 0))
        return -1;
    if (vm->pc_platform)
        return 0;   /* RAM only; the firmware's slot comes with it (pc.c) */
    if (vm->readonly_mem) {
        if (set_slot(vm, 1, TANDEM_HYPERCALL_PAGE_GPA, XEN_PAGE_SIZE, hc, KVM_MEM_READONLY) ||
            set_slot(vm, 2, TANDEM_HYPERCALL_PAGE_GPA + XEN_PAGE_SIZE,
                     TANDEM_REGION_SIZE - XEN_PAGE_SIZE, hc + XEN_PAGE_SIZE, 0))
            return -1;
        return 0;
    }
    return set_slot(vm, 1, TANDEM_REGION_GPA, TANDEM_REGION_SIZE, hc, 0);
}

static int split_irqchip(struct vm *vm)
{
    struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { IOAPIC_ROUTES } };
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        fprintf(stderr, "tandem-vmm: KVM_CAP_SPLIT_IRQCHIP: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int vm_create(struct vm *vm, const struct vmm_config *cfg)
{
    vm->cfg = cfg;
    vm->ram_size = cfg->memory_mib << 20;
    vm->ram_low = vm->pc_platform && vm->ram_size > ((uint64_t)PC_LOW_RAM_MAX << 20)
                      ? (uint64_t)PC_LOW_RAM_MAX << 20 : vm->ram_size;
    vm->mem_size = vm->ram_size + (vm->pc_platform ? 0 : TANDEM_REGION_SIZE);
    vm->nr_vcpus = cfg->vcpus;
    vm->memfd = vm->vm_fd = vm->wake_fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->unpause, NULL);
    pthread_cond_init(&vm->parked_cond, NULL);
    pthread_mutex_init(&vm->poll_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->poll_cond, &ca);
    pthread_condattr_destroy(&ca);
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        fprintf(stderr, "tandem-vmm: /dev/kvm: %s\n", strerror(errno));
        return -1;
    }
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        fprintf(stderr, "tandem-vmm: unsupported KVM API version\n");
        return -1;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        fprintf(stderr, "tandem-vmm: KVM_CREATE_VM: %s\n", strerror(errno));
        return -1;
    }
    vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->wake_fd < 0 || split_irqchip(vm) || create_memory(vm) || map_memory(vm))
        return -1;
    if (vm->xen_hvm && xen_hvm_init(vm))
        return -2;
    vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
    if (!vm->vcpus)
        return -1;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vm->vcpus[i].fd = vm->vcpus[i].timer_fd = vm->vcpus[i].periodic_fd = vm->vcpus[i].irqfd = -1;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vcpu_create(vm, (int)i))
            return -1;
    return 0;
}

#define OVERLAY_SLOT_BASE 3   /* after RAM, the hypercall page and the rest of the region */

int vm_overlay(struct vm *vm, unsigned int n, uint64_t gpa, uint64_t off)
{
    struct kvm_userspace_memory_region r = {
        .slot = OVERLAY_SLOT_BASE + n,
        .guest_phys_addr = gpa,
        .memory_size = gpa ? XEN_PAGE_SIZE : 0,
        .userspace_addr = (uint64_t)(uintptr_t)(vm->mem + off),
    };
    return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -1 : 0;
}

int vm_signal_msi(struct vm *vm, unsigned int vcpu, uint8_t vector)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)TANDEM_LAPIC_GPA | (vcpu << 12),
        .address_hi = 0,
        .data = vector,
    };
    int r = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
    return r < 0 ? -errno : r == 0 ? 1 : 0;   /* KVM: 0 = blocked by the guest */
}

void vm_destroy(struct vm *vm)
{
    for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->run)
            munmap(v->run, v->run_size);
        if (v->fd >= 0)
            close(v->fd);
    }
    if (vm->mem)
        munmap(vm->mem, vm->mem_size);
    if (vm->memfd >= 0)
        close(vm->memfd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
}

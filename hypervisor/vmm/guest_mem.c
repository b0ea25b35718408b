/* Bounds-checked guest memory access (see guest_mem.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest_mem.h"
#include "pc.h"
#include "vmm.h"

static bool range_within(uint64_t gpa, uint64_t len, uint64_t base, uint64_t size)
{
    return gpa >= base && gpa - base <= size && len <= size - (gpa - base);
}

void *gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len, bool write)
{
    if (range_within(gpa, len, 0, vm->ram_low))
        return vm->mem + gpa;
    if (vm->ram_size > vm->ram_low &&
        range_within(gpa, len, PC_HIGH_RAM_GPA, vm->ram_size - vm->ram_low))
        return vm->mem + vm->ram_low + (gpa - PC_HIGH_RAM_GPA);
    if (!vm->pc_platform &&   /* the PC has no platform region */
        range_within(gpa, len, TANDEM_REGION_GPA, TANDEM_REGION_SIZE)) {
        if (write && gpa < TANDEM_HYPERCALL_PAGE_GPA + XEN_PAGE_SIZE)
            return NULL;
        return vm->mem + vm_region_offset(vm, gpa);
    }
    return NULL;
}

/* The largest linear copy: 64 KiB (console_io's bound) from any offset. */
#define COPY_MAX_PAGES (65536 / XEN_PAGE_SIZE + 1)

static __thread struct vcpu *hypercall_vcpu;

void guest_mem_hypercall(struct vcpu *v)
{
    hypercall_vcpu = v && v->vm->xen_hvm ? v : NULL;
}

/* Host pointer for [addr, addr + len) within one page of the linear
 * address space of the vCPU in a hypercall, or of physical memory. */
static void *piece(struct vm *vm, uint64_t addr, uint64_t len, bool write)
{
    if (!hypercall_vcpu)
        return gpa_to_host(vm, addr, len, write);
    struct kvm_translation tr = { .linear_address = addr };
    if (ioctl(hypercall_vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid || (write && !tr.writeable))
        return NULL;
    return gpa_to_host(vm, tr.physical_address, len, write);
}

/* Calls fn for each page-bounded piece of [addr, addr + len); physical
 * ranges are one piece. */
static int each_piece(struct vm *vm, uint64_t addr, size_t len, bool write,
                      void (*fn)(void *host, void *buf, size_t n), uint8_t *buf)
{
    if (!hypercall_vcpu) {
        void *h = gpa_to_host(vm, addr, len, write);
        if (!h)
            return -EFAULT;
        fn(h, buf, len);
        return 0;
    }
    if (addr + len < addr)
        return -EFAULT;
    /* Translate every page first, so a fault part-way writes nothing. */
    void *host[COPY_MAX_PAGES];
    size_t size[COPY_MAX_PAGES], n = 0;
    for (size_t done = 0; done < len; n++) {
        uint64_t a = addr + done;
        size_t chunk = XEN_PAGE_SIZE - (a & (XEN_PAGE_SIZE - 1));
        if (chunk > len - done)
            chunk = len - done;
        if (n == COPY_MAX_PAGES || !(host[n] = piece(vm, a, chunk, write)))
            return -EFAULT;
        size[n] = chunk;
        done += chunk;
    }
    for (size_t i = 0; i < n; i++) {
        fn(host[i], buf, size[i]);
        buf += size[i];
    }
    return 0;
}

static void to_buf(void *host, void *buf, size_t n)
{
    memcpy(buf, host, n);
}

static void from_buf(void *host, void *buf, size_t n)
{
    memcpy(host, buf, n);
}

int copy_from_guest(struct vm *vm, void *dst, uint64_t gpa, size_t len)
{
    return each_piece(vm, gpa, len, false, to_buf, dst);
}

int copy_to_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
    return each_piece(vm, gpa, len, true, from_buf, (uint8_t *)(uintptr_t)src);
}

bool gpa_in_physmap(uint64_t gpa)
{
    return (gpa & (XEN_PAGE_SIZE - 1)) == 0 &&
           range_within(gpa, XEN_PAGE_SIZE, TANDEM_PHYSMAP_GPA, TANDEM_PHYSMAP_SIZE);
}

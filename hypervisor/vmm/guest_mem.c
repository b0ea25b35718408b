/* Bounds-checked guest memory access (see guest_mem.h). */
#include <errno.h>
#include <string.h>

#include "guest_mem.h"
#include "vmm.h"

static bool range_within(uint64_t gpa, uint64_t len, uint64_t base, uint64_t size)
{
    return gpa >= base && gpa - base <= size && len <= size - (gpa - base);
}

void *gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len, bool write)
{
    if (range_within(gpa, len, 0, vm->ram_size))
        return vm->mem + gpa;
    if (range_within(gpa, len, TANDEM_REGION_GPA, TANDEM_REGION_SIZE)) {
        if (write && gpa < TANDEM_HYPERCALL_PAGE_GPA + XEN_PAGE_SIZE)
            return NULL;
        return vm->mem + vm_region_offset(vm, gpa);
    }
    return NULL;
}

int copy_from_guest(struct vm *vm, void *dst, uint64_t gpa, size_t len)
{
    const void *src = gpa_to_host(vm, gpa, len, false);
    if (!src)
        return -EFAULT;
    memcpy(dst, src, len);
    return 0;
}

int copy_to_guest(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
    void *dst = gpa_to_host(vm, gpa, len, true);
    if (!dst)
        return -EFAULT;
    memcpy(dst, src, len);
    return 0;
}

bool gpa_in_physmap(uint64_t gpa)
{
    return (gpa & (XEN_PAGE_SIZE - 1)) == 0 &&
           range_within(gpa, XEN_PAGE_SIZE, TANDEM_PHYSMAP_GPA, TANDEM_PHYSMAP_SIZE);
}

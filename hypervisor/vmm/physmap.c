/*
 * memory_op: where shared_info and the grant frames live, moved with
 * XENMEM_add_to_physmap with their contents carried along: a page of the
 * physmap window or of RAM (which it replaces, as on Xen: Linux puts
 * shared_info on a RAM page), or — grant frames only — any free guest
 * address outside RAM (Linux maps them in an unpopulated hole), where a
 * one-page memory slot shows the frame's backing page in the platform
 * region (TANDEM_OVERLAY_GPA). Also the memory map and the reservation
 * queries.
 */
#include <errno.h>
#include <string.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/memory.h"
#include "vmm.h"

struct shared_info *shared_info_ptr(struct vm *vm)
{
    if (!vm->shared_info_gpa)
        return NULL;
    return gpa_to_host(vm, vm->shared_info_gpa, sizeof(struct shared_info), true);
}

/* Default: slot id of shared_info (ids < 32); else the registered place. */
void *vcpu_info_ptr(struct vm *vm, struct vcpu *v)
{
    if (v->vcpu_info_gpa)
        return gpa_to_host(vm, v->vcpu_info_gpa, sizeof(struct vcpu_info), true);
    struct shared_info *si = shared_info_ptr(vm);
    if (!si || v->id >= XEN_LEGACY_MAX_VCPUS)
        return NULL;
    return &si->vcpu_info[v->id];
}

/* Is gpa already used by another physmap page? */
static bool page_taken(struct vm *vm, uint64_t gpa, int except_frame, bool except_si)
{
    if (!except_si && vm->shared_info_gpa == gpa)
        return true;
    for (unsigned int i = 0; i < TANDEM_MAX_GRANT_FRAMES; i++)
        if ((int)i != except_frame && vm->gnttab_gpa[i] == gpa)
            return true;
    return false;
}

static void move_page(struct vm *vm, uint64_t from, uint64_t to)
{
    uint8_t *src = gpa_to_host(vm, from, XEN_PAGE_SIZE, true);
    uint8_t *dst = gpa_to_host(vm, to, XEN_PAGE_SIZE, true);
    if (src && dst && src != dst) {
        memcpy(dst, src, XEN_PAGE_SIZE);
        memset(src, 0, XEN_PAGE_SIZE);
    }
}

/* Caller holds vm->lock. */
static long place_shared_info(struct vm *vm, uint64_t gpa)
{
    if (page_taken(vm, gpa, -1, true))
        return -EBUSY;
    if (vm->shared_info_gpa && vm->shared_info_gpa != gpa)
        move_page(vm, vm->shared_info_gpa, gpa);
    vm->shared_info_gpa = gpa;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        pvclock_update_vcpu(vm, &vm->vcpus[i]);
    pvclock_update_wallclock(vm);
    return 0;
}

static bool in_ram(struct vm *vm, uint64_t gpa)
{
    return gpa < vm->ram_size && vm->ram_size - gpa >= XEN_PAGE_SIZE;
}

/* A place for an overlay: page aligned, outside RAM, the platform region
 * and the local APIC page, below 1 TiB. */
static bool overlay_place(struct vm *vm, uint64_t gpa)
{
    if ((gpa & (XEN_PAGE_SIZE - 1)) || in_ram(vm, gpa) || gpa >= (1ULL << 40))
        return false;
    if (gpa >= TANDEM_REGION_GPA && gpa < TANDEM_REGION_GPA + TANDEM_REGION_SIZE)
        return false;
    return gpa != TANDEM_LAPIC_GPA;
}

static uint64_t overlay_backing(unsigned int idx)
{
    return TANDEM_OVERLAY_GPA + (uint64_t)idx * XEN_PAGE_SIZE;
}

/* Where frame idx's contents are now (0: nowhere yet). */
static uint64_t frame_home(struct vm *vm, unsigned int idx)
{
    if (!vm->gnttab_gpa[idx])
        return 0;
    return vm->gnttab_overlay[idx] ? overlay_backing(idx) : vm->gnttab_gpa[idx];
}

uint64_t gnttab_frame_offset(struct vm *vm, unsigned int idx)
{
    uint64_t home = frame_home(vm, idx);
    return home < vm->ram_size ? home : vm_region_offset(vm, home);
}

/* Caller holds vm->lock. */
long gnttab_place_frame(struct vm *vm, unsigned int idx, uint64_t gpa)
{
    if (idx >= vm->cfg->grant_frames)
        return -EINVAL;
    bool overlay = !gpa_in_physmap(gpa) && !in_ram(vm, gpa);   /* gpa: a gpfn's, page aligned */
    if (overlay && !overlay_place(vm, gpa))
        return -EINVAL;
    if (page_taken(vm, gpa, (int)idx, false))
        return -EBUSY;
    if (vm->gnttab_gpa[idx] == gpa)
        return 0;
    uint64_t from = frame_home(vm, idx);
    uint64_t to = overlay ? overlay_backing(idx) : gpa;
    if (vm->gnttab_overlay[idx])
        vm_overlay(vm, idx, 0, 0);
    if (overlay && vm_overlay(vm, idx, gpa, vm_region_offset(vm, to))) {
        /* Something of the guest's is there already (KVM refuses an
         * overlapping slot): the frame stays where it was. */
        if (vm->gnttab_overlay[idx])
            vm_overlay(vm, idx, vm->gnttab_gpa[idx], vm_region_offset(vm, overlay_backing(idx)));
        return -EINVAL;
    }
    if (from && from != to)
        move_page(vm, from, to);
    vm->gnttab_gpa[idx] = gpa;
    vm->gnttab_overlay[idx] = overlay;
    if (idx + 1 > vm->gnttab_nr_frames)
        vm->gnttab_nr_frames = idx + 1;
    return 0;
}

static long add_to_physmap(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct xen_add_to_physmap x;
    if (copy_from_guest(vm, &x, arg, sizeof(x)))
        return -EFAULT;
    if (!is_self_domid(v, x.domid))
        return -ESRCH;
    if (x.gpfn >= (1ULL << 40))
        return -EINVAL;
    uint64_t gpa = (uint64_t)x.gpfn << XEN_PAGE_SHIFT;
    long r;
    pthread_mutex_lock(&vm->lock);
    if (x.space == XENMAPSPACE_shared_info && x.idx == 0)
        r = gpa_in_physmap(gpa) || in_ram(vm, gpa) ? place_shared_info(vm, gpa) : -EINVAL;
    else if (x.space == XENMAPSPACE_grant_table && !(x.idx & XENMAPIDX_grant_table_status))
        r = gnttab_place_frame(vm, (unsigned int)(x.idx < TANDEM_MAX_GRANT_FRAMES ? x.idx : ~0u), gpa);
    else
        r = -EINVAL;
    pthread_mutex_unlock(&vm->lock);
    return r;
}

static long memory_map(struct vcpu *v, uint64_t arg)
{
    struct vm *vm = v->vm;
    struct xen_memory_map m;
    if (copy_from_guest(vm, &m, arg, sizeof(m)))
        return -EFAULT;
    struct e820entry e[3] = {
        { 0, vm->ram_size, E820_RAM },
        { TANDEM_REGION_GPA, TANDEM_REGION_SIZE, E820_RESERVED },
        { TANDEM_LAPIC_GPA, XEN_PAGE_SIZE, E820_RESERVED },
    };
    unsigned int n = m.nr_entries < 3 ? m.nr_entries : 3;
    if (n < 3)
        return -EINVAL;
    if (copy_to_guest(vm, m.buffer, e, n * sizeof(e[0])))
        return -EFAULT;
    m.nr_entries = n;
    return copy_to_guest(vm, arg, &m, sizeof(m)) ? -EFAULT : 0;
}

static long reservation(struct vcpu *v, uint64_t arg)
{
    domid_t dom;
    if (copy_from_guest(v->vm, &dom, arg, sizeof(dom)))
        return -EFAULT;
    if (!is_self_domid(v, dom))
        return -ESRCH;
    return (long)(v->vm->ram_size >> XEN_PAGE_SHIFT);
}

long hc_memory_op(struct vcpu *v, const uint64_t a[5])
{
    switch (a[0]) {
    case XENMEM_add_to_physmap:
        return add_to_physmap(v, a[1]);
    case XENMEM_memory_map:
        return memory_map(v, a[1]);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        return reservation(v, a[1]);
    case XENMEM_maximum_ram_page:
        return (long)(v->vm->ram_size >> XEN_PAGE_SHIFT) - 1;
    }
    return -ENOSYS;
}

/*
 * grant_table_op for the granting guest: v1 tables in frames of the physmap
 * window (XENMEM_add_to_physmap or GNTTABOP_setup_table place them).
 * Mapping grants is dom0's business (the dom0 grant library reads the
 * frames through the memfd); this side answers query_size and setup_table.
 */
#include <errno.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "public/grant_table.h"
#include "vmm.h"

long gnttab_place_frame(struct vm *vm, unsigned int idx, uint64_t gpa);

static long query_size(struct vcpu *v, uint64_t arg)
{
    struct gnttab_query_size q;
    if (copy_from_guest(v->vm, &q, arg, sizeof(q)))
        return -EFAULT;
    if (!is_self_domid(v, q.dom)) {
        q.status = GNTST_bad_domain;
    } else {
        pthread_mutex_lock(&v->vm->lock);
        q.nr_frames = v->vm->gnttab_nr_frames;
        pthread_mutex_unlock(&v->vm->lock);
        q.max_nr_frames = v->vm->cfg->grant_frames;
        q.status = GNTST_okay;
    }
    return copy_to_guest(v->vm, arg, &q, sizeof(q)) ? -EFAULT : 0;
}

/* Frames not placed yet go to their default pages after shared_info. */
static int16_t setup_frames(struct vm *vm, uint32_t n, xen_pfn_t *out)
{
    if (n > vm->cfg->grant_frames)
        return GNTST_general_error;
    pthread_mutex_lock(&vm->lock);
    int16_t st = GNTST_okay;
    for (uint32_t i = 0; i < n && st == GNTST_okay; i++) {
        if (!vm->gnttab_gpa[i] &&
            gnttab_place_frame(vm, i, TANDEM_DEFAULT_GNTTAB_GPA + (uint64_t)i * XEN_PAGE_SIZE))
            st = GNTST_general_error;
        out[i] = vm->gnttab_gpa[i] >> XEN_PAGE_SHIFT;
    }
    pthread_mutex_unlock(&vm->lock);
    return st;
}

static long setup_table(struct vcpu *v, uint64_t arg)
{
    struct gnttab_setup_table s;
    xen_pfn_t frames[TANDEM_MAX_GRANT_FRAMES];
    if (copy_from_guest(v->vm, &s, arg, sizeof(s)))
        return -EFAULT;
    if (!is_self_domid(v, s.dom))
        s.status = GNTST_bad_domain;
    else
        s.status = setup_frames(v->vm, s.nr_frames, frames);
    if (s.status == GNTST_okay &&
        copy_to_guest(v->vm, s.frame_list, frames, s.nr_frames * sizeof(frames[0])))
        s.status = GNTST_bad_virt_addr;
    return copy_to_guest(v->vm, arg, &s, sizeof(s)) ? -EFAULT : 0;
}

long hc_grant_table_op(struct vcpu *v, const uint64_t a[5])
{
    uint64_t cmd = a[0], arg = a[1], count = a[2];
    if (count != 1)
        return count == 0 ? 0 : -EINVAL;
    switch (cmd) {
    case GNTTABOP_query_size:
        return query_size(v, arg);
    case GNTTABOP_setup_table:
        return setup_table(v, arg);
    case GNTTABOP_set_version: {
        struct gnttab_set_version sv;
        if (copy_from_guest(v->vm, &sv, arg, sizeof(sv)))
            return -EFAULT;
        return sv.version == 1 ? 0 : -EINVAL;
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version gv;
        if (copy_from_guest(v->vm, &gv, arg, sizeof(gv)))
            return -EFAULT;
        gv.version = 1;
        return copy_to_guest(v->vm, arg, &gv, sizeof(gv)) ? -EFAULT : 0;
    }
    }
    return -ENOSYS;
}

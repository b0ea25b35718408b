/*
 * Restore (tandem-vmm --restore FILE): a new domain from a save file
 * (docs/save-restore.md). The header is parsed and checked first (savefile.c),
 * then memory is read and its checksum compared before anything is
 * registered or run, so a bad file starts nothing. What the VMM puts back:
 * memory, vCPUs, the clock (system time continues), where shared_info,
 * vcpu_info and the grant frames are, the upcall vectors. What it does not
 * (as on Xen, the guest rebuilds them when SCHEDOP_shutdown returns 0):
 * event channels other than the xenstore and console ports, timers, and
 * every dom0 binding. The xenstore ring's indices start again at 0, for
 * the new xenstored connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "public/io/xs_wire.h"
#include "restore.h"
#include "vcpu_state.h"
#include "vmm.h"

#define READ_CHUNK (1u << 20)


int restore_open(struct restore *rs, struct vmm_config *cfg, char *err, size_t errlen)
{
    struct save_expect x;
    vcpu_state_expect(&x);
    rs->fd = save_file_open(cfg->restore, &x, false, &rs->h, &rs->hdr, err, errlen);
    if (rs->fd < 0)
        return -1;
    const struct save_header *h = &rs->h;
    /* The machine is the saved one; who it is (domid, name, uuid) is ours. */
    cfg->memory_mib = h->memory_mib;
    cfg->vcpus = h->vcpus;
    cfg->grant_frames = h->grant_frames;
    cfg->cmdline = h->cmdline;
    /* The mode it ran in (the guest chose its interrupt gate at boot): a
     * pvm-mode save restores only on a PVM host (main.c says so). */
    cfg->cpu_mode = strcmp(h->cpu_mode, "pvm") ? CPU_MODE_PLAIN : CPU_MODE_PVM;
    if (!cfg->kernel)
        cfg->kernel = h->kernel;
    return 0;
}

void restore_close(struct restore *rs)
{
    save_file_close(rs->fd, &rs->h, rs->hdr);
    rs->fd = -1;
    rs->hdr = NULL;
}

int restore_memory(struct restore *rs, struct vm *vm, char *err, size_t errlen)
{
    const struct save_header *h = &rs->h;
    if (h->mem_size != vm->mem_size)
        return vmm_fail(err, errlen, "memory is %llu bytes, the file's %llu",
                    (unsigned long long)vm->mem_size, (unsigned long long)h->mem_size);
    uint64_t sum = SAVE_CHECKSUM_INIT, off = h->data_offset;
    for (unsigned int i = 0; i < h->nr_extents; i++) {
        const struct save_extent *e = &h->extents[i];
        for (uint64_t done = 0; done < e->len;) {
            size_t n = e->len - done < READ_CHUNK ? (size_t)(e->len - done) : READ_CHUNK;
            uint8_t *dst = vm->mem + e->offset + done;
            if (save_pread_full(rs->fd, dst, n, off))
                return vmm_fail(err, errlen, "reading guest memory: %s",
                            errno ? strerror(errno) : "short read");
            sum = save_checksum(sum, dst, n);
            off += n;
            done += n;
        }
    }
    if (sum != h->mem_checksum)
        return vmm_fail(err, errlen, "guest memory checksum mismatch (the file is corrupted)");
    return 0;
}

/* System time goes on from where it was saved: the downtime is not the
 * guest's (its timeouts do not expire across a restore). vcpu_time_info is
 * written into the guest's own vcpu_info (its gpa is restored) before it
 * runs, so both sides agree from the first instruction; the wallclock is
 * boot time + system time, so it is moved by the downtime. */
static void restore_clock(struct vm *vm, const struct save_header *h)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t real = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    vm->ref_tsc = __builtin_ia32_rdtsc();
    vm->ref_ns = h->saved_ns;
    vm->boot_realtime_ns = real > h->saved_ns ? real - h->saved_ns : 0;
}

static void reset_xenstore_ring(struct vm *vm)
{
    struct xenstore_domain_interface *x =
        (void *)(vm->mem + vm_region_offset(vm, TANDEM_XENSTORE_RING_GPA));
    x->req_cons = x->req_prod = x->rsp_cons = x->rsp_prod = 0;
}

int restore_state(struct restore *rs, struct vm *vm, char *err, size_t errlen)
{
    const struct save_header *h = &rs->h;
    restore_clock(vm, h);
    reset_xenstore_ring(vm);
    pthread_mutex_lock(&vm->lock);
    vm->shared_info_gpa = h->shared_info_gpa ? h->shared_info_gpa : TANDEM_DEFAULT_SHARED_INFO_GPA;
    vm->callback_irq = h->callback_irq;
    vm->callback_vector = h->callback_irq ? (uint8_t)(h->callback_irq & 0xff) : 0;
    for (unsigned int i = 0; i < h->gnttab_nr_frames; i++)
        vm->gnttab_gpa[i] = h->gnttab_frames[i];
    vm->gnttab_nr_frames = h->gnttab_nr_frames;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        v->initialised = h->cpu[i].initialised;
        v->up = h->cpu[i].up;
        v->vcpu_info_gpa = h->cpu[i].vcpu_info_gpa;
        v->upcall_vector = (uint8_t)h->cpu[i].upcall_vector;
    }
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        pvclock_update_vcpu(vm, &vm->vcpus[i]);
    pvclock_update_wallclock(vm);
    pthread_mutex_unlock(&vm->lock);
    evtchn_init(vm);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vcpu_state_set(&vm->vcpus[i], &h->cpu[i], err, errlen))
            return -1;
    return 0;
}

int restore_start_vcpus(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i].up && vcpu_start(&vm->vcpus[i]))
            return -1;
    return 0;
}

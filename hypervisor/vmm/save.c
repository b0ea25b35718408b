/*
 * Save: the state of a suspended domain into one file (docs/save-restore.md).
 * The guest has called SCHEDOP_shutdown(SHUTDOWN_suspend) and every vCPU
 * is parked, so memory and registers hold still. The file is written
 * beside its final name and renamed into place, so a failed save leaves
 * nothing behind; the VMM resumes the guest then (the caller).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "errmsg.h"
#include "savefile.h"
#include "vcpu_state.h"
#include "vmm.h"

#define PAGE 4096ULL
#define PARK_TIMEOUT_MS 5000
#define WRITE_CHUNK (1u << 20)


static char *read_text(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vmm_fail(err, errlen, "toolstack config %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = calloc(1, SAVE_TEXT_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (buf && len <= SAVE_TEXT_MAX &&
           (n = read(fd, buf + len, SAVE_TEXT_MAX + 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (!buf || n < 0 || len > SAVE_TEXT_MAX || strlen(buf) != len) {
        vmm_fail(err, errlen, "toolstack config %s: unreadable, longer than %d bytes or binary", path,
             SAVE_TEXT_MAX);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Populated ranges of the memory file (SEEK_DATA/SEEK_HOLE), whole pages;
 * all of it if the file system cannot tell. */
static int find_extents(struct vm *vm, struct save_header *h, char *err, size_t errlen)
{
    size_t cap = 64;
    h->extents = calloc(cap, sizeof(*h->extents));
    if (!h->extents)
        return vmm_fail(err, errlen, "out of memory");
    off_t end = (off_t)vm->mem_size, pos = 0;
    h->nr_extents = 0;
    while (pos < end) {
        off_t data = lseek(vm->memfd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break;
        if (data < 0) {   /* no hole information: everything */
            h->extents[0] = (struct save_extent){ 0, vm->mem_size };
            h->nr_extents = 1;
            return 0;
        }
        off_t hole = lseek(vm->memfd, data, SEEK_HOLE);
        if (hole < 0 || hole > end)
            hole = end;
        uint64_t a = (uint64_t)data & ~(PAGE - 1), b = ((uint64_t)hole + PAGE - 1) & ~(PAGE - 1);
        if (b > vm->mem_size)
            b = vm->mem_size;
        if (h->nr_extents && h->extents[h->nr_extents - 1].offset + h->extents[h->nr_extents - 1].len >= a) {
            struct save_extent *last = &h->extents[h->nr_extents - 1];
            last->len = b - last->offset;
        } else {
            if (h->nr_extents == cap) {
                if (cap >= SAVE_MAX_EXTENTS)
                    return vmm_fail(err, errlen, "guest memory has more than %d populated ranges",
                                SAVE_MAX_EXTENTS);
                cap *= 2;
                struct save_extent *n = realloc(h->extents, cap * sizeof(*n));
                if (!n)
                    return vmm_fail(err, errlen, "out of memory");
                h->extents = n;
            }
            h->extents[h->nr_extents++] = (struct save_extent){ a, b - a };
        }
        pos = (off_t)b;
    }
    return 0;
}

static uint64_t timer_left_ns(int fd, bool interval)
{
    struct itimerspec its;
    if (timerfd_gettime(fd, &its) < 0)
        return 0;
    struct timespec t = interval ? its.it_interval : its.it_value;
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Caller holds vm->lock. */
static int fill_devices(struct vm *vm, struct save_header *h, char *err, size_t errlen)
{
    h->shared_info_gpa = vm->shared_info_gpa;
    h->callback_irq = vm->callback_irq;
    h->gnttab_version = 1;
    h->gnttab_max_frames = vm->cfg->grant_frames;
    for (unsigned int i = 0; i < vm->gnttab_nr_frames && vm->gnttab_gpa[i]; i++)
        h->gnttab_frames[h->gnttab_nr_frames++] = vm->gnttab_gpa[i];
    h->ports = calloc(VMM_NR_PORTS, sizeof(*h->ports));
    if (!h->ports)
        return vmm_fail(err, errlen, "out of memory");
    for (unsigned int p = 1; p < VMM_NR_PORTS; p++) {
        const struct evtchn *e = &vm->ports[p];
        if (e->state == ECS_FREE)
            continue;
        h->ports[h->nr_ports++] = (struct save_port){ p, e->state, e->virq, e->vcpu,
                                                      e->remote_dom, e->remote_port };
    }
    h->xenstore_ring = TANDEM_XENSTORE_RING_GPA;
    h->xenstore_port = TANDEM_XENSTORE_PORT;
    h->console_ring = TANDEM_CONSOLE_RING_GPA;
    h->console_port = TANDEM_CONSOLE_PORT;
    return 0;
}

static void fill_config_clock(struct vm *vm, struct save_header *h)
{
    const struct vmm_config *c = vm->cfg;
    h->memory_mib = c->memory_mib;
    h->vcpus = vm->nr_vcpus;
    h->grant_frames = c->grant_frames;
    h->domid = c->domid;
    h->name = c->name;
    h->uuid = c->uuid;
    h->cmdline = c->cmdline;
    h->cpu_mode = vm->pvm ? "pvm" : "plain";
    h->kernel = c->kernel ? c->kernel : "";
    h->tsc_khz = vm->tsc_khz;
    h->tsc_mul = vm->tsc_mul;
    h->tsc_shift = vm->tsc_shift;
    h->ref_tsc = vm->ref_tsc;
    h->ref_ns = vm->ref_ns;
    h->boot_realtime_ns = vm->boot_realtime_ns;
    h->saved_tsc = __builtin_ia32_rdtsc();
    h->saved_ns = pvclock_now(vm);
    h->ram_size = vm->ram_size;
    h->mem_size = vm->mem_size;
}

static int fill_vcpus(struct vm *vm, struct save_header *h, struct vcpu_saved *saved, char *err,
                      size_t errlen)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (vcpu_state_get(v, &saved[i], err, errlen))
            return -1;
        if (i == vm->suspend_vcpu)
            saved[i].regs.rax = 0;   /* the new domain's SCHEDOP_shutdown returns 0 */
        struct save_vcpu *c = &h->cpu[i];
        vcpu_state_describe(&saved[i], c);
        pthread_mutex_lock(&vm->lock);
        c->initialised = v->initialised;
        c->up = v->up;
        c->vcpu_info_gpa = v->vcpu_info_gpa;
        c->upcall_vector = v->upcall_vector;
        pthread_mutex_unlock(&vm->lock);
        uint64_t left = timer_left_ns(v->timer_fd, false);
        c->timer_deadline_ns = left ? h->saved_ns + left : 0;
        c->periodic_ns = timer_left_ns(v->periodic_fd, true);
    }
    return 0;
}

static int write_memory(struct vm *vm, int fd, struct save_header *h)
{
    uint64_t sum = SAVE_CHECKSUM_INIT, off = h->data_offset;
    for (unsigned int i = 0; i < h->nr_extents; i++) {
        const struct save_extent *e = &h->extents[i];
        for (uint64_t done = 0; done < e->len;) {
            size_t n = e->len - done < WRITE_CHUNK ? (size_t)(e->len - done) : WRITE_CHUNK;
            const uint8_t *src = vm->mem + e->offset + done;
            if (save_pwrite_full(fd, src, n, off))
                return -1;
            sum = save_checksum(sum, src, n);
            off += n;
            done += n;
        }
    }
    h->mem_checksum = sum;
    return 0;
}

static int write_file(struct vm *vm, const char *path, struct save_header *h, char *err,
                      size_t errlen)
{
    void *blob = NULL;
    size_t len = 0, len2 = 0;
    if (save_header_build(h, &blob, &len, err, errlen))
        return -1;
    free(blob);
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.partial", path) < 0)
        return vmm_fail(err, errlen, "out of memory");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = -1;
    if (fd < 0)
        vmm_fail(err, errlen, "%s: %s", tmp, strerror(errno));
    else if (write_memory(vm, fd, h))
        vmm_fail(err, errlen, "%s: writing guest memory: %s", tmp, strerror(errno));
    else if (save_header_build(h, &blob, &len2, err, errlen))
        ;
    else if (len2 != len)
        vmm_fail(err, errlen, "save header changed size (%zu, then %zu bytes)", len, len2);
    else if (save_pwrite_full(fd, blob, len2, 0) || fdatasync(fd) < 0)
        vmm_fail(err, errlen, "%s: writing the header: %s", tmp, strerror(errno));
    else if (rename(tmp, path) < 0)
        vmm_fail(err, errlen, "renaming %s to %s: %s", tmp, path, strerror(errno));
    else
        r = 0;
    free(blob);
    if (fd >= 0)
        close(fd);
    if (r)
        unlink(tmp);
    free(tmp);
    return r;
}

int vm_save(struct vm *vm, const char *path, const char *toolstack, char *err, size_t errlen)
{
    if (!atomic_load(&vm->suspended))
        return vmm_fail(err, errlen, "the domain has not suspended");
    if (vm->xen_hvm)
        return vmm_fail(err, errlen, "a guest on the Xen HVM platform (Linux) cannot be saved yet: "
                        "its KVM Xen state, overlay pages and ACPI are not in the save file");
    if (vm_wait_parked(vm, PARK_TIMEOUT_MS))
        return vmm_fail(err, errlen, "the vCPUs did not stop within %d ms", PARK_TIMEOUT_MS);
    struct save_header *h = calloc(1, sizeof(*h));
    struct vcpu_saved *saved = calloc(vm->nr_vcpus, sizeof(*saved));
    char *text = toolstack ? read_text(toolstack, err, errlen) : NULL;
    int r = -1;
    if (!h || !saved)
        vmm_fail(err, errlen, "out of memory");
    else if (!toolstack || text) {
        fill_config_clock(vm, h);
        h->toolstack = text ? text : "";
        pthread_mutex_lock(&vm->lock);
        int d = fill_devices(vm, h, err, errlen);
        pthread_mutex_unlock(&vm->lock);
        if (d == 0 && fill_vcpus(vm, h, saved, err, errlen) == 0 &&
            find_extents(vm, h, err, errlen) == 0)
            r = write_file(vm, path, h, err, errlen);
    }
    for (unsigned int i = 0; saved && i < vm->nr_vcpus; i++)
        vcpu_state_free(&saved[i]);
    if (h)
        save_header_free(h);
    free(h);
    free(saved);
    free(text);
    return r;
}

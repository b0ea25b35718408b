/*
 * --stats: on exit, per vCPU, our own exit and hypercall counters and
 * KVM's binary statistics (KVM_GET_STATS_FD), to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

static const char *const exit_names[] = {
    [KVM_EXIT_IO] = "io", [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_HLT] = "hlt",
    [KVM_EXIT_SHUTDOWN] = "shutdown", [KVM_EXIT_INTR] = "intr",
    [KVM_EXIT_INTERNAL_ERROR] = "internal_error", [KVM_EXIT_FAIL_ENTRY] = "fail_entry",
    [KVM_EXIT_SYSTEM_EVENT] = "system_event",
};

/* Prints every cumulative KVM statistic of one vCPU as name=value. */
static void kvm_stats(struct vcpu *v)
{
    int fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
    if (fd < 0) {
        fprintf(stderr, "  kvm: (no binary stats)\n");
        return;
    }
    struct kvm_stats_header h;
    if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 || h.name_size > 256) {
        close(fd);
        return;
    }
    size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
    char *descs = malloc(dsz * h.num_desc);
    if (!descs || pread(fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc)) {
        free(descs);
        close(fd);
        return;
    }
    fprintf(stderr, "  kvm:");
    for (uint32_t i = 0; i < h.num_desc; i++) {
        struct kvm_stats_desc *d = (void *)(descs + i * dsz);
        uint64_t val;
        if (d->size != 1 || pread(fd, &val, sizeof(val), h.data_offset + d->offset) != sizeof(val))
            continue;
        if (val)
            fprintf(stderr, " %.*s=%llu", (int)h.name_size, d->name, (unsigned long long)val);
    }
    fprintf(stderr, "\n");
    free(descs);
    close(fd);
}

void stats_print(struct vm *vm)
{
    fprintf(stderr, "tandem-vmm stats: domain %u, dropped events %llu\n", vm->cfg->domid,
            (unsigned long long)vm->dropped_events);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        uint64_t total = 0;
        for (int r = 0; r < VMM_NR_EXIT_REASONS; r++)
            total += v->exits[r];
        struct kvm_mp_state mp = { 0 };
        if (v->thread_started && ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0) {
            char why[48];
            snprintf(why, sizeof(why), "registers at exit (mp_state %u)", mp.mp_state);
            vcpu_dump(v, why);
        }
        fprintf(stderr, "vcpu%u: exits=%llu", i, (unsigned long long)total);
        for (int r = 0; r < VMM_NR_EXIT_REASONS; r++)
            if (v->exits[r])
                fprintf(stderr, " %s=%llu",
                        r < (int)(sizeof(exit_names) / sizeof(exit_names[0])) && exit_names[r]
                            ? exit_names[r] : "other",
                        (unsigned long long)v->exits[r]);
        fprintf(stderr, " doorbells=%llu unknown_hypercalls=%llu unhandled_io=%llu "
                        "unhandled_mmio=%llu\n  hypercalls:",
                (unsigned long long)v->doorbells, (unsigned long long)v->unknown_hypercalls,
                (unsigned long long)v->unhandled_io, (unsigned long long)v->unhandled_mmio);
        for (int n = 0; n < VMM_NR_HYPERCALLS; n++)
            if (v->hypercalls[n])
                fprintf(stderr, " %d=%llu", n, (unsigned long long)v->hypercalls[n]);
        fprintf(stderr, "\n");
        kvm_stats(v);
    }
}

/*
 * --stats: on exit, per vCPU, our own exit and hypercall counters and
 * KVM's binary statistics (KVM_GET_STATS_FD), then the event channels as
 * the guest left them (each bound port pending/masked, each vCPU's upcall
 * flag, selector and vector) and the xenstore and console rings' indexes,
 * to stderr: what tells a lost event from a request never answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "evtchn_2l.h"
#include "guest_mem.h"
#include "public/io/console.h"
#include "public/io/xs_wire.h"
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

static void events_print(struct vm *vm)
{
    static const char *const st[] = { [ECS_FREE] = "free", [ECS_UNBOUND] = "unbound",
                                       [ECS_INTERDOMAIN] = "interdomain", [ECS_VIRQ] = "virq",
                                       [ECS_IPI] = "ipi" };
    struct shared_info *si = shared_info_ptr(vm);
    fprintf(stderr, "events: callback_irq=%#llx callback_vector=%#x shared_info=%s\n",
            (unsigned long long)vm->callback_irq, vm->callback_vector, si ? "mapped" : "none");
    if (!si)
        return;
    fprintf(stderr, "  ports:");
    for (evtchn_port_t p = 1; p < VMM_NR_PORTS; p++) {
        const struct evtchn *e = &vm->ports[p];
        if (e->state == ECS_FREE)
            continue;
        fprintf(stderr, " %u=%s/vcpu%u%s%s%s", p, e->state < sizeof(st) / sizeof(st[0]) ? st[e->state] : "?", e->vcpu,
                evtchn_2l_is_pending(si, p) ? "/pending" : "",
                evtchn_2l_is_masked(si, p) ? "/masked" : "", e->kick_fd >= 0 ? "/held" : "");
    }
    fprintf(stderr, "\n  VMM services:");
    for (unsigned int i = 0; i < vm->nr_local_ports; i++) {
        const struct evtchn_local *l = &vm->local_ports[i];
        fprintf(stderr, " %u=%s%s", l->port, l->kick_fd >= 0 ? "linked" : "waiting",
                l->taken ? "/taken" : "");
    }
    fprintf(stderr, "\n");
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        struct vcpu_info *vi = vcpu_info_ptr(vm, v);
        if (!vi)
            continue;
        fprintf(stderr, "  vcpu%u: vcpu_info=%s upcall_pending=%u upcall_mask=%u pending_sel=%#llx "
                        "upcall_vector=%#x%s\n",
                i, v->vcpu_info_gpa ? "registered" : "shared_info", vi->evtchn_upcall_pending,
                vi->evtchn_upcall_mask, (unsigned long long)vi->evtchn_pending_sel,
                v->upcall_vector, atomic_load(&v->upcall_owed) ? " upcall owed (refused)" : "");
    }
    const struct xenstore_domain_interface *xs =
        gpa_to_host(vm, TANDEM_XENSTORE_RING_GPA, sizeof(*xs), false);
    if (xs)
        fprintf(stderr, "  xenstore ring: req cons=%u prod=%u, rsp cons=%u prod=%u, "
                        "connection=%u error=%u\n",
                xs->req_cons, xs->req_prod, xs->rsp_cons, xs->rsp_prod, xs->connection,
                xs->error);
    const struct xencons_interface *cons =
        gpa_to_host(vm, TANDEM_CONSOLE_RING_GPA, sizeof(*cons), false);
    if (cons)
        fprintf(stderr, "  console ring: in cons=%u prod=%u, out cons=%u prod=%u\n",
                cons->in_cons, cons->in_prod, cons->out_cons, cons->out_prod);
}

void stats_print(struct vm *vm)
{
    fprintf(stderr, "tandem-vmm stats: domain %u, dropped events %llu, upcalls signalled again %llu\n",
            vm->cfg->domid, (unsigned long long)vm->dropped_events,
            (unsigned long long)vm->upcalls_resent);
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
    events_print(vm);
    fprintf(stderr, "tandem-vmm stats end\n");
}

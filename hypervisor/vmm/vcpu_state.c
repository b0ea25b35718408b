/*
 * A vCPU's architectural state for save and restore: KVM regs, sregs,
 * xsave, xcrs, the MSRs a 64-bit guest uses (in pvm mode also PVM's VIF
 * page MSR), the LAPIC, the mp_state and pending events. Read and written by the main thread while
 * the vCPU's thread is parked outside KVM_RUN (vcpu.c settles a pending
 * port-I/O exit first, so rip is past the instruction).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "public/tandem.h"
#include "vcpu_state.h"
#include "vmm.h"

/* The MSRs a 64-bit kernel programs (syscall, sysenter, swapgs, PAT, ...).
 * The TSC is not among them: the guest's TSC is the host's (offset 0). */
static const uint32_t saved_msrs[] = {
    0x174, 0x175, 0x176,           /* SYSENTER_CS/ESP/EIP */
    0x1a0,                         /* MISC_ENABLE */
    0x277,                         /* PAT */
    0x2ff,                         /* MTRR default type */
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
    0xc0000102,                    /* KERNEL_GS_BASE */
    0xc0000103,                    /* TSC_AUX */
};

int vcpu_msr_get(struct vcpu *v, uint32_t index, uint64_t *value)
{
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e;
    } m = { .h.nmsrs = 1, .e.index = index };
    if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
        return -1;
    *value = m.e.data;
    return 0;
}

static size_t xsave_size(struct vm *vm)
{
#ifdef KVM_CAP_XSAVE2
    int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    if (n > (int)sizeof(struct kvm_xsave))
        return (size_t)n;
#else
    (void)vm;
#endif
    return sizeof(struct kvm_xsave);
}

static int fail(char *err, size_t len, struct vcpu *v, const char *what)
{
    snprintf(err, len, "vCPU %d: %s: %s", v->id, what, strerror(errno));
    return -1;
}

int vcpu_state_get(struct vcpu *v, struct vcpu_saved *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->xsave_len = xsave_size(v->vm);
    s->xsave = calloc(1, s->xsave_len);
    if (!s->xsave)
        return fail(err, errlen, v, "xsave buffer");
    unsigned long get_xsave = KVM_GET_XSAVE;
#ifdef KVM_GET_XSAVE2
    if (s->xsave_len > sizeof(struct kvm_xsave))
        get_xsave = KVM_GET_XSAVE2;
#endif
    if (ioctl(v->fd, KVM_GET_REGS, &s->regs) < 0)
        return fail(err, errlen, v, "KVM_GET_REGS");
    if (ioctl(v->fd, KVM_GET_SREGS, &s->sregs) < 0)
        return fail(err, errlen, v, "KVM_GET_SREGS");
    if (ioctl(v->fd, get_xsave, s->xsave) < 0)
        return fail(err, errlen, v, "KVM_GET_XSAVE");
    if (ioctl(v->fd, KVM_GET_XCRS, &s->xcrs) < 0)
        return fail(err, errlen, v, "KVM_GET_XCRS");
    if (ioctl(v->fd, KVM_GET_LAPIC, &s->lapic) < 0)
        return fail(err, errlen, v, "KVM_GET_LAPIC");
    if (ioctl(v->fd, KVM_GET_MP_STATE, &s->mp) < 0)
        return fail(err, errlen, v, "KVM_GET_MP_STATE");
    if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
        return fail(err, errlen, v, "KVM_GET_VCPU_EVENTS");
    for (size_t i = 0; i < sizeof(saved_msrs) / sizeof(saved_msrs[0]); i++) {
        uint64_t val;
        if (vcpu_msr_get(v, saved_msrs[i], &val) == 0 && s->nr_msrs < VCPU_SAVED_MSRS) {
            s->msrs[s->nr_msrs].index = saved_msrs[i];
            s->msrs[s->nr_msrs].value = val;
            s->nr_msrs++;
        }
    }
    /* pvm mode: the VIF page's gpa and flags (the page itself is guest
     * memory, saved with it). Without it the restored vCPU would run in
     * KVM's emulator with its interrupts gated by a page KVM no longer
     * reads, so it is required. */
    if (v->vm->pvm) {
        uint64_t vif;
        if (vcpu_msr_get(v, PVM_MSR_VIF, &vif) < 0)
            return fail(err, errlen, v, "KVM_GET_MSRS of PVM's VIF page");
        s->msrs[s->nr_msrs].index = PVM_MSR_VIF;
        s->msrs[s->nr_msrs].value = vif;
        s->nr_msrs++;
    }
    return 0;
}

void vcpu_state_free(struct vcpu_saved *s)
{
    free(s->xsave);
    s->xsave = NULL;
}

void vcpu_state_describe(const struct vcpu_saved *s, struct save_vcpu *c)
{
    c->regs = (struct save_blob){ &s->regs, sizeof(s->regs) };
    c->sregs = (struct save_blob){ &s->sregs, sizeof(s->sregs) };
    c->xsave = (struct save_blob){ s->xsave, s->xsave_len };
    c->xcrs = (struct save_blob){ &s->xcrs, sizeof(s->xcrs) };
    c->lapic = (struct save_blob){ &s->lapic, sizeof(s->lapic) };
    c->mp_state = (struct save_blob){ &s->mp, sizeof(s->mp) };
    c->events = (struct save_blob){ &s->events, sizeof(s->events) };
    c->nr_msrs = s->nr_msrs;
    for (unsigned int i = 0; i < s->nr_msrs; i++)
        c->msrs[i] = s->msrs[i];
}

void vcpu_state_expect(struct save_expect *x)
{
    x->regs = sizeof(struct kvm_regs);
    x->sregs = sizeof(struct kvm_sregs);
    x->xcrs = sizeof(struct kvm_xcrs);
    x->lapic = sizeof(struct kvm_lapic_state);
    x->mp_state = sizeof(struct kvm_mp_state);
    x->events = sizeof(struct kvm_vcpu_events);
    x->xsave_min = sizeof(struct kvm_xsave);
}

/* The blobs' sizes were checked by the parser (vcpu_state_expect). */
int vcpu_state_set(struct vcpu *v, const struct save_vcpu *c, char *err, size_t errlen)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_vcpu_events ev;
    memcpy(&regs, c->regs.data, sizeof(regs));
    memcpy(&sregs, c->sregs.data, sizeof(sregs));
    memcpy(&xcrs, c->xcrs.data, sizeof(xcrs));
    memcpy(&lapic, c->lapic.data, sizeof(lapic));
    memcpy(&mp, c->mp_state.data, sizeof(mp));
    memcpy(&ev, c->events.data, sizeof(ev));
    size_t xlen = xsave_size(v->vm);
    void *xsave = calloc(1, xlen > c->xsave.len ? xlen : c->xsave.len);
    if (!xsave)
        return fail(err, errlen, v, "xsave buffer");
    memcpy(xsave, c->xsave.data, c->xsave.len);
    int r = -1;
    /* sregs before regs (mode), the LAPIC before events (pending IRQs). */
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
        fail(err, errlen, v, "KVM_SET_SREGS");
    else if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
        fail(err, errlen, v, "KVM_SET_REGS");
    else if (ioctl(v->fd, KVM_SET_XSAVE, xsave) < 0)
        fail(err, errlen, v, "KVM_SET_XSAVE");
    else if (ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0)
        fail(err, errlen, v, "KVM_SET_XCRS");
    else if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
        fail(err, errlen, v, "KVM_SET_LAPIC");
    else if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        fail(err, errlen, v, "KVM_SET_VCPU_EVENTS");
    else if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
        fail(err, errlen, v, "KVM_SET_MP_STATE");
    else
        r = 0;
    free(xsave);
    for (unsigned int i = 0; r == 0 && i < c->nr_msrs; i++) {
        struct {
            struct kvm_msrs h;
            struct kvm_msr_entry e;
        } m = { .h.nmsrs = 1, .e.index = c->msrs[i].index, .e.data = c->msrs[i].value };
        if (ioctl(v->fd, KVM_SET_MSRS, &m) == 1)
            continue;
        if (c->msrs[i].index == PVM_MSR_VIF) {   /* see vcpu_state_get */
            snprintf(err, errlen, "vCPU %d: KVM refuses PVM's VIF page %#llx (MSR %#x)", v->id,
                     (unsigned long long)c->msrs[i].value, PVM_MSR_VIF);
            r = -1;
        } else {   /* this host's KVM does not take it */
            fprintf(stderr, "tandem-vmm: vCPU %d: MSR %#x = %#llx not restored\n", v->id,
                    c->msrs[i].index, (unsigned long long)c->msrs[i].value);
        }
    }
    return r;
}

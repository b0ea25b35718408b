/* A vCPU's KVM state for save/restore (vcpu_state.c). */
#ifndef TANDEM_VMM_VCPU_STATE_H
#define TANDEM_VMM_VCPU_STATE_H

#include <linux/kvm.h>
#include <stddef.h>

#include "savefile.h"

struct vcpu;

#define VCPU_SAVED_MSRS 16   /* saved_msrs and PVM_MSR_VIF fit */

struct vcpu_saved {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    void *xsave;
    size_t xsave_len;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_vcpu_events events;
    unsigned int nr_msrs;
    struct save_msr msrs[VCPU_SAVED_MSRS];
};

/* KVM_GET_MSRS of one MSR: 0, or -1 when KVM refuses it. */
int vcpu_msr_get(struct vcpu *v, uint32_t index, uint64_t *value);
int vcpu_state_get(struct vcpu *v, struct vcpu_saved *s, char *err, size_t errlen);
void vcpu_state_free(struct vcpu_saved *s);
/* Points c's blobs at s (s must outlive c's use). */
void vcpu_state_describe(const struct vcpu_saved *s, struct save_vcpu *c);
/* The blob sizes this build's KVM structs have. */
void vcpu_state_expect(struct save_expect *x);
int vcpu_state_set(struct vcpu *v, const struct save_vcpu *c, char *err, size_t errlen);

#endif

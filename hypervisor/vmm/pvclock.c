/*
 * Guest time without hypercalls: per-vCPU vcpu_time_info (system time at a
 * TSC stamp, TSC->ns scale) and the shared_info wallclock, with Xen's
 * odd/even version protocol. Guest TSC = host TSC (see vcpu.c), so one
 * (rdtsc, CLOCK_MONOTONIC) sample serves every vCPU.
 */
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmm.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The guest's own formula: ((tsc delta << shift) * mul) >> 32. */
static uint64_t tsc_delta_ns(struct vm *vm, uint64_t delta)
{
    int s = vm->tsc_shift;
    delta = s >= 0 ? delta << s : delta >> -s;
    return (uint64_t)(((unsigned __int128)delta * vm->tsc_mul) >> 32);
}

/*
 * System time exactly as the guest computes it from its vcpu_time_info, so
 * deadlines the guest gives us mean the same instant to both sides, however
 * CLOCK_MONOTONIC is slewed. Host clocks are only used for relative waits.
 */
uint64_t pvclock_now(struct vm *vm)
{
    uint64_t tsc = __builtin_ia32_rdtsc();
    return vm->ref_ns + (tsc > vm->ref_tsc ? tsc_delta_ns(vm, tsc - vm->ref_tsc) : 0);
}

uint64_t pvclock_to_monotonic(struct vm *vm, uint64_t system_ns)
{
    uint64_t now = pvclock_now(vm), mono = clock_ns(CLOCK_MONOTONIC);
    return system_ns > now ? mono + (system_ns - now) : mono;
}

/* ns = ((tsc << shift) * mul) >> 32, shift may be negative. */
static void tsc_scale(uint32_t khz, uint32_t *mul, int8_t *shift)
{
    unsigned __int128 ratio = ((unsigned __int128)1000000ULL << 32) / khz;
    int s = 0;
    while (ratio >= ((unsigned __int128)1 << 32)) {
        ratio >>= 1;
        s++;
    }
    while (ratio < ((unsigned __int128)1 << 31) && s > -31) {
        ratio <<= 1;
        s--;
    }
    *mul = (uint32_t)ratio;
    *shift = (int8_t)s;
}

static uint32_t read_tsc_khz(struct vm *vm)
{
    if (vm->pvm_host) {
        struct {
            struct kvm_msrs h;
            struct kvm_msr_entry e;
        } m = { .h.nmsrs = 1, .e.index = PVM_MSR_TSC_KHZ };
        if (ioctl(vm->vcpus[0].fd, KVM_GET_MSRS, &m) == 1 && m.e.data)
            return (uint32_t)m.e.data;
    }
    int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
    return khz > 0 ? (uint32_t)khz : 1000000;
}

void pvclock_init(struct vm *vm)
{
    vm->tsc_khz = read_tsc_khz(vm);
    tsc_scale(vm->tsc_khz, &vm->tsc_mul, &vm->tsc_shift);
    vm->boot_realtime_ns = clock_ns(CLOCK_REALTIME);
    vm->ref_tsc = __builtin_ia32_rdtsc();
    vm->boot_ns = clock_ns(CLOCK_MONOTONIC);
    vm->ref_ns = 0;
}

static void write_time_info(struct vm *vm, struct vcpu_time_info *t)
{
    volatile struct vcpu_time_info *vt = t;
    vt->version = vt->version | 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vt->tsc_timestamp = vm->ref_tsc;
    vt->system_time = vm->ref_ns;
    vt->tsc_to_system_mul = vm->tsc_mul;
    vt->tsc_shift = vm->tsc_shift;
    vt->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vt->version = vt->version + 1;
}

/* Caller holds vm->lock. */
void pvclock_update_vcpu(struct vm *vm, struct vcpu *v)
{
    struct vcpu_info *vi = vcpu_info_ptr(vm, v);
    if (vi)
        write_time_info(vm, &vi->time);
}

/* Caller holds vm->lock. */
void pvclock_update_wallclock(struct vm *vm)
{
    volatile struct shared_info *si = shared_info_ptr(vm);
    if (!si)
        return;
    uint64_t boot = vm->boot_realtime_ns;
    si->wc_version = si->wc_version | 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    si->wc_sec = (uint32_t)(boot / 1000000000ULL);
    si->wc_sec_hi = (uint32_t)((boot / 1000000000ULL) >> 32);
    si->wc_nsec = (uint32_t)(boot % 1000000000ULL);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    si->wc_version = si->wc_version + 1;
}

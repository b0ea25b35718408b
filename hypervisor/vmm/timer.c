/*
 * Per-vCPU timers (set_timer_op, VCPUOP singleshot/periodic): timerfds on
 * CLOCK_MONOTONIC watched by the main loop; expiry raises VIRQ_TIMER on
 * that vCPU. Deadlines are guest system time (ns since boot).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hypercall.h"
#include "public/vcpu.h"
#include "vmm.h"

int timer_init(struct vcpu *v)
{
    v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    v->periodic_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (v->timer_fd < 0 || v->periodic_fd < 0) {
        fprintf(stderr, "tandem-vmm: timerfd: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static struct timespec ns_to_ts(uint64_t ns)
{
    return (struct timespec){ (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
}

/* deadline 0 disarms. A deadline in the past fires at once. */
long timer_set_singleshot(struct vcpu *v, uint64_t deadline_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (deadline_ns) {
        uint64_t abs = pvclock_to_monotonic(v->vm, deadline_ns);
        if (abs > UINT64_MAX / 2) /* absurdly far: effectively never */
            abs = UINT64_MAX / 2;
        its.it_value = ns_to_ts(abs ? abs : 1);
    }
    return timerfd_settime(v->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -EINVAL : 0;
}

long timer_set_periodic(struct vcpu *v, uint64_t period_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (period_ns)
        its.it_value = its.it_interval = ns_to_ts(period_ns);
    return timerfd_settime(v->periodic_fd, 0, &its, NULL) < 0 ? -EINVAL : 0;
}

void timer_expired(struct vcpu *v, int fd)
{
    uint64_t n;
    if (read(fd, &n, sizeof(n)) != sizeof(n))
        return;
    evtchn_raise_virq(v->vm, v, VIRQ_TIMER);
}

long hc_set_timer_op(struct vcpu *v, const uint64_t a[5])
{
    return timer_set_singleshot(v, a[0]);
}

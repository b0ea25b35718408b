/*
 * Domain lifecycle: running, paused, stopping. The first stop decides the
 * exit status (docs/abi.md table); the main loop then tears down.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "public/sched.h"
#include "vmm.h"

void vm_wake_main(struct vm *vm)
{
    uint64_t one = 1;
    if (write(vm->wake_fd, &one, sizeof(one)) < 0) {
        /* counter saturated: the main loop is awake anyway */
    }
}

void vm_stop(struct vm *vm, int status, const char *why)
{
    bool expected = false;
    if (atomic_compare_exchange_strong(&vm->exit_set, &expected, true)) {
        vm->exit_status = status;
        if (why && status != TANDEM_EXIT_POWEROFF)
            fprintf(stderr, "tandem-vmm: domain %u stopping: %s (exit status %d)\n",
                    vm->cfg->domid, why, status);
    }
    pthread_mutex_lock(&vm->lock);
    atomic_store(&vm->state, VM_STOPPING);
    pthread_cond_broadcast(&vm->unpause);
    pthread_mutex_unlock(&vm->lock);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
    vm_wake_main(vm);
}

void vm_guest_shutdown(struct vm *vm, unsigned int reason)
{
    static const int status[] = {
        [SHUTDOWN_poweroff] = TANDEM_EXIT_POWEROFF, [SHUTDOWN_reboot] = TANDEM_EXIT_REBOOT,
        [SHUTDOWN_suspend] = TANDEM_EXIT_SUSPEND,   [SHUTDOWN_crash] = TANDEM_EXIT_CRASH,
        [SHUTDOWN_watchdog] = TANDEM_EXIT_WATCHDOG, [SHUTDOWN_soft_reset] = TANDEM_EXIT_REBOOT,
    };
    static const char *const names[] = { "poweroff", "reboot", "suspend",
                                         "crash", "watchdog", "soft_reset" };
    char why[64];
    snprintf(why, sizeof(why), "guest shutdown (%s)", names[reason]);
    vm_stop(vm, status[reason], why);
}

void vm_set_paused(struct vm *vm, bool paused)
{
    pthread_mutex_lock(&vm->lock);
    int cur = atomic_load(&vm->state);
    if (cur != VM_STOPPING)
        atomic_store(&vm->state, paused ? VM_PAUSED : VM_RUNNING);
    if (!paused)
        atomic_store(&vm->suspended, false); /* unpausing a suspended domain resumes it */
    pthread_cond_broadcast(&vm->unpause);
    pthread_mutex_unlock(&vm->lock);
    if (paused)
        for (unsigned int i = 0; i < vm->nr_vcpus; i++)
            vcpu_kick(&vm->vcpus[i]);
}

long vm_guest_suspend(struct vcpu *v)
{
    struct vm *vm = v->vm;
    pthread_mutex_lock(&vm->lock);
    bool stopping = atomic_load(&vm->state) == VM_STOPPING;
    if (!stopping) {
        vm->suspend_vcpu = (unsigned int)v->id;
        atomic_store(&vm->suspended, true);
        atomic_store(&vm->state, VM_PAUSED);
    }
    pthread_mutex_unlock(&vm->lock);
    if (stopping)
        return 0;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        if (&vm->vcpus[i] != v)
            vcpu_kick(&vm->vcpus[i]);
    fprintf(stderr, "tandem-vmm: domain %u suspended; waiting to be saved or resumed\n",
            vm->cfg->domid);
    vm_wake_main(vm);
    return 1;
}

int vm_resume_suspended(struct vm *vm)
{
    if (!atomic_load(&vm->suspended))
        return -1;
    vm_set_paused(vm, false);
    return 0;
}

int vm_wait_parked(struct vm *vm, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int r = 0;
    pthread_mutex_lock(&vm->lock);
    for (;;) {
        bool all = true;
        for (unsigned int i = 0; i < vm->nr_vcpus; i++)
            if (vm->vcpus[i].thread_started && !vm->vcpus[i].parked)
                all = false;
        if (all)
            break;
        if (pthread_cond_timedwait(&vm->parked_cond, &vm->lock, &ts) == ETIMEDOUT) {
            r = -1;
            break;
        }
    }
    pthread_mutex_unlock(&vm->lock);
    return r;
}

const char *vm_state_name(struct vm *vm)
{
    if (atomic_load(&vm->suspended) && atomic_load(&vm->state) == VM_PAUSED)
        return "suspended";
    switch (atomic_load(&vm->state)) {
    case VM_RUNNING:
        return "running";
    case VM_PAUSED:
        return "paused";
    default:
        return "shutdown";
    }
}

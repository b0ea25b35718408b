/*
 * The main thread: one epoll loop over signals, the stop eventfd and the
 * vCPU timers, and whatever the services add with loop_add (the console,
 * the xenstore link, the control socket and its connections). Returns
 * when the VM stops.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

static int epfd = -1;
static struct loop_handler sig_h, wake_h, upcall_h;
static struct loop_handler *timer_h;
static atomic_int holds;   /* loop_hold */

void loop_hold(bool hold)
{
    atomic_fetch_add(&holds, hold ? 1 : -1);
}

int loop_add(struct loop_handler *h, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = h };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

void loop_mod(struct loop_handler *h, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = h };
    epoll_ctl(epfd, EPOLL_CTL_MOD, h->fd, &ev);
}

void loop_del(struct loop_handler *h)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

/* A doorbell (port 0xB4) write with value `datamatch` signals fd in the
 * kernel, without a userspace exit; on the Xen HVM platform so does
 * EVTCHNOP_send on that port (xen_hvm.c). */
int kvm_ioeventfd(struct vm *vm, int fd, uint16_t port, uint32_t datamatch, bool assign)
{
    if (port == TANDEM_DOORBELL_PORT && vm->kvm_xen) {
        int r = xen_hvm_evtchn_route(vm, datamatch, fd, assign);
        if (r && assign)
            return r;
    }
    struct kvm_ioeventfd io = {
        .datamatch = datamatch,
        .addr = port,
        .len = 4,
        .fd = fd,
        .flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH |
                 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static void on_signal(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    struct signalfd_siginfo si;
    if (read(h->fd, &si, sizeof(si)) != sizeof(si))
        return;
    char why[48];
    snprintf(why, sizeof(why), "signal %s", strsignal((int)si.ssi_signo));
    vm_stop(vm, TANDEM_EXIT_DESTROYED, why);
}

void loop_drain_eventfd(int fd)
{
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: nothing pending */
    }
}

static void on_wake(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)vm;
    (void)ev;
    loop_drain_eventfd(h->fd);
}

static void on_timer(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    timer_expired(&vm->vcpus[(uintptr_t)h->ctx], h->fd);
}

static void on_upcall_check(struct vm *vm, struct loop_handler *h, uint32_t ev)
{
    (void)ev;
    loop_drain_eventfd(h->fd);   /* a timerfd reads the same way */
    evtchn_upcall_check(vm);
}

/* The periodic check of evtchn_upcall_check (evtchn.c). */
static int setup_upcall_check(struct vm *vm)
{
    struct itimerspec its = { .it_interval = { 0, EVTCHN_UPCALL_CHECK_MS * 1000000L },
                              .it_value = { 0, EVTCHN_UPCALL_CHECK_MS * 1000000L } };
    upcall_h = (struct loop_handler){ on_upcall_check,
                                      timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), vm };
    return upcall_h.fd < 0 || timerfd_settime(upcall_h.fd, 0, &its, NULL) ||
           loop_add(&upcall_h, EPOLLIN) ? -1 : 0;
}

static int setup_signals(struct vm *vm)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sig_h = (struct loop_handler){ on_signal, signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK), vm };
    return sig_h.fd < 0 ? -1 : loop_add(&sig_h, EPOLLIN);
}

/* Called before the vCPUs start and before the services that add to it. */
int loop_init(struct vm *vm)
{
    sig_h.fd = upcall_h.fd = -1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -1;
    wake_h = (struct loop_handler){ on_wake, vm->wake_fd, vm };
    if (loop_add(&wake_h, EPOLLIN) || setup_signals(vm) || setup_upcall_check(vm)) {
        fprintf(stderr, "tandem-vmm: event loop setup: %s\n", strerror(errno));
        loop_close(vm);
        return -1;
    }
    timer_h = calloc(2 * vm->nr_vcpus, sizeof(*timer_h));
    if (!timer_h) {
        loop_close(vm);
        return -1;
    }
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        timer_h[2 * i] = (struct loop_handler){ on_timer, vm->vcpus[i].timer_fd, (void *)(uintptr_t)i };
        timer_h[2 * i + 1] = (struct loop_handler){ on_timer, vm->vcpus[i].periodic_fd,
                                                    (void *)(uintptr_t)i };
        if (loop_add(&timer_h[2 * i], EPOLLIN) || loop_add(&timer_h[2 * i + 1], EPOLLIN)) {
            loop_close(vm);
            return -1;
        }
    }
    return 0;
}

/* How long a stopped VM keeps serving a service that holds the loop
 * (xenstored's INTRODUCE callback on the control socket: xenstored itself
 * gives up after 2 s). */
#define LOOP_REGISTRATION_GRACE_MS 3000

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool loop_should_run(struct vm *vm, int64_t *deadline_ms)
{
    if (atomic_load(&vm->state) != VM_STOPPING)
        return true;
    if (atomic_load(&holds) <= 0)
        return false;
    int64_t now = monotonic_ms();
    if (*deadline_ms == 0)
        *deadline_ms = now + LOOP_REGISTRATION_GRACE_MS;
    return now < *deadline_ms;
}

int loop_run(struct vm *vm)
{
    struct epoll_event evs[16];
    int64_t deadline_ms = 0;
    while (loop_should_run(vm, &deadline_ms)) {
        int n = epoll_wait(epfd, evs, 16, deadline_ms ? 100 : -1);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "tandem-vmm: epoll_wait: %s\n", strerror(errno));
            vm_stop(vm, TANDEM_EXIT_ERROR, "event loop failure");
            break;
        }
        for (int i = 0; i < n; i++) {
            struct loop_handler *h = evs[i].data.ptr;
            h->fn(vm, h, evs[i].events);
        }
    }
    return vm->exit_status;
}

void loop_close(struct vm *vm)
{
    (void)vm;
    if (sig_h.fd >= 0)
        close(sig_h.fd);
    sig_h.fd = -1;
    if (upcall_h.fd >= 0)
        close(upcall_h.fd);
    upcall_h.fd = -1;
    free(timer_h);
    timer_h = NULL;
    if (epfd >= 0)
        close(epfd);
    epfd = -1;
}

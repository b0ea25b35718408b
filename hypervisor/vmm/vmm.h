/*
 * tandem-vmm: one process per domain. The shared state of the VM and its
 * vCPUs; each concept's functions live in the file named after it.
 */
#ifndef TANDEM_VMM_H
#define TANDEM_VMM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "public/event_channel.h"
#include "public/tandem.h"
#include "public/xen.h"

#define VMM_NR_PORTS 4096          /* the 2-level limit on 64-bit (port 0 is never used) */
#define VMM_PLATFORM_PORTS 3       /* ports 1..2 are the platform's, bound to dom0 at boot (docs/abi.md) */
#define VMM_NR_HYPERCALLS 64
#define VMM_NR_EXIT_REASONS 64

struct vm;
struct iobus;
struct pc;

struct vcpu {
    struct vm *vm;
    int id;
    int fd;
    struct kvm_run *run;
    size_t run_size;
    pthread_t thread;
    bool thread_started;
    bool sync_regs;            /* KVM_CAP_SYNC_REGS usable */

    /* Guarded by vm->lock */
    bool initialised, up;
    struct tandem_vcpu_context ctx;
    uint64_t vcpu_info_gpa;    /* where this vCPU's vcpu_info lives; 0 = none */
    uint8_t upcall_vector;     /* HVMOP_set_evtchn_upcall_vector; 0 = domain's */
    atomic_bool upcall_owed;   /* its last upcall MSI was refused (evtchn.c) */
    atomic_uint upcall_signals; /* upcall MSIs the VMM sent (evtchn.c) */
    unsigned int upcall_seen;  /* evtchn_upcall_check: upcall_signals when the flag was last seen up, +1; 0 = down */
    bool upcall_resent_said;   /* evtchn_upcall_check has said so once */
    int virq_port[NR_VIRQS];

    bool parked;               /* its thread waits outside KVM_RUN (vm->lock) */
    bool hypercalled;          /* has made a hypercall (Xen HVM platform) */
    bool halt_next;            /* SCHEDOP_block: enter KVM_RUN halted */
    bool enable_events_next;   /* SCHEDOP_block: return with RFLAGS.IF set */
    int timer_fd;              /* singleshot timer (timerfd) */
    int periodic_fd;           /* periodic timer (timerfd) */

    /* Statistics (this vCPU's thread writes them) */
    uint64_t exits[VMM_NR_EXIT_REASONS];
    uint64_t hypercalls[VMM_NR_HYPERCALLS];
    uint64_t unknown_hypercalls, unhandled_io, unhandled_mmio, doorbells;

    int irqfd;                 /* dom0 services' upcall: KVM_IRQFD on GSI 24 + id */
};

enum evtchn_state { ECS_FREE, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
    uint8_t state;
    uint8_t virq;
    uint16_t remote_dom;
    uint32_t remote_port;
    uint32_t vcpu;             /* vCPU to notify */
    int kick_fd;               /* bound by a dom0 service: its ioeventfd, else -1 */
    const void *owner;         /* the control connection that bound it */
};

/* Domain 0's side of ports a dom0 service allocated with `evtchn-alloc`
 * (Xen's alloc_unbound in dom0); the guest binds them with
 * EVTCHNOP_bind_interdomain(remote_dom 0, remote_port = the dom0 port). */
enum dom0_port_state { D0_FREE, D0_UNBOUND, D0_BOUND };

struct dom0_port {
    uint8_t state;
    uint32_t guest_port;       /* D0_BOUND: the guest's end */
    const void *owner;         /* the control connection that allocated it */
};

/* A VMM service on one of the platform's ports (evtchn.c): the guest's
 * sends signal kick_fd, an eventfd the service reads in the main loop. */
struct evtchn_local {
    evtchn_port_t port;
    int kick_fd;               /* -1 until the service has one */
    bool yields;               /* a dom0 service binding the port takes it over (else EBUSY) */
    bool taken;                /* it has */
};

/* An input sink other than the PV console ring (console_set_input). */
struct console_input {
    size_t (*push)(void *opaque, const uint8_t *buf, size_t len);   /* takes what fits */
    size_t (*room)(void *opaque);
    void *opaque;
};

struct console_state {
    int out_fd;                /* where guest output goes */
    int in_fd;                 /* input source, -1 = none */
    int pty_master;            /* pty mode: also keeps the slave open */
    int pty_slave;
    char pty_name[64];         /* the slave's path (pty mode), "" otherwise */
    int kick_fd;               /* the console port's eventfd (evtchn_local_kick) */
    pthread_mutex_t out_lock;  /* console_io, port 0xE9 and the ring share out_fd */
    struct console_input sink; /* where input goes instead of the ring (the PC's UART) */
    bool in_registered;        /* the input handler is on the loop (the PC: from the start) */
};

struct vm {
    const struct vmm_config *cfg;
    int kvm_fd, vm_fd, memfd;
    uint8_t *mem;              /* memfd mapping: RAM then the platform region */
    uint64_t ram_size, mem_size;
    /* The PC's RAM: ram_low from 0 (up to the PCI hole at 3 GiB), the rest
     * from 4 GiB, both in mem (low then high). PVH: ram_low = ram_size. */
    uint64_t ram_low;
    uint64_t ramdisk_gpa, ramdisk_size;   /* --ramdisk in RAM, size 0 = none */
    unsigned int nr_vcpus;
    struct vcpu *vcpus;
    bool pvm;                  /* guest told cpu-mode = pvm */
    bool xen_hvm;              /* Xen's HVM platform (Linux), not Tandem's: xen_hvm.c */
    bool pc_platform;          /* the full-emulation PC (--firmware): pc.c */
    struct pc *pc;             /* its devices, once created */
    const uint8_t *pc_rom;     /* its firmware ROM (--firmware), NULL if none */
    size_t pc_rom_size;
    bool kvm_xen;              /* KVM's Xen support is configured (KVM_EXIT_XEN) */
    bool pvm_host;
    bool readonly_mem;

    /* Time */
    uint32_t tsc_khz;
    uint32_t tsc_mul;
    int8_t tsc_shift;
    uint64_t boot_ns;          /* CLOCK_MONOTONIC at boot = system time 0 */
    uint64_t boot_realtime_ns;
    uint64_t ref_tsc, ref_ns;  /* a (guest TSC, system time) pair */

    pthread_mutex_t lock;      /* evtchn, physmap, params, vCPU state */
    uint64_t shared_info_gpa;
    uint64_t gnttab_gpa[TANDEM_MAX_GRANT_FRAMES];
    bool gnttab_overlay[TANDEM_MAX_GRANT_FRAMES]; /* placed outside RAM: a memory slot onto
                                                   * TANDEM_OVERLAY_GPA + idx pages */
    unsigned int gnttab_nr_frames;
    uint64_t callback_irq;
    uint8_t callback_vector;
    unsigned int shutdown_code;
    struct evtchn ports[VMM_NR_PORTS];
    struct dom0_port dom0_ports[VMM_NR_PORTS];
    struct evtchn_local local_ports[VMM_PLATFORM_PORTS];
    unsigned int nr_local_ports;

    /* Lifecycle */
    atomic_int state;          /* VM_RUNNING, VM_PAUSED, VM_STOPPING */
    int exit_status;           /* set once, first stop wins */
    atomic_bool exit_set;
    int wake_fd;               /* eventfd: wakes the main loop */
    pthread_cond_t unpause;
    pthread_cond_t parked_cond; /* a vCPU thread parked (vcpu->parked) */
    atomic_bool suspended;     /* SHUTDOWN_suspend: paused, waiting for save or resume */
    unsigned int suspend_vcpu; /* the vCPU inside SCHEDOP_shutdown(suspend) */

    /* SCHEDOP_poll sleepers wait here; evtchn_raise wakes them */
    pthread_mutex_t poll_lock;
    pthread_cond_t poll_cond;
    atomic_int pollers;
    uint64_t poll_seq;

    struct iobus *bus;         /* port and MMIO devices (iobus.c, dev/) */
    struct console_state con;
    uint64_t dropped_events;
    uint64_t upcalls_resent;   /* evtchn_upcall_check (main loop) */
};

enum { VM_RUNNING, VM_PAUSED, VM_STOPPING };

/* kvm_vm.c */
/* 0, -1 (failure), or -2: this host's KVM lacks what the guest needs. */
int vm_create(struct vm *vm, const struct vmm_config *cfg);
void vm_destroy(struct vm *vm);
/* 0 delivered, 1 refused by the vCPU's LAPIC (software-disabled), -errno. */
int vm_signal_msi(struct vm *vm, unsigned int vcpu, uint8_t vector);
/* Maps (or with gpa 0 unmaps) overlay page n at gpa onto the memfd page at
 * offset off: 0 or -1 (the range is taken). */
int vm_overlay(struct vm *vm, unsigned int n, uint64_t gpa, uint64_t off);

/* vcpu.c */
int vcpu_create(struct vm *vm, int id);
int vcpu_set_boot_state(struct vcpu *v, uint32_t entry, uint32_t start_info);
int vcpu_set_context(struct vcpu *v, const struct tandem_vcpu_context *c);
int vcpu_set_long_mode(struct vcpu *v, uint64_t rip, uint64_t rsi, uint64_t cr3, uint64_t gdt_base,
                       uint16_t gdt_limit);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void vcpu_dump(struct vcpu *v, const char *why);
void vcpu_hypercall(struct vcpu *v, uint32_t nr);
/* A port access no device serves: reads see fill, logged once a port. */
void vcpu_io_unserved(struct vcpu *v, uint16_t port, uint8_t *data, uint32_t len, bool is_write,
                      uint8_t fill);

/* devices.c: the bus and the devices of the domain's platform (files in dev/,
 * docs/vmm.md "Devices"). */
int devices_init(struct vm *vm);
void devices_close(struct vm *vm);

/* lifecycle.c */
void vm_stop(struct vm *vm, int status, const char *why);
void vm_guest_shutdown(struct vm *vm, unsigned int reason);
void vm_set_paused(struct vm *vm, bool paused);
const char *vm_state_name(struct vm *vm);
/* SCHEDOP_shutdown(SHUTDOWN_suspend): the domain pauses, suspended, until
 * it is saved (the VMM then exits 4) or resumed; returns what the guest's
 * hypercall returns if it is resumed here (1, cancelled). */
long vm_guest_suspend(struct vcpu *v);
/* Resumes a suspended domain (SCHEDOP_shutdown returns 1): 0, or -1 if
 * it is not suspended. */
int vm_resume_suspended(struct vm *vm);
/* Waits until every started vCPU thread is parked: 0, or -1 after
 * timeout_ms. */
int vm_wait_parked(struct vm *vm, int timeout_ms);

/* save.c: writes the save file of a suspended domain (docs/save-restore.md);
 * toolstack (may be NULL) names a file whose text goes in the header. 0 or
 * -1 with a message in err (the file is then not left behind). */
int vm_save(struct vm *vm, const char *path, const char *toolstack, char *err, size_t errlen);

/* pvclock.c */
void pvclock_init(struct vm *vm);
uint64_t pvclock_now(struct vm *vm);
/* CLOCK_MONOTONIC instant of a guest system time (now if in the past). */
uint64_t pvclock_to_monotonic(struct vm *vm, uint64_t system_ns);
void pvclock_update_vcpu(struct vm *vm, struct vcpu *v);
void pvclock_update_wallclock(struct vm *vm);

/* physmap.c */
void *vcpu_info_ptr(struct vm *vm, struct vcpu *v);
/* memfd offset of grant frame idx's page (caller holds vm->lock). */
uint64_t gnttab_frame_offset(struct vm *vm, unsigned int idx);
struct shared_info *shared_info_ptr(struct vm *vm);

/* evtchn.c */
void evtchn_init(struct vm *vm);
void evtchn_raise(struct vm *vm, evtchn_port_t port);
void evtchn_kick_vcpu(struct vm *vm, struct vcpu *v);
void evtchn_raise_virq(struct vm *vm, struct vcpu *v, unsigned int virq);
/* Main loop, every EVTCHN_UPCALL_CHECK_MS: a vCPU whose upcall flag stayed
 * up since the last check with no upcall sent in between is signalled again. */
#define EVTCHN_UPCALL_CHECK_MS 200
void evtchn_upcall_check(struct vm *vm);
long evtchn_send(struct vcpu *v, evtchn_port_t port);
/* VMM services on the platform's ports (docs/vmm.md "Devices"): add one
 * (after evtchn_init), give it its eventfd (the doorbell's ioeventfd is
 * assigned with it), remove it. 0 or -errno. */
int evtchn_local_add(struct vm *vm, evtchn_port_t port, bool yields);
int evtchn_local_kick(struct vm *vm, evtchn_port_t port, int fd);
void evtchn_local_remove(struct vm *vm, evtchn_port_t port);
int evtchn_local_take(struct vm *vm, evtchn_port_t port, bool take); /* vm->lock held */

/* timer.c */
int timer_init(struct vcpu *v);
long timer_set_singleshot(struct vcpu *v, uint64_t deadline_ns);
long timer_set_periodic(struct vcpu *v, uint64_t period_ns);
void timer_expired(struct vcpu *v, int fd);

/* console.c */
int console_init(struct vm *vm);     /* after loop_init and evtchn_init */
void console_write(struct vm *vm, const void *buf, size_t len);
/* Never waits: false if the destination did not take it all now. */
bool console_write_nowait(struct vm *vm, const void *buf, size_t len);
/* The PC: input goes to in (copied) rather than the ring; the sink calls
 * console_input_room when it can take more after it was full. */
void console_set_input(struct vm *vm, const struct console_input *in);
void console_input_room(struct vm *vm);
void console_close(struct vm *vm);   /* prints what is left in the ring first */

/* hypercall.c */
long hypercall_dispatch(struct vcpu *v, unsigned int nr, const uint64_t args[5]);
void hypercall_page_fill(uint8_t *page);

/* boot.c */
int boot_setup(struct vm *vm, uint32_t entry);

/* loop.c: the main thread's epoll loop */
struct loop_handler {
    void (*fn)(struct vm *vm, struct loop_handler *h, uint32_t events);
    int fd;
    void *ctx;
};
int loop_init(struct vm *vm);
void loop_close(struct vm *vm);
/* A service that must still be served after the domain stops holds the
 * loop (true) until it is done (false); the loop waits at most 3 s. */
void loop_hold(bool hold);
void loop_drain_eventfd(int fd);   /* a non-blocking eventfd's count, dropped */
int loop_add(struct loop_handler *h, uint32_t events);
void loop_mod(struct loop_handler *h, uint32_t events);
void loop_del(struct loop_handler *h);
int kvm_ioeventfd(struct vm *vm, int fd, uint16_t port, uint32_t datamatch, bool assign);

/* evtchn_ctl.c: ports bound by dom0 services over the control socket */
int evtchn_ctl_bind(struct vm *vm, const void *owner, uint32_t port, int fds[3], char *reply,
                    size_t len, const char **err);
int evtchn_ctl_unbind(struct vm *vm, const void *owner, uint32_t port);
void evtchn_ctl_drop_owner(struct vm *vm, const void *owner);
int evtchn_ctl_alloc(struct vm *vm, const void *owner, uint32_t *dom0_port);
int evtchn_ctl_guest_port(struct vm *vm, const void *owner, uint32_t dom0_port, uint32_t *port);
void evtchn_irq_routes_update(struct vm *vm);

/* xen_hvm.c: the Xen HVM platform */
int xen_hvm_init(struct vm *vm);
int xen_hvm_cpuid(struct vm *vm, struct kvm_cpuid_entry2 *e, uint32_t *n, uint32_t max,
                  uint32_t vcpu_id);
int xen_hvm_evtchn_route(struct vm *vm, uint32_t port, int fd, bool assign);

/* control.c, xs_domain.c, stats.c */
int control_open(struct vm *vm);
void control_close(struct vm *vm);
/* A request a service serves on the control socket (name, then arguments):
 * it answers with control_reply or control_reply_err. 0 or -1 (table full). */
typedef void (*control_fn)(struct vm *vm, int fd, char **argv, int argc);
int control_add_request(const char *name, control_fn fn);
void control_reply(int fd, const char *line, const int *fds, int nfds);
void control_reply_err(int fd, const char *errname, const char *msg);
/* The xenstore port's service: its eventfds for xenstored (`xenstore-ring`). */
int xs_link_init(struct vm *vm);
void xs_link_close(struct vm *vm);
int xs_domain_register(struct vm *vm);
void xs_domain_unregister(struct vm *vm);
void vm_wake_main(struct vm *vm);
void stats_print(struct vm *vm);
int loop_run(struct vm *vm);

static inline uint64_t vm_region_offset(const struct vm *vm, uint64_t gpa)
{
    return vm->ram_size + (gpa - TANDEM_REGION_GPA);
}

#endif

/*
 * Test guest (arch layer + this kernel_main): exercises tandem-vmm's
 * scheduling and event hypercalls from inside a real guest, in either CPU
 * mode: SCHEDOP_block woken by VIRQ_TIMER, SCHEDOP_poll (pending port and
 * timeout), periodic timers, IPIs, loopback interdomain channels, status,
 * unmask redelivery, and a few queries. Prints "sched-test: ok" and powers
 * off, or prints the failed checks and crashes (exit status 5).
 */
#include "arch.h"
#include "hypercall.h"
#include "kernel.h"
#include "public/event_channel.h"
#include "public/hvm/start_info.h"
#include "public/hvm/hvm_op.h"
#include "public/hvm/params.h"
#include "public/memory.h"
#include "public/sched.h"
#include "public/tandem.h"
#include "public/vcpu.h"
#include "public/version.h"

#define VECTOR 0xe0
#define NPORTS 64

static struct shared_info *const si = (struct shared_info *)(uintptr_t)TANDEM_DEFAULT_SHARED_INFO_GPA;
static volatile unsigned int hits[NPORTS];
static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printk("sched-test: FAIL %s\n", what);
        failures++;
    }
}

/* The 2-level upcall: clear the flag, take the selector, handle ports. */
static void upcall(void)
{
    struct vcpu_info *vi = &si->vcpu_info[0];
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = (unsigned int)__builtin_ctzl(sel);
        sel &= sel - 1;
        xen_ulong_t bits = si->evtchn_pending[w] & ~si->evtchn_mask[w];
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            bits &= bits - 1;
            __atomic_fetch_and(&si->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            unsigned int port = w * 64 + b;
            if (port < NPORTS)
                hits[port]++;
        }
    }
}

static uint64_t now_ns(void)
{
    const volatile struct vcpu_time_info *t = &si->vcpu_info[0].time;
    uint32_t ver;
    uint64_t ns;
    do {
        ver = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t d = arch_rdtsc() - t->tsc_timestamp;
        d = t->tsc_shift >= 0 ? d << t->tsc_shift : d >> -t->tsc_shift;
        ns = t->system_time + (uint64_t)(((unsigned __int128)d * t->tsc_to_system_mul) >> 32);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((ver & 1) || ver != t->version);
    return ns;
}

static long evtchn(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

static void mask(evtchn_port_t p, int on)
{
    if (on)
        __atomic_fetch_or(&si->evtchn_mask[p / 64], 1UL << (p % 64), __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&si->evtchn_mask[p / 64], ~(1UL << (p % 64)), __ATOMIC_SEQ_CST);
}

/* Xen's pattern: check with events disabled, then SCHEDOP_block, which
 * enables them and blocks in one step (an event consumed between an
 * enabled check and the call would leave the vCPU halted for good). */
static void test_block(evtchn_port_t timer)
{
    unsigned int before = hits[timer];
    uint64_t t0 = now_ns();
    HYPERVISOR_set_timer_op(t0 + 5000000);
    while (hits[timer] == before && now_ns() - t0 < 2000000000ULL) {
        HYPERVISOR_sched_op(SCHEDOP_block, 0);
        arch_irq_disable();
    }
    uint64_t dt = now_ns() - t0;
    check(hits[timer] > before, "SCHEDOP_block: VIRQ_TIMER never delivered");
    check(dt >= 5000000, "SCHEDOP_block: woke before the 5 ms timer");
    check(dt < 500000000, "SCHEDOP_block: 5 ms timer took over 500 ms");
}

static void test_poll(evtchn_port_t timer)
{
    mask(timer, 1);
    evtchn_port_t ports[1] = { timer };
    uint64_t t0 = now_ns();
    HYPERVISOR_set_timer_op(t0 + 3000000);
    struct sched_poll sp = { .ports = (uint64_t)(uintptr_t)ports, .nr_ports = 1, .timeout = 0 };
    check(HYPERVISOR_sched_op(SCHEDOP_poll, &sp) == 0, "SCHEDOP_poll returned an error");
    check(si->evtchn_pending[timer / 64] & (1UL << (timer % 64)), "SCHEDOP_poll: port not pending");
    check(now_ns() - t0 >= 3000000, "SCHEDOP_poll: returned before the timer");
    /* unmasking a pending port delivers it (Xen: the hypercall clears the
     * mask; the VMM also accepts a guest that cleared it first) */
    unsigned int before = hits[timer];
    struct evtchn_unmask um = { .port = timer };
    evtchn(EVTCHNOP_unmask, &um);
    arch_irq_enable();
    for (int i = 0; i < 1000000 && hits[timer] == before; i++)
        __asm__ __volatile__("pause");
    arch_irq_disable();
    check(hits[timer] > before, "EVTCHNOP_unmask did not redeliver a pending port");
    /* a port nobody raises: the timeout ends the poll */
    evtchn_port_t quiet[1] = { NPORTS - 1 };
    t0 = now_ns(); /* before the deadline is computed: it must not end early */
    sp = (struct sched_poll){ .ports = (uint64_t)(uintptr_t)quiet, .nr_ports = 1,
                              .timeout = t0 + 10000000 };
    check(HYPERVISOR_sched_op(SCHEDOP_poll, &sp) == 0, "SCHEDOP_poll with timeout failed");
    check(now_ns() - t0 >= 10000000, "SCHEDOP_poll: timeout ended early");
}

static void test_periodic(evtchn_port_t timer)
{
    unsigned int before = hits[timer];
    struct vcpu_set_periodic_timer pt = { .period_ns = 2000000 };
    check(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt) == 0, "periodic timer refused");
    uint64_t t0 = now_ns();
    arch_irq_enable();
    while (hits[timer] - before < 5 && now_ns() - t0 < 1000000000ULL)
        { arch_irq_disable(); arch_idle(); arch_irq_enable(); }
    arch_irq_disable();
    HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
    check(hits[timer] - before >= 5, "periodic timer: fewer than 5 ticks in 1 s");
}

static void test_channels(void)
{
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    check(evtchn(EVTCHNOP_bind_ipi, &ipi) == 0 && ipi.port < NPORTS, "bind_ipi");
    struct evtchn_send snd = { .port = ipi.port };
    evtchn(EVTCHNOP_send, &snd);
    arch_irq_enable();
    for (int i = 0; i < 1000000 && !hits[ipi.port]; i++)
        __asm__ __volatile__("pause");
    arch_irq_disable();
    check(hits[ipi.port] == 1, "IPI not delivered exactly once");

    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    check(evtchn(EVTCHNOP_alloc_unbound, &au) == 0, "alloc_unbound");
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = au.port };
    check(evtchn(EVTCHNOP_bind_interdomain, &bi) == 0, "loopback bind_interdomain");
    snd.port = bi.local_port;
    evtchn(EVTCHNOP_send, &snd);
    snd.port = au.port;
    evtchn(EVTCHNOP_send, &snd);
    arch_irq_enable();
    for (int i = 0; i < 1000000 && !(hits[au.port] && hits[bi.local_port]); i++)
        __asm__ __volatile__("pause");
    arch_irq_disable();
    check(hits[au.port] == 1 && hits[bi.local_port] == 1, "loopback send not delivered both ways");

    struct evtchn_status st = { .dom = DOMID_SELF, .port = au.port };
    check(evtchn(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_interdomain &&
          st.u.interdomain.port == bi.local_port, "status of a loopback port");
    struct evtchn_close cl = { .port = bi.local_port };
    check(evtchn(EVTCHNOP_close, &cl) == 0, "close");
    check(evtchn(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_unbound,
          "peer of a closed port is unbound again");
    snd.port = bi.local_port;
    check(evtchn(EVTCHNOP_send, &snd) < 0, "send on a closed port succeeded");
}

static void test_queries(void)
{
    check(HYPERVISOR_xen_version(XENVER_version, 0) == 0x00040011, "xen_version");
    struct xen_feature_info fi = { .submap_idx = 0 };
    check(HYPERVISOR_xen_version(XENVER_get_features, &fi) == 0 &&
          (fi.submap & (1u << XENFEAT_hvm_callback_vector)), "get_features");
    struct e820entry map[4];
    struct xen_memory_map mm = { .nr_entries = 4, .buffer = (uint64_t)(uintptr_t)map };
    check(HYPERVISOR_memory_op(XENMEM_memory_map, &mm) == 0 && mm.nr_entries == 3 &&
          map[0].type == E820_RAM, "memory_map");
    check(HYPERVISOR_sched_op(99, 0) == -38, "unknown sched_op is -ENOSYS");
    check(HYPERVISOR_console_io(CONSOLEIO_write, 8, (const char *)0xF0000000UL) == -14,
          "console_io with a bad pointer is -EFAULT");
}

/*
 * cmdline "e2e": a port for a dom0 service. Allocates it unbound for
 * domain 0, prints it, waits until the service (bound with `evtchn-bind`)
 * raises it through its irqfd, then rings the doorbell back.
 */
static void evtchn_e2e(void)
{
    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 0 };
    if (evtchn(EVTCHNOP_alloc_unbound, &au) || au.port >= NPORTS) {
        check(0, "e2e: alloc_unbound");
        return;
    }
    printk("e2e: port %u\n", au.port);
    uint64_t deadline = now_ns() + 20000000000ULL;
    while (!hits[au.port] && now_ns() < deadline) {
        HYPERVISOR_set_timer_op(now_ns() + 100000000);
        arch_idle();
    }
    check(hits[au.port] == 1, "e2e: the service's event never arrived");
    uint32_t port = au.port;
    __asm__ __volatile__("outl %0, %w1" : : "a"(port), "Nd"(TANDEM_DOORBELL_PORT) : "memory");
    printk("e2e: event received, doorbell rung\n");
}

static int has_word(const char *cmdline, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = cmdline; p && *p; p++)
        if ((p == cmdline || p[-1] == ' ') && !strncmp(p, w, n) && (!p[n] || p[n] == ' '))
            return 1;
    return 0;
}

void kernel_main(const struct hvm_start_info *start)
{
    const char *cmdline = (const char *)(uintptr_t)start->cmdline_paddr;
    printk("sched-test: cpu-mode %s\n", arch_cpu_mode());
    arch_set_upcall(VECTOR, upcall);
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                               .value = (2ULL << 56) | VECTOR };
    check(HYPERVISOR_hvm_op(HVMOP_set_param, &p) == 0, "set CALLBACK_IRQ");
    if (has_word(cmdline, "e2e")) {
        struct evtchn_bind_virq tv = { .virq = VIRQ_TIMER, .vcpu = 0 };
        evtchn(EVTCHNOP_bind_virq, &tv);
        evtchn_e2e();
        struct sched_shutdown sd = { .reason = failures ? SHUTDOWN_crash : SHUTDOWN_poweroff };
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
        return;
    }
    struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0 };
    check(evtchn(EVTCHNOP_bind_virq, &bv) == 0 && bv.port < NPORTS, "bind VIRQ_TIMER");
    test_block(bv.port);
    test_poll(bv.port);
    test_periodic(bv.port);
    test_channels();
    test_queries();
    struct sched_shutdown sd = { .reason = failures ? SHUTDOWN_crash : SHUTDOWN_poweroff };
    printk(failures ? "sched-test: %d failure(s)\n" : "sched-test: ok\n", failures);
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

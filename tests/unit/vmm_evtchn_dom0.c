/* Check suite for tandem-vmm's event-channel additions of issue 4:
 * EVTCHNOP_reset, guest bind_interdomain to dom0 ports allocated over the
 * control socket (`evtchn-alloc`, evtchn_ctl.c), the life cycle of such a
 * pair (guest close, connection gone) and the 4096-port limit. Runs on a
 * VM without KVM (guest memory is plain host memory). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guest_mem.h"
#include "public/event_channel.h"
#include "vmm.h"

#define RAM (16ULL << 20)
#define ARG 0x8000ULL

static struct vmm_config cfg;
static struct vm vm;
static struct vcpu *v0;
static const int owner_a = 1, owner_b = 2;   /* stand-ins for two connections */

static void setup(void)
{
    memset(&vm, 0, sizeof(vm));
    memset(&cfg, 0, sizeof(cfg));
    cfg.domid = 5;
    cfg.vcpus = 1;
    vm.cfg = &cfg;
    vm.ram_size = vm.ram_low = RAM;
    vm.mem_size = RAM + TANDEM_REGION_SIZE;
    vm.mem = calloc(1, vm.mem_size);
    vm.nr_vcpus = 1;
    vm.kvm_fd = vm.vm_fd = vm.memfd = -1;
    pthread_mutex_init(&vm.lock, NULL);
    pthread_mutex_init(&vm.poll_lock, NULL);
    pthread_cond_init(&vm.poll_cond, NULL);
    vm.vcpus = calloc(1, sizeof(struct vcpu));
    vm.vcpus[0].vm = &vm;
    vm.vcpus[0].fd = vm.vcpus[0].irqfd = -1;
    v0 = &vm.vcpus[0];
    vm.shared_info_gpa = TANDEM_DEFAULT_SHARED_INFO_GPA;
    evtchn_init(&vm);
}

static void teardown(void)
{
    free(vm.mem);
    free(vm.vcpus);
}

static long op(int cmd, const void *arg, size_t len, void *out)
{
    memcpy(gpa_to_host(&vm, ARG, len, true), arg, len);
    uint64_t a[5] = { (uint64_t)cmd, ARG, 0, 0, 0 };
    long r = hypercall_dispatch(v0, __HYPERVISOR_event_channel_op, a);
    if (out)
        memcpy(out, gpa_to_host(&vm, ARG, len, false), len);
    return r;
}

static long bind_dom0(uint32_t dom0_port, domid_t dom)
{
    struct evtchn_bind_interdomain b = { .remote_dom = dom, .remote_port = dom0_port };
    long r = op(EVTCHNOP_bind_interdomain, &b, sizeof(b), &b);
    return r < 0 ? r : (long)b.local_port;
}

static struct evtchn_status status(evtchn_port_t port)
{
    struct evtchn_status s = { .dom = DOMID_SELF, .port = port };
    ck_assert_int_eq(op(EVTCHNOP_status, &s, sizeof(s), &s), 0);
    return s;
}

static long alloc_unbound(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
    long r = op(EVTCHNOP_alloc_unbound, &a, sizeof(a), &a);
    return r < 0 ? r : (long)a.port;
}

START_TEST(guest_binds_dom0_port)
{
    uint32_t d, l;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_a, &d), 0);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, d, &l), -EAGAIN);
    long port = bind_dom0(d, 0);
    ck_assert_int_ge(port, 3);
    struct evtchn_status s = status((evtchn_port_t)port);
    ck_assert_uint_eq(s.status, EVTCHNSTAT_interdomain);
    ck_assert_uint_eq(s.u.interdomain.dom, 0);
    ck_assert_uint_eq(s.u.interdomain.port, d);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, d, &l), 0);
    ck_assert_uint_eq(l, (uint32_t)port);
    /* not this connection's / never allocated */
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_b, d, &l), -EINVAL);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, d + 1, &l), -EINVAL);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, 0, &l), -EINVAL);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, 4096, &l), -EINVAL);
    /* only the connection that allocated D may bind the guest's end
     * (the owner gets past that check to KVM, absent here: -EIO) */
    int fds[3];
    char reply[256];
    const char *why;
    ck_assert_int_eq(evtchn_ctl_bind(&vm, &owner_b, l, fds, reply, sizeof(reply), &why), -EBUSY);
    /* the vCPU has neither its own vcpu_info nor an upcall vector yet: a
     * binding now would name the legacy slot the guest may stop reading */
    ck_assert_int_eq(evtchn_ctl_bind(&vm, &owner_a, l, fds, reply, sizeof(reply), &why), -EAGAIN);
    v0->vcpu_info_gpa = 0x10000;
    ck_assert_int_eq(evtchn_ctl_bind(&vm, &owner_a, l, fds, reply, sizeof(reply), &why), -EIO);
    v0->vcpu_info_gpa = 0;
    vm.callback_vector = 0xf3;
    ck_assert_int_eq(evtchn_ctl_bind(&vm, &owner_a, l, fds, reply, sizeof(reply), &why), -EIO);
}
END_TEST

START_TEST(bad_binds_get_xen_errors)
{
    uint32_t d;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_a, &d), 0);
    ck_assert_int_eq(bind_dom0(d + 1, 0), -EINVAL);    /* never allocated */
    ck_assert_int_eq(bind_dom0(0, 0), -EINVAL);
    ck_assert_int_eq(bind_dom0(4096, 0), -EINVAL);
    ck_assert_int_eq(bind_dom0(d, 7), -ESRCH);         /* no such domain here */
    ck_assert_int_gt(bind_dom0(d, 0), 0);
    ck_assert_int_eq(bind_dom0(d, 0), -EINVAL);        /* already bound */
}
END_TEST

START_TEST(guest_close_returns_dom0_port_to_unbound)
{
    uint32_t d, l;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_a, &d), 0);
    long port = bind_dom0(d, 0);
    evtchn_port_t p = (evtchn_port_t)port;
    ck_assert_int_eq(op(EVTCHNOP_close, &p, sizeof(p), NULL), 0);
    ck_assert_uint_eq(status(p).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(evtchn_ctl_guest_port(&vm, &owner_a, d, &l), -EAGAIN);
    ck_assert_int_gt(bind_dom0(d, 0), 0);              /* bindable again */
}
END_TEST

START_TEST(connection_gone_leaves_guest_port_unbound)
{
    uint32_t d;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_a, &d), 0);
    evtchn_port_t p = (evtchn_port_t)bind_dom0(d, 0);
    evtchn_ctl_drop_owner(&vm, &owner_b);              /* someone else: no effect */
    ck_assert_uint_eq(status(p).status, EVTCHNSTAT_interdomain);
    evtchn_ctl_drop_owner(&vm, &owner_a);
    struct evtchn_status s = status(p);
    ck_assert_uint_eq(s.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(s.u.unbound.dom, 0);
    ck_assert_int_eq(bind_dom0(d, 0), -EINVAL);        /* freed with its connection */
    uint32_t d2;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_b, &d2), 0);
    ck_assert_uint_eq(d2, d);                          /* reusable */
}
END_TEST

START_TEST(reset_closes_all_but_platform_ports)
{
    uint32_t d;
    ck_assert_int_eq(evtchn_ctl_alloc(&vm, &owner_a, &d), 0);
    long a = alloc_unbound();
    struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0 };
    ck_assert_int_eq(op(EVTCHNOP_bind_virq, &bv, sizeof(bv), &bv), 0);
    struct evtchn_bind_ipi bi = { .vcpu = 0 };
    ck_assert_int_eq(op(EVTCHNOP_bind_ipi, &bi, sizeof(bi), &bi), 0);
    long l = bind_dom0(d, 0);
    struct evtchn_reset rs = { .dom = 0 };
    ck_assert_int_eq(op(EVTCHNOP_reset, &rs, sizeof(rs), NULL), -EPERM);
    rs.dom = DOMID_FIRST_RESERVED + 1;
    ck_assert_int_eq(op(EVTCHNOP_reset, &rs, sizeof(rs), NULL), -ESRCH);
    ck_assert_uint_eq(status((evtchn_port_t)a).status, EVTCHNSTAT_unbound);
    rs.dom = DOMID_SELF;
    ck_assert_int_eq(op(EVTCHNOP_reset, &rs, sizeof(rs), NULL), 0);
    evtchn_port_t ports[] = { (evtchn_port_t)a, bv.port, bi.port, (evtchn_port_t)l };
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(status(ports[i]).status, EVTCHNSTAT_closed);
    ck_assert_uint_eq(status(TANDEM_XENSTORE_PORT).status, EVTCHNSTAT_interdomain);
    ck_assert_uint_eq(status(TANDEM_CONSOLE_PORT).status, EVTCHNSTAT_interdomain);
    ck_assert_int_eq(op(EVTCHNOP_bind_virq, &bv, sizeof(bv), &bv), 0);   /* VIRQ free again */
    ck_assert_int_gt(bind_dom0(d, 0), 0);              /* the dom0 port survived */
    rs.dom = (domid_t)cfg.domid;
    ck_assert_int_eq(op(EVTCHNOP_reset, &rs, sizeof(rs), NULL), 0);
}
END_TEST

START_TEST(ports_up_to_the_2level_limit)
{
    long last = 0, n = 0, r;
    while ((r = alloc_unbound()) > 0) {
        last = r;
        n++;
    }
    ck_assert_int_eq(r, -ENOSPC);
    ck_assert_int_eq(last, 4095);
    ck_assert_int_eq(n, 4095 - 2);                     /* 1 and 2 are the platform's */
    uint32_t d, count = 0;
    while (evtchn_ctl_alloc(&vm, &owner_a, &d) == 0)
        count++;
    ck_assert_uint_eq(count, 4095);                    /* dom0 ports 1..4095 */
}
END_TEST

/* Xen's errno for each bad argument. */
START_TEST(xen_error_codes)
{
    struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 1 };
    ck_assert_int_eq(op(EVTCHNOP_bind_virq, &bv, sizeof(bv), NULL), -ENOENT);
    bv = (struct evtchn_bind_virq){ .virq = NR_VIRQS, .vcpu = 0 };
    ck_assert_int_eq(op(EVTCHNOP_bind_virq, &bv, sizeof(bv), NULL), -EINVAL);
    struct evtchn_bind_ipi bi = { .vcpu = 3 };
    ck_assert_int_eq(op(EVTCHNOP_bind_ipi, &bi, sizeof(bi), NULL), -ENOENT);
    long p = alloc_unbound();
    struct evtchn_bind_vcpu bvc = { .port = (evtchn_port_t)p, .vcpu = 9 };
    ck_assert_int_eq(op(EVTCHNOP_bind_vcpu, &bvc, sizeof(bvc), NULL), -ENOENT);
    bvc = (struct evtchn_bind_vcpu){ .port = 4000, .vcpu = 0 };
    ck_assert_int_eq(op(EVTCHNOP_bind_vcpu, &bvc, sizeof(bvc), NULL), -EINVAL);
    evtchn_port_t free_port = 4000;
    ck_assert_int_eq(op(EVTCHNOP_close, &free_port, sizeof(free_port), NULL), -EINVAL);
    ck_assert_int_eq(op(EVTCHNOP_send, &free_port, sizeof(free_port), NULL), -EINVAL);
    evtchn_port_t unbound = (evtchn_port_t)p;
    ck_assert_int_eq(op(EVTCHNOP_send, &unbound, sizeof(unbound), NULL), 0); /* dropped, as Xen */
    struct evtchn_alloc_unbound au = { .dom = 0, .remote_dom = 0 };
    ck_assert_int_eq(op(EVTCHNOP_alloc_unbound, &au, sizeof(au), NULL), -EPERM);
}
END_TEST

/* evtchn_upcall_check: an upcall flag left up across two checks with no
 * upcall sent between is signalled again (the MSI was lost); one the VMM
 * signalled meanwhile, one the guest took (flag down), or one the guest
 * masks is not. vm_signal_msi fails here (no KVM), which still counts as
 * an upcall sent. */
START_TEST(upcall_flag_left_up_is_signalled_again)
{
    struct vcpu_info *vi = vcpu_info_ptr(&vm, v0);
    ck_assert_ptr_nonnull(vi);
    vi->evtchn_upcall_pending = 1;            /* no vector yet: nowhere to signal */
    for (int i = 0; i < 3; i++)
        evtchn_upcall_check(&vm);
    ck_assert_uint_eq(vm.upcalls_resent, 0);
    vi->evtchn_upcall_pending = 0;
    vm.callback_vector = 0xf3;
    evtchn_upcall_check(&vm);                 /* flag down: nothing */
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 0);
    vi->evtchn_upcall_pending = 1;            /* raised by an MSI that went nowhere */
    evtchn_upcall_check(&vm);                 /* up once: may be on its way */
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 0);
    evtchn_upcall_check(&vm);                 /* up twice, nothing sent: again */
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 1);
    ck_assert_uint_eq(vm.upcalls_resent, 1);
    evtchn_upcall_check(&vm);                 /* just signalled: wait two more */
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 1);
    evtchn_kick_vcpu(&vm, v0);                /* the VMM signals in between */
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 2);
    evtchn_upcall_check(&vm);
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 2);
    evtchn_upcall_check(&vm);
    ck_assert_uint_eq(atomic_load(&v0->upcall_signals), 3);
    ck_assert_uint_eq(vm.upcalls_resent, 2);

    evtchn_upcall_check(&vm);
    vi->evtchn_upcall_pending = 0;            /* the guest took it */
    evtchn_upcall_check(&vm);
    vi->evtchn_upcall_pending = 1;            /* and a new one came */
    evtchn_upcall_check(&vm);
    ck_assert_uint_eq(vm.upcalls_resent, 2);

    vi->evtchn_upcall_mask = 1;               /* the guest masks upcalls */
    for (int i = 0; i < 4; i++)
        evtchn_upcall_check(&vm);
    ck_assert_uint_eq(vm.upcalls_resent, 2);
    vi->evtchn_upcall_mask = 0;
    evtchn_upcall_check(&vm);
    evtchn_upcall_check(&vm);
    ck_assert_uint_eq(vm.upcalls_resent, 3);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vmm_evtchn_dom0");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, guest_binds_dom0_port);
    tcase_add_test(tc, bad_binds_get_xen_errors);
    tcase_add_test(tc, guest_close_returns_dom0_port_to_unbound);
    tcase_add_test(tc, connection_gone_leaves_guest_port_unbound);
    tcase_add_test(tc, reset_closes_all_but_platform_ports);
    tcase_add_test(tc, ports_up_to_the_2level_limit);
    tcase_add_test(tc, xen_error_codes);
    tcase_add_test(tc, upcall_flag_left_up_is_signalled_again);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

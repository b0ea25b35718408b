/* Check suite for tandem-vmm's hypercall dispatcher and argument checks
 * (hypervisor/vmm/hypercall.c and the handlers): every guest pointer is
 * bounds-checked, unknown calls return -ENOSYS and are counted. Runs on a
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
#include "public/grant_table.h"
#include "public/hvm/params.h"
#include "public/memory.h"
#include "public/sched.h"
#include "public/vcpu.h"
#include "public/version.h"
#include "vmm.h"

#define RAM (16ULL << 20)
#define ARG 0x8000ULL  /* a scratch guest-physical address for structs */

static struct vmm_config cfg;
static struct vm vm;
static struct vcpu *v0;

static void setup(void)
{
    memset(&vm, 0, sizeof(vm));
    memset(&cfg, 0, sizeof(cfg));
    cfg.domid = 5;
    cfg.vcpus = 2;
    cfg.grant_frames = TANDEM_DEFAULT_GRANT_FRAMES;
    strcpy(cfg.uuid, "12345678-1234-1234-1234-123456789abc");
    vm.cfg = &cfg;
    vm.ram_size = vm.ram_low = RAM;
    vm.mem_size = RAM + TANDEM_REGION_SIZE;
    vm.mem = calloc(1, vm.mem_size);
    vm.nr_vcpus = 2;
    vm.kvm_fd = vm.vm_fd = vm.memfd = -1;
    vm.wake_fd = eventfd(0, EFD_NONBLOCK);
    pthread_mutex_init(&vm.lock, NULL);
    pthread_mutex_init(&vm.poll_lock, NULL);
    pthread_cond_init(&vm.poll_cond, NULL);
    pthread_cond_init(&vm.unpause, NULL);
    pthread_mutex_init(&vm.con.out_lock, NULL);
    vm.con.out_fd = open("/dev/null", O_WRONLY);
    vm.vcpus = calloc(2, sizeof(struct vcpu));
    for (int i = 0; i < 2; i++) {
        vm.vcpus[i].vm = &vm;
        vm.vcpus[i].id = i;
        vm.vcpus[i].fd = vm.vcpus[i].irqfd = -1;
        ck_assert_int_eq(timer_init(&vm.vcpus[i]), 0);
    }
    v0 = &vm.vcpus[0];
    vm.shared_info_gpa = TANDEM_DEFAULT_SHARED_INFO_GPA;
    evtchn_init(&vm);
}

static void teardown(void)
{
    free(vm.mem);
    free(vm.vcpus);
}

static long hc(unsigned int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    uint64_t a[5] = { a0, a1, a2, 0, 0 };
    return hypercall_dispatch(v0, nr, a);
}

static void *at(uint64_t gpa)
{
    return gpa_to_host(&vm, gpa, 1, false);
}

START_TEST(unknown_is_enosys_and_counted)
{
    ck_assert_int_eq(hc(__HYPERVISOR_mmu_update, 0, 0, 0), -ENOSYS);
    ck_assert_int_eq(hc(1000, 0, 0, 0), -ENOSYS);
    ck_assert_int_eq(hc(0xffffffff, 0, 0, 0), -ENOSYS);
    ck_assert_uint_eq(v0->unknown_hypercalls, 3);
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, 99, 0, 0), -ENOSYS);
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, 99, 0, 0), -ENOSYS);
}
END_TEST

START_TEST(guest_ranges)
{
    ck_assert_ptr_nonnull(gpa_to_host(&vm, 0, RAM, true));
    ck_assert_ptr_null(gpa_to_host(&vm, 1, RAM, true));
    ck_assert_ptr_null(gpa_to_host(&vm, RAM, 1, false));
    ck_assert_ptr_null(gpa_to_host(&vm, ~0ULL - 4, 16, false));   /* wraps */
    ck_assert_ptr_null(gpa_to_host(&vm, 16, ~0ULL, false));
    ck_assert_ptr_nonnull(gpa_to_host(&vm, TANDEM_HYPERCALL_PAGE_GPA, 4096, false));
    ck_assert_ptr_null(gpa_to_host(&vm, TANDEM_HYPERCALL_PAGE_GPA, 8, true)); /* read-only */
    ck_assert_ptr_nonnull(gpa_to_host(&vm, TANDEM_XENSTORE_RING_GPA, 4096, true));
    ck_assert_ptr_null(gpa_to_host(&vm, TANDEM_REGION_GPA + TANDEM_REGION_SIZE - 8, 16, false));
    ck_assert_ptr_null(gpa_to_host(&vm, TANDEM_LAPIC_GPA, 4, false));
}
END_TEST

START_TEST(console_io_checks)
{
    memcpy(at(ARG), "hi", 2);
    ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 2, ARG), 2);
    ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 16, RAM - 8), -EFAULT);
    ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 1ULL << 40, 0), -EINVAL);
    ck_assert_int_eq(hc(__HYPERVISOR_console_io, 7, 1, ARG), -ENOSYS);
}
END_TEST

START_TEST(xen_version)
{
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_version, 0, 0), 0x00040011);
    struct xen_feature_info fi = { .submap_idx = 0 };
    memcpy(at(ARG), &fi, sizeof(fi));
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, ARG, 0), 0);
    memcpy(&fi, at(ARG), sizeof(fi));
    ck_assert(fi.submap & (1u << XENFEAT_hvm_callback_vector));
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, RAM, 0), -EFAULT);
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, TANDEM_HYPERCALL_PAGE_GPA, 0),
                     -EFAULT);
    xen_domain_handle_t h;
    ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_guest_handle, ARG, 0), 0);
    memcpy(h, at(ARG), sizeof(h));
    ck_assert_uint_eq(h[0], 0x12);
    ck_assert_uint_eq(h[15], 0xbc);
}
END_TEST

START_TEST(add_to_physmap)
{
    struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
                                    .gpfn = 0x1000 };
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -EINVAL);
    x.gpfn = (TANDEM_PHYSMAP_GPA >> 12) + 0x10;
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    ck_assert_uint_eq(vm.shared_info_gpa, TANDEM_PHYSMAP_GPA + 0x10000);
    x.space = XENMAPSPACE_grant_table; /* same page as shared_info */
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -EBUSY);
    x.gpfn++;
    x.idx = 40;
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -EINVAL);
    x.idx = 3;
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    ck_assert_uint_eq(vm.gnttab_nr_frames, 4);
    x.domid = 9;
    memcpy(at(ARG), &x, sizeof(x));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -ESRCH);
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, RAM - 4, 0), -EFAULT);
}
END_TEST

START_TEST(memory_map_and_reservation)
{
    struct xen_memory_map m = { .nr_entries = 2, .buffer = ARG + 0x100 };
    memcpy(at(ARG), &m, sizeof(m));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), -EINVAL);
    m.nr_entries = 8;
    memcpy(at(ARG), &m, sizeof(m));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), 0);
    memcpy(&m, at(ARG), sizeof(m));
    ck_assert_uint_eq(m.nr_entries, 3);
    struct e820entry e;
    memcpy(&e, at(ARG + 0x100), sizeof(e));
    ck_assert_uint_eq(e.size, RAM);
    ck_assert_uint_eq(e.type, E820_RAM);
    m.buffer = TANDEM_HYPERCALL_PAGE_GPA;  /* not writable */
    memcpy(at(ARG), &m, sizeof(m));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), -EFAULT);
    domid_t self = DOMID_SELF;
    memcpy(at(ARG), &self, sizeof(self));
    ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, ARG, 0), RAM >> 12);
}
END_TEST

START_TEST(hvm_params)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_STORE_PFN };
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_get_param, ARG, 0), 0);
    memcpy(&p, at(ARG), sizeof(p));
    ck_assert_uint_eq(p.value, TANDEM_XENSTORE_RING_GPA >> 12);
    p = (struct xen_hvm_param){ .domid = 5, .index = HVM_PARAM_CALLBACK_IRQ, .value = 0x30 };
    memcpy(at(ARG), &p, sizeof(p));
    /* GSI type: kept (Linux sets GSI 1 beside its per-vCPU vectors) but no vector */
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), 0);
    ck_assert_uint_eq(vm.callback_irq, 0x30);
    ck_assert_uint_eq(vm.callback_vector, 0);
    p.value = (5ULL << 56) | 0x30;   /* no such callback type */
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), -EINVAL);
    p.value = (2ULL << 56) | 0x10;   /* vector below 0x20 */
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), -EINVAL);
    p.value = (2ULL << 56) | 0xf3;
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), 0);
    ck_assert_uint_eq(vm.callback_vector, 0xf3);
    p.index = HVM_PARAM_STORE_PFN;
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), -EPERM);
    p.domid = 77;
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_get_param, ARG, 0), -ESRCH);
    p = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = 1000 };
    memcpy(at(ARG), &p, sizeof(p));
    ck_assert_int_eq(hc(__HYPERVISOR_hvm_op, HVMOP_get_param, ARG, 0), -EINVAL);
}
END_TEST

START_TEST(event_channels)
{
    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 0 };
    memcpy(at(ARG), &au, sizeof(au));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, ARG, 0), 0);
    memcpy(&au, at(ARG), sizeof(au));
    ck_assert_uint_eq(au.port, 3);
    struct evtchn_bind_virq bv = { .virq = 99 };
    memcpy(at(ARG), &bv, sizeof(bv));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, ARG, 0), -EINVAL);
    bv = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 1 };
    memcpy(at(ARG), &bv, sizeof(bv));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, ARG, 0), 0);
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, ARG, 0), -EEXIST);
    struct evtchn_status st = { .dom = DOMID_SELF, .port = 4 };
    memcpy(at(ARG), &st, sizeof(st));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_status, ARG, 0), 0);
    memcpy(&st, at(ARG), sizeof(st));
    ck_assert_uint_eq(st.status, EVTCHNSTAT_virq);
    ck_assert_uint_eq(st.vcpu, 1);
    evtchn_port_t port = 4000;
    memcpy(at(ARG), &port, sizeof(port));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_close, ARG, 0), -EINVAL);
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, ARG, 0), -EINVAL);
    port = 100; /* free */
    memcpy(at(ARG), &port, sizeof(port));
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, ARG, 0), -EINVAL);
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, RAM, 0), -EFAULT);
    ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, 55, ARG, 0), -ENOSYS);
}
END_TEST

START_TEST(event_delivery_2level)
{
    struct shared_info *si = shared_info_ptr(&vm);
    ck_assert_ptr_nonnull(si);
    evtchn_raise(&vm, 2);
    ck_assert(si->evtchn_pending[0] & (1UL << 2));
    ck_assert(si->vcpu_info[0].evtchn_pending_sel & 1);
    ck_assert_uint_eq(si->vcpu_info[0].evtchn_upcall_pending, 1);
    /* a masked port is marked pending but not signalled */
    si->evtchn_mask[1] = 1UL << 1;
    evtchn_raise(&vm, 65);
    ck_assert(si->evtchn_pending[1] & 2);
    ck_assert(!(si->vcpu_info[0].evtchn_pending_sel & 2));
    evtchn_raise(&vm, 5000); /* out of range: dropped, no crash */
}
END_TEST

START_TEST(sched_and_vcpu_checks)
{
    struct sched_shutdown sd = { .reason = 99 };
    memcpy(at(ARG), &sd, sizeof(sd));
    ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0), -EINVAL);
    ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, RAM + 1, 0), -EFAULT);
    struct sched_poll sp = { .ports = ARG + 64, .nr_ports = 1000 };
    memcpy(at(ARG), &sp, sizeof(sp));
    ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -EINVAL);
    sp.nr_ports = 2;
    sp.ports = RAM - 4;
    memcpy(at(ARG), &sp, sizeof(sp));
    ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -EFAULT);
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 7, 0), -ENOENT);
    struct vcpu_register_vcpu_info ri = { .mfn = 0x10, .offset = 4090 };
    memcpy(at(ARG), &ri, sizeof(ri));
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), -EINVAL);
    ri = (struct vcpu_register_vcpu_info){ .mfn = RAM >> 12, .offset = 0 };
    memcpy(at(ARG), &ri, sizeof(ri));
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), -EINVAL);
    ri = (struct vcpu_register_vcpu_info){ .mfn = 0x20, .offset = 64 };
    memcpy(at(ARG), &ri, sizeof(ri));
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), 0);
    ck_assert_uint_eq(v0->vcpu_info_gpa, 0x20040);
    struct vcpu_set_periodic_timer pt = { .period_ns = 1000 };
    memcpy(at(ARG), &pt, sizeof(pt));
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, ARG), -EINVAL);
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0), -EINVAL); /* not initialised */
    ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 1, ARG), -EINVAL);
}
END_TEST

START_TEST(grant_table)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    memcpy(at(ARG), &q, sizeof(q));
    ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, ARG, 1), 0);
    memcpy(&q, at(ARG), sizeof(q));
    ck_assert_int_eq(q.status, GNTST_okay);
    ck_assert_uint_eq(q.max_nr_frames, 32);
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 33, .frame_list = ARG + 64 };
    memcpy(at(ARG), &s, sizeof(s));
    ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    memcpy(&s, at(ARG), sizeof(s));
    ck_assert_int_eq(s.status, GNTST_general_error);
    s.nr_frames = 2;
    memcpy(at(ARG), &s, sizeof(s));
    ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    memcpy(&s, at(ARG), sizeof(s));
    ck_assert_int_eq(s.status, GNTST_okay);
    xen_pfn_t f[2];
    memcpy(f, at(ARG + 64), sizeof(f));
    ck_assert_uint_eq(f[0], TANDEM_DEFAULT_GNTTAB_GPA >> 12);
    ck_assert_uint_eq(f[1], (TANDEM_DEFAULT_GNTTAB_GPA >> 12) + 1);
    s.frame_list = TANDEM_HYPERCALL_PAGE_GPA;
    memcpy(at(ARG), &s, sizeof(s));
    ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    memcpy(&s, at(ARG), sizeof(s));
    ck_assert_int_eq(s.status, GNTST_bad_virt_addr);
    ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, ARG, 5), -EINVAL);
}
END_TEST

START_TEST(hypercall_page_slots)
{
    uint8_t page[4096];
    hypercall_page_fill(page);
    const uint8_t slot29[8] = { 0xb8, 29, 0, 0, 0, 0xe7, 0xb0, 0xc3 };
    ck_assert_int_eq(memcmp(page + 29 * 32, slot29, 8), 0);
    ck_assert_uint_eq(page[29 * 32 + 8], 0xcc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_hypercall");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, unknown_is_enosys_and_counted);
    tcase_add_test(tc, guest_ranges);
    tcase_add_test(tc, console_io_checks);
    tcase_add_test(tc, xen_version);
    tcase_add_test(tc, add_to_physmap);
    tcase_add_test(tc, memory_map_and_reservation);
    tcase_add_test(tc, hvm_params);
    tcase_add_test(tc, event_channels);
    tcase_add_test(tc, event_delivery_2level);
    tcase_add_test(tc, sched_and_vcpu_checks);
    tcase_add_test(tc, grant_table);
    tcase_add_test(tc, hypercall_page_slots);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

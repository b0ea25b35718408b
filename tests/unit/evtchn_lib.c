/* tdm_evtchn against a fake VMM: bind, guest kicks, notify (pending bits +
 * irqfd), pending/unmask, unbind, and every refusal. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdm_evtchn.h"
#include "evtchn_2l.h"
#include "evtchn_fake_vmm.h"

#define DOMID 7

static struct fake_vmm *vmm;
static struct tdm_evtchn *h;

static void setup(void)
{
    struct fake_vmm_config cfg = { .domid = DOMID };

    vmm = fake_vmm_start(&cfg);
    for (unsigned p = 1; p < 64; p++)
        fake_vmm_allow_port(vmm, p);
    fake_vmm_allow_port(vmm, 4095);
    h = tdm_evtchn_open(fake_vmm_run_dir(vmm));
    ck_assert_ptr_nonnull(h);
}

static void teardown(void)
{
    tdm_evtchn_close(h);
    fake_vmm_stop(vmm);
}

static struct shared_info *guest_shared(void)
{
    return (struct shared_info *)fake_vmm_gpa(vmm, FAKE_SHINFO_GPA);
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* Upcalls raised on the port's irqfd since the last call. */
static uint64_t upcalls(unsigned port)
{
    uint64_t n = 0;

    if (read(fake_vmm_irq_fd(vmm, port), &n, sizeof(n)) != sizeof(n))
        return 0;
    return n;
}

static void guest_kick(unsigned port)
{
    const uint64_t one = 1;

    ck_assert_int_eq(write(fake_vmm_kick_fd(vmm, port), &one, sizeof(one)), sizeof(one));
}

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(bind_reports_port_and_domain)
{
    int lp = tdm_evtchn_bind_interdomain(h, DOMID, 5);

    ck_assert_int_ge(lp, 1);
    ck_assert(fake_vmm_bound(vmm, 5));
    ck_assert_int_eq(tdm_evtchn_remote_domid(h, lp), DOMID);
    ck_assert_int_eq(tdm_evtchn_remote_port(h, lp), 5);
    ck_assert_int_ge(tdm_evtchn_port_fd(h, lp), 0);
    ck_assert_int_ne(tdm_evtchn_bind_interdomain(h, DOMID, 6), lp);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-bind"), 2);
}
END_TEST

START_TEST(notify_sets_bits_and_writes_irqfd_once)
{
    struct shared_info *s = guest_shared();
    int lp = tdm_evtchn_bind_interdomain(h, DOMID, 4095);

    ck_assert_int_ge(lp, 1);
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert(evtchn_2l_is_pending(s, 4095));
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_pending_sel, 1UL << 63);
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 1);
    ck_assert_uint_eq(upcalls(4095), 1);
    /* The guest has not looked yet: no second interrupt. */
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert_uint_eq(upcalls(4095), 0);
    /* The guest handles it; the next notify interrupts again. */
    s->vcpu_info[0].evtchn_upcall_pending = 0;
    s->vcpu_info[0].evtchn_pending_sel = 0;
    evtchn_2l_clear_pending(s, 4095);
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert_uint_eq(upcalls(4095), 1);
}
END_TEST

START_TEST(notify_of_masked_port_does_not_interrupt)
{
    struct shared_info *s = guest_shared();
    int lp = tdm_evtchn_bind_interdomain(h, DOMID, 3);

    evtchn_2l_mask(s, 3);
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert(evtchn_2l_is_pending(s, 3));
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 0);
    ck_assert_uint_eq(upcalls(3), 0);
}
END_TEST

START_TEST(guest_kick_makes_fd_readable_until_pending)
{
    int lp = tdm_evtchn_bind_interdomain(h, DOMID, 1);
    int fd = tdm_evtchn_fd(h);

    ck_assert_int_ge(lp, 1);
    ck_assert(!readable(fd, 0));
    ck_assert_int_eq(tdm_evtchn_pending(h), -1);
    ck_assert_int_eq(errno, EAGAIN);
    guest_kick(1);
    ck_assert(readable(fd, 5000));
    ck_assert_int_eq(tdm_evtchn_pending(h), lp);
    ck_assert_int_eq(tdm_evtchn_pending(h), -1);
    /* Held back until unmask, then reported again. */
    guest_kick(1);
    ck_assert(!readable(fd, 0));
    ck_assert_int_eq(tdm_evtchn_unmask(h, lp), 0);
    ck_assert(readable(fd, 5000));
    ck_assert_int_eq(tdm_evtchn_pending(h), lp);
    ck_assert_int_eq(tdm_evtchn_unmask(h, lp), 0);
    ck_assert(!readable(fd, 0));                 /* both kicks consumed */
}
END_TEST

START_TEST(two_ports_both_reported)
{
    int a = tdm_evtchn_bind_interdomain(h, DOMID, 10);
    int b = tdm_evtchn_bind_interdomain(h, DOMID, 11);
    int seen_a = 0, seen_b = 0;

    guest_kick(11);
    guest_kick(10);
    for (int i = 0; i < 2; i++) {
        int p;

        ck_assert(readable(tdm_evtchn_fd(h), 5000));
        p = tdm_evtchn_pending(h);
        seen_a += p == a;
        seen_b += p == b;
    }
    ck_assert_int_eq(seen_a, 1);
    ck_assert_int_eq(seen_b, 1);
}
END_TEST

START_TEST(unbind_releases_everything)
{
    unsigned before = open_fds();
    int lp = tdm_evtchn_bind_interdomain(h, DOMID, 12);

    ck_assert_int_ge(lp, 1);
    ck_assert_int_eq(tdm_evtchn_unbind(h, lp), 0);
    ck_assert(!fake_vmm_bound(vmm, 12));
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-unbind"), 1);
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(tdm_evtchn_unbind(h, lp), -1);
    /* The connection to the VMM stays open for later binds: +2 fds in
     * this process (our end and the fake VMM's). */
    ck_assert_uint_eq(open_fds(), before + 2);
    /* The port can be bound again and gets a working binding. */
    lp = tdm_evtchn_bind_interdomain(h, DOMID, 12);
    ck_assert_int_ge(lp, 1);
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert_uint_eq(upcalls(12), 1);
}
END_TEST

START_TEST(close_unbinds_in_the_vmm)
{
    ck_assert_int_ge(tdm_evtchn_bind_interdomain(h, DOMID, 20), 1);
    ck_assert_int_ge(tdm_evtchn_bind_interdomain(h, DOMID, 21), 1);
    tdm_evtchn_close(h);
    h = NULL;
    ck_assert(!fake_vmm_bound(vmm, 20));
    ck_assert(!fake_vmm_bound(vmm, 21));
}
END_TEST

START_TEST(bad_arguments_refused_locally)
{
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID, 4096), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, 0x7FF0, 5), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-bind"), 0);
    ck_assert_int_eq(tdm_evtchn_notify(h, 0), -1);
    ck_assert_int_eq(tdm_evtchn_notify(h, 99999), -1);
    ck_assert_int_eq(tdm_evtchn_unmask(h, 3), -1);
    ck_assert_int_eq(tdm_evtchn_port_fd(h, -1), -1);
}
END_TEST

START_TEST(vmm_refusals_are_passed_on)
{
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID, 100), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "not unbound"));
    ck_assert_int_ge(tdm_evtchn_bind_interdomain(h, DOMID, 30), 1);
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID, 30), -1);
    ck_assert_int_eq(errno, EBUSY);
    ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID + 1, 30), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "dom8.ctl"));
}
END_TEST

/* Bad bind replies: refused, the VMM side undone, no fd left behind. */
START_TEST(hostile_bind_replies_are_refused)
{
    static const struct { const char *line; unsigned nfds; const char *why; } cases[] = {
        { "OK port=40 vcpu=0 shared_info_offset=0x1100000", 2, "2 fds, expected 3" },
        { "OK port=41 vcpu=0 shared_info_offset=0x1100000", 3, "asked to bind port 40" },
        { "OK port=40 vcpu=0 shared_info_offset=0x1100010", 3, "not page aligned" },
        { "OK port=40 vcpu=0 shared_info_offset=0x40000000", 3, "outside the guest memory" },
        { "OK port=40 vcpu=0 shared_info_offset=0xfffffffffffff000", 3, "outside the guest memory" },
        { "OK port=40 vcpu=32 shared_info_offset=0x1100000", 3, "no vcpu_info" },
        { "OK port=40 vcpu=1 shared_info_offset=0x1100000 vcpu_info_offset=0x20", 3, "64-byte" },
        { "OK port=40 shared_info_offset=0x1100000", 3, "vcpu=" },
        { "OK port=40 vcpu=0 shared_info_offset=-1", 3, "not a number" },
    };
    unsigned before = open_fds() + 2;   /* + the connection's two ends */

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_vmm_script(vmm, "evtchn-bind", cases[i].line, cases[i].nfds);
        ck_assert_int_eq(tdm_evtchn_bind_interdomain(h, DOMID, 40), -1);
        ck_assert_int_eq(errno, EPROTO);
        ck_assert_msg(strstr(tdm_last_error(), cases[i].why), "case %u: '%s'", i, tdm_last_error());
        ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-unbind"), i + 1);
        ck_assert_uint_eq(open_fds(), before);
    }
}
END_TEST

START_TEST(vcpu_info_outside_shared_info)
{
    char extra[80];
    uint64_t off = fake_vmm_ram_size(vmm) - 4096 + 128;   /* a RAM page */
    struct vcpu_info *v = (struct vcpu_info *)(fake_vmm_mem(vmm) + off);
    int lp;

    snprintf(extra, sizeof(extra), "vcpu_info_offset=0x%llx", (unsigned long long)off);
    fake_vmm_set_bind_vcpu(vmm, 40, extra);
    lp = tdm_evtchn_bind_interdomain(h, DOMID, 4);
    ck_assert_msg(lp >= 1, "%s", tdm_last_error());
    ck_assert_int_eq(tdm_evtchn_notify(h, lp), 0);
    ck_assert_uint_eq(v->evtchn_upcall_pending, 1);
    ck_assert_uint_eq(v->evtchn_pending_sel, 1);
    ck_assert_uint_eq(guest_shared()->vcpu_info[0].evtchn_upcall_pending, 0);
    ck_assert(evtchn_2l_is_pending(guest_shared(), 4));
    ck_assert_uint_eq(upcalls(4), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn_lib");
    TCase *t = tcase_create("lib");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, bind_reports_port_and_domain);
    tcase_add_test(t, notify_sets_bits_and_writes_irqfd_once);
    tcase_add_test(t, notify_of_masked_port_does_not_interrupt);
    tcase_add_test(t, guest_kick_makes_fd_readable_until_pending);
    tcase_add_test(t, two_ports_both_reported);
    tcase_add_test(t, unbind_releases_everything);
    tcase_add_test(t, close_unbinds_in_the_vmm);
    tcase_add_test(t, bad_arguments_refused_locally);
    tcase_add_test(t, vmm_refusals_are_passed_on);
    tcase_add_test(t, hostile_bind_replies_are_refused);
    tcase_add_test(t, vcpu_info_outside_shared_info);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

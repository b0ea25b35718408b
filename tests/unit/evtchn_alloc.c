/* tdm_evtchn_alloc_unbound / tdm_evtchn_bind_allocated (dom0 allocates,
 * the guest binds; docs/control-socket.md `evtchn-alloc`) against the fake
 * VMM with scripted replies: numbers checked, VMM refusals passed on,
 * bad arguments refused locally, no fd leaked. The real VMM side is
 * tests/unit/vmm_evtchn_dom0.c and tests/integration/evtchn_pingpong.sh. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tdm_evtchn.h"
#include "evtchn_fake_vmm.h"

#define DOMID 7

static struct fake_vmm *vmm;
static struct tdm_evtchn *h;

static void setup(void)
{
    struct fake_vmm_config cfg = { .domid = DOMID };
    vmm = fake_vmm_start(&cfg);
    h = tdm_evtchn_open(fake_vmm_run_dir(vmm));
    ck_assert_ptr_nonnull(h);
}

static void teardown(void)
{
    tdm_evtchn_close(h);
    fake_vmm_stop(vmm);
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

START_TEST(alloc_returns_the_dom0_port)
{
    fake_vmm_script(vmm, "evtchn-alloc", "OK port=9", 0);
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, DOMID), 9);
    fake_vmm_script(vmm, "evtchn-alloc", "OK port=0x0fff", 0);
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, DOMID), 4095);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-alloc"), 2);
}
END_TEST

START_TEST(hostile_alloc_replies_are_refused)
{
    static const char *const bad[] = { "OK port=0", "OK port=4096", "OK", "OK port=-1",
                                       "OK port=12x", "OK port=99999999999999999999" };
    fake_vmm_script(vmm, "evtchn-alloc", "OK port=1", 0);   /* opens the connection */
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, DOMID), 1);
    unsigned fds = open_fds();
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake_vmm_script(vmm, "evtchn-alloc", bad[i], 0);
        ck_assert_msg(tdm_evtchn_alloc_unbound(h, DOMID) == -1, "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(tdm_last_error(), "evtchn-alloc"));
    }
    fake_vmm_script(vmm, "evtchn-alloc", "OK port=5", 1);   /* an fd it did not ask for */
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, DOMID), -1);
    ck_assert_uint_eq(open_fds(), fds);
}
END_TEST

START_TEST(vmm_refusals_are_passed_on)
{
    fake_vmm_script(vmm, "evtchn-alloc", "ERR ENOSPC no free dom0 port", 0);
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, DOMID), -1);
    ck_assert_int_eq(errno, ENOSPC);
    fake_vmm_script(vmm, "evtchn-bind", "ERR EAGAIN dom0 port 3: the guest has not bound it yet", 0);
    ck_assert_int_eq(tdm_evtchn_bind_allocated(h, DOMID, 3), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-unbind"), 0);   /* nothing to undo */
}
END_TEST

START_TEST(bad_arguments_refused_locally)
{
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(tdm_evtchn_alloc_unbound(h, 0x7FF0), -1);
    ck_assert_int_eq(tdm_evtchn_bind_allocated(h, DOMID, 0), -1);
    ck_assert_int_eq(tdm_evtchn_bind_allocated(h, DOMID, 4096), -1);
    ck_assert_int_eq(tdm_evtchn_bind_allocated(h, 0, 5), -1);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-alloc"), 0);
    ck_assert_uint_eq(fake_vmm_count(vmm, "evtchn-bind"), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn_alloc");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, alloc_returns_the_dom0_port);
    tcase_add_test(tc, hostile_alloc_replies_are_refused);
    tcase_add_test(tc, vmm_refusals_are_passed_on);
    tcase_add_test(tc, bad_arguments_refused_locally);
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

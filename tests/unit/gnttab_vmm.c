/* tdm_gnttab attaching a domain through its VMM's control socket (`memory`
 * and `gnttab` requests, docs/evtchn-gnttab.md), served by a fake VMM. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdm_gnttab.h"
#include "public/grant_table.h"
#include "evtchn_fake_vmm.h"

#define DOMID 4

static struct fake_vmm *vmm;
static struct tdm_gnttab *g;

static void setup(void)
{
    struct fake_vmm_config cfg = { .domid = DOMID, .nr_grant_frames = 1 };

    vmm = fake_vmm_start(&cfg);
    g = tdm_gnttab_open(fake_vmm_run_dir(vmm));
    ck_assert_ptr_nonnull(g);
}

static void teardown(void)
{
    tdm_gnttab_close(g);
    fake_vmm_stop(vmm);
}

static struct grant_entry_v1 *entry(uint32_t ref)
{
    return (struct grant_entry_v1 *)fake_vmm_gpa(vmm, FAKE_GNT_GPA(ref / 512)) + ref % 512;
}

static void grant(uint32_t ref, uint32_t frame, uint16_t flags)
{
    entry(ref)->frame = frame;
    entry(ref)->domid = 0;
    __atomic_store_n(&entry(ref)->flags, flags, __ATOMIC_RELEASE);
}

START_TEST(first_map_attaches_through_the_vmm)
{
    struct tdm_grant_map m;

    grant(8, 100, GTF_permit_access);
    strcpy((char *)fake_vmm_mem(vmm) + 100 * 4096, "ring page");
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, false, &m, NULL), 0);
    ck_assert_str_eq(m.addr, "ring page");
    ck_assert_uint_eq(entry(8)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, true, &m, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
    /* Memory is asked for once per domain. */
    ck_assert_uint_eq(fake_vmm_count(vmm, "memory"), 1);
    ck_assert_uint_eq(fake_vmm_count(vmm, "gnttab"), 1);
}
END_TEST

START_TEST(unmap_never_attaches)
{
    struct tdm_grant_map forged = { .addr = (void *)0x1000, .domid = DOMID, .ref = 8 };

    ck_assert_int_eq(tdm_gnttab_unmap(g, &forged), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "not attached"));
    ck_assert_uint_eq(fake_vmm_count(vmm, "memory"), 0);
}
END_TEST

START_TEST(grown_table_is_re_read_once)
{
    struct tdm_grant_map m;
    int why;

    grant(8, 100, GTF_permit_access);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, true, &m, NULL), 0);
    /* The guest adds a second grant frame and grants ref 700 in it. */
    fake_vmm_set_grant_frames(vmm, 2);
    grant(700, 101, GTF_permit_access);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 700, false, &m, &why), 0);
    ck_assert_uint_eq(fake_vmm_count(vmm, "gnttab"), 2);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 1024, false, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_BAD_REF);
    ck_assert_uint_eq(fake_vmm_count(vmm, "gnttab"), 3);
    ck_assert_int_eq(tdm_gnttab_refresh(g, DOMID), 0);
}
END_TEST

START_TEST(no_table_yet_refuses_every_ref)
{
    struct tdm_grant_map m;
    int why;

    fake_vmm_set_grant_frames(vmm, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 0, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_BAD_REF);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "table has 0 entries"));
}
END_TEST

/* Every hostile `memory`/`gnttab` reply: refused with a reason, nothing
 * attached, and the next try asks again. */
START_TEST(hostile_replies_are_refused)
{
    static const struct { const char *op, *line; unsigned nfds; const char *why; } cases[] = {
        { "memory", "OK ram_size=4097 region_gpa=0xfc000000 region_offset=4097 region_size=0x200000", 1, "ram_size" },
        { "memory", "OK ram_size=0x1000000 region_gpa=0xfc000000 region_offset=0x1000000", 1, "region_size" },
        { "memory", "OK ram_size=0x1000000 region_gpa=0xfc000000 region_offset=0x40000000 region_size=0x200000", 1, "memfd has" },
        { "memory", "OK ram_size=0x1000000 region_gpa=0x800000 region_offset=0x1000000 region_size=0x200000", 1, "overlaps" },
        { "memory", "OK ram_size=0x1000000 region_gpa=0xfc000000 region_offset=0x1000000 region_size=0x200000", 0, "0 fds" },
        { "memory", "ERR EAGAIN guest not started", 0, "EAGAIN" },
        { "gnttab", "OK version=2 nr_frames=1 frames=0xfc101000", 0, "only v1" },
        { "gnttab", "OK version=1 nr_frames=65", 0, "nr_frames" },
        { "gnttab", "OK version=1 nr_frames=2 frames=0xfc101000", 0, "lists 1 frames" },
        { "gnttab", "OK version=1 nr_frames=1 frames=0xfc101000,0xfc102000", 0, "more than" },
        { "gnttab", "OK version=1 nr_frames=1 frames=0xfe000000", 0, "not guest memory" },
        { "gnttab", "OK version=1 nr_frames=1 frames=0xfc101001", 0, "not guest memory" },
        { "gnttab", "OK version=1 nr_frames=1 frames=zz", 0, "not a number" },
        { "gnttab", "OK version=1 nr_frames=1", 0, "frames=" },
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tdm_grant_map m;
        int why;

        fake_vmm_script(vmm, cases[i].op, cases[i].line, cases[i].nfds);
        ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, true, &m, &why), -1);
        ck_assert_int_eq(why, TDM_GNT_NO_DOMAIN);
        ck_assert_msg(strstr(tdm_last_error(), cases[i].why), "case %u: '%s'", i, tdm_last_error());
    }
    grant(8, 100, GTF_permit_access);
    {
        struct tdm_grant_map m;

        ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, true, &m, NULL), 0);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gnttab_vmm");
    TCase *t = tcase_create("vmm");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, first_map_attaches_through_the_vmm);
    tcase_add_test(t, unmap_never_attaches);
    tcase_add_test(t, grown_table_is_re_read_once);
    tcase_add_test(t, no_table_yet_refuses_every_ref);
    tcase_add_test(t, hostile_replies_are_refused);
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

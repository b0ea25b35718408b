/* Grant map/unmap flag transitions, refusals, batches, copy and the
 * guest's end_access racing dom0's map (dom0/gnttab). Guest memory is a
 * memfd the test maps as "the guest". */

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tdm_gnttab.h"
#include "public/grant_table.h"

#define DOMID      5
#define RAM        (1u << 20)               /* 256 pages */
#define REGION_GPA 0xFC000000ULL
#define REGION     0x10000u
#define NFRAMES    2
#define NREFS      (NFRAMES * 512)

static int memfd;
static uint8_t *guest;                     /* the guest's view of its memory */
static struct tdm_gnttab *g;

static struct tdm_guest_memory layout(void)
{
    struct tdm_guest_memory m = {
        .memfd = memfd, .ram_size = RAM, .region_gpa = REGION_GPA,
        .region_offset = RAM, .region_size = REGION, .nr_frames = NFRAMES,
    };

    for (unsigned i = 0; i < NFRAMES; i++)
        m.frame_gpa[i] = REGION_GPA + 0x1000 * (i + 1);
    return m;
}

static void setup(void)
{
    struct tdm_guest_memory m;

    memfd = memfd_create("guest", MFD_CLOEXEC);
    ck_assert_int_ge(memfd, 0);
    ck_assert_int_eq(ftruncate(memfd, RAM + REGION), 0);
    guest = mmap(NULL, RAM + REGION, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    ck_assert_ptr_ne(guest, MAP_FAILED);
    g = tdm_gnttab_open("/nonexistent-run-dir");
    ck_assert_ptr_nonnull(g);
    m = layout();
    ck_assert_int_eq(tdm_gnttab_attach(g, DOMID, &m), 0);
}

static void teardown(void)
{
    tdm_gnttab_close(g);
    munmap(guest, RAM + REGION);
    close(memfd);
}

static struct grant_entry_v1 *entry(uint32_t ref)
{
    return (struct grant_entry_v1 *)(guest + RAM + 0x1000 * (1 + ref / 512)) + ref % 512;
}

/* The guest grants: frame and domid first, flags last (as a guest must). */
static void grant(uint32_t ref, uint32_t frame, uint16_t flags, uint16_t domid)
{
    struct grant_entry_v1 *e = entry(ref);

    e->frame = frame;
    e->domid = domid;
    __atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

/* Linux's gnttab_end_foreign_access_ref for v1: fails while dom0 maps. */
static int guest_end_access(uint32_t ref)
{
    uint16_t *pflags = &entry(ref)->flags;
    uint16_t flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);

    do {
        if (flags & (GTF_reading | GTF_writing))
            return 0;
    } while (!__atomic_compare_exchange_n(pflags, &flags, 0, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return 1;
}

static uint16_t flags_of(uint32_t ref)
{
    return __atomic_load_n(&entry(ref)->flags, __ATOMIC_ACQUIRE);
}

START_TEST(rw_map_marks_reading_writing_and_reaches_the_frame)
{
    struct tdm_grant_map m;
    int why = -1;

    grant(8, 10, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 8, false, &m, &why), 0);
    ck_assert_int_eq(why, TDM_GNT_OK);
    ck_assert_uint_eq(flags_of(8), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_uint_eq(m.domid, DOMID);
    ck_assert_uint_eq(m.ref, 8);
    memcpy(m.addr, "hello", 6);
    ck_assert_str_eq((char *)guest + 10 * 4096, "hello");
    ck_assert_int_eq(guest_end_access(8), 0);          /* guest cannot revoke now */
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
    ck_assert_uint_eq(flags_of(8), GTF_permit_access);
    ck_assert_int_eq(guest_end_access(8), 1);
    ck_assert_uint_eq(flags_of(8), 0);
}
END_TEST

START_TEST(ro_map_marks_reading_and_cannot_write)
{
    struct tdm_grant_map m;
    int p[2];

    grant(9, 11, GTF_permit_access | GTF_readonly, 0);
    strcpy((char *)guest + 11 * 4096, "guest data");
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 9, true, &m, NULL), 0);
    ck_assert_uint_eq(flags_of(9), GTF_permit_access | GTF_readonly | GTF_reading);
    ck_assert_str_eq(m.addr, "guest data");
    /* The page is mapped read-only: the kernel refuses to write into it. */
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(read(p[0], m.addr, 1), -1);
    ck_assert_int_eq(errno, EFAULT);
    close(p[0]);
    close(p[1]);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
    ck_assert_uint_eq(flags_of(9), GTF_permit_access | GTF_readonly);
}
END_TEST

START_TEST(pins_are_counted_per_ref)
{
    struct tdm_grant_map r1, r2, w;

    grant(12, 20, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 12, true, &r1, NULL), 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_reading);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 12, true, &r2, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 12, false, &w, NULL), 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_ptr_eq(r1.addr, r2.addr);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &w), 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_reading);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &r1), 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_reading);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &r2), 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &r2), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "not mapped"));
}
END_TEST

START_TEST(frame_is_fixed_at_first_pin)
{
    struct tdm_grant_map a, b;

    grant(13, 30, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 13, false, &a, NULL), 0);
    entry(13)->frame = 31;            /* the guest rewrites the frame while mapped */
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 13, false, &b, NULL), 0);
    ck_assert_ptr_eq(a.addr, b.addr);
    tdm_gnttab_unmap(g, &a);
    tdm_gnttab_unmap(g, &b);
}
END_TEST

struct refusal {
    uint32_t ref;
    uint16_t flags, domid;
    uint32_t frame;
    bool readonly;
    int reason, err;
    const char *text;
};

START_TEST(refusals_say_why_and_change_nothing)
{
    static const struct refusal cases[] = {
        { 20, GTF_invalid, 0, 1, false, TDM_GNT_NOT_GRANTED, EPERM, "dom5 ref 20: never granted" },
        { 21, GTF_readonly, 0, 1, true, TDM_GNT_NOT_GRANTED, EPERM, "never granted" },
        { 22, GTF_permit_access, 3, 1, true, TDM_GNT_OTHER_DOMAIN, EACCES, "domain 3, not 0" },
        { 23, GTF_permit_access | GTF_readonly, 0, 1, false, TDM_GNT_READ_ONLY, EROFS, "read-only grant" },
        { 24, GTF_permit_access, 0, 256, false, TDM_GNT_BAD_FRAME, EFAULT, "frame 0x100" },
        { 25, GTF_permit_access, 0, 0xffffffff, true, TDM_GNT_BAD_FRAME, EFAULT, "outside guest RAM" },
        { 26, GTF_transitive, 0, 1, true, TDM_GNT_UNSUPPORTED, EOPNOTSUPP, "GTF_transitive" },
        { 27, GTF_accept_transfer, 0, 1, false, TDM_GNT_UNSUPPORTED, EOPNOTSUPP, "GTF_accept_transfer" },
        { 28, GTF_permit_access | GTF_readonly, 7, 1, false, TDM_GNT_OTHER_DOMAIN, EACCES, "domain 7" },
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct refusal *c = &cases[i];
        struct grant_entry_v1 before;
        struct tdm_grant_map m;
        int why = 0;

        grant(c->ref, c->frame, c->flags, c->domid);
        before = *entry(c->ref);
        errno = 0;
        ck_assert_int_eq(tdm_gnttab_map(g, DOMID, c->ref, c->readonly, &m, &why), -1);
        ck_assert_msg(why == c->reason, "case %u: reason %d", i, why);
        ck_assert_int_eq(errno, c->err);
        ck_assert_msg(strstr(tdm_last_error(), c->text), "case %u: '%s'", i, tdm_last_error());
        ck_assert_ptr_null(m.addr);
        ck_assert_mem_eq(entry(c->ref), &before, sizeof(before));
    }
}
END_TEST

START_TEST(refs_and_domains_out_of_range)
{
    struct tdm_grant_map m;
    int why;

    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, NREFS, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_BAD_REF);
    ck_assert_int_eq(errno, ERANGE);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "table has 1024 entries"));
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 0xffffffffu, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_BAD_REF);
    /* No VMM for domain 9 in this run dir. */
    ck_assert_int_eq(tdm_gnttab_map(g, 9, 8, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_NO_DOMAIN);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "dom9.ctl"));
    ck_assert_int_eq(tdm_gnttab_map(g, 0, 8, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_NO_DOMAIN);
    ck_assert_int_eq(tdm_gnttab_map(g, 0x7FF0, 8, true, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_NO_DOMAIN);
}
END_TEST

START_TEST(upgrade_of_read_only_grant_keeps_read_pin)
{
    struct tdm_grant_map r, w;
    int why;

    grant(30, 40, GTF_permit_access | GTF_readonly, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 30, true, &r, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 30, false, &w, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_READ_ONLY);
    ck_assert_uint_eq(flags_of(30), GTF_permit_access | GTF_readonly | GTF_reading);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &w), -1);   /* the failed map is not a map */
    ck_assert_int_eq(tdm_gnttab_unmap(g, &r), 0);
    ck_assert_uint_eq(flags_of(30), GTF_permit_access | GTF_readonly);
}
END_TEST

START_TEST(unmap_checks_the_map)
{
    struct tdm_grant_map m, forged;

    grant(31, 41, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 31, false, &m, NULL), 0);
    forged = m;
    forged.readonly = true;                       /* never mapped read-only */
    ck_assert_int_eq(tdm_gnttab_unmap(g, &forged), -1);
    forged = m;
    forged.addr = (uint8_t *)m.addr + 4096;       /* wrong page */
    ck_assert_int_eq(tdm_gnttab_unmap(g, &forged), -1);
    forged = m;
    forged.ref = 1u << 30;
    ck_assert_int_eq(tdm_gnttab_unmap(g, &forged), -1);
    ck_assert_uint_eq(flags_of(31), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
}
END_TEST

START_TEST(batch_map_reports_each_ref)
{
    uint32_t refs[40];
    struct tdm_grant_map maps[40];
    int status[40];

    for (unsigned i = 0; i < 40; i++) {
        refs[i] = 600 + i;                         /* second grant frame */
        grant(refs[i], 50 + i, i % 5 == 4 ? GTF_invalid : GTF_permit_access, 0);
    }
    refs[39] = NREFS + 5;
    /* 0..38: every fifth (7 refs) never granted; 39: beyond the table. */
    ck_assert_uint_eq(tdm_gnttab_map_batch(g, DOMID, 40, refs, false, maps, status), 7 + 1);
    for (unsigned i = 0; i < 39; i++) {
        int want = i % 5 == 4 ? TDM_GNT_NOT_GRANTED : TDM_GNT_OK;

        ck_assert_int_eq(status[i], want);
        ck_assert(want == TDM_GNT_OK ? maps[i].addr != NULL : maps[i].addr == NULL);
        if (want == TDM_GNT_OK) {
            ck_assert_ptr_eq(maps[i].addr, (uint8_t *)maps[0].addr + 4096 * i);
            ck_assert_uint_eq(flags_of(refs[i]), GTF_permit_access | GTF_reading | GTF_writing);
        }
    }
    ck_assert_int_eq(status[39], TDM_GNT_BAD_REF);
    ck_assert_uint_eq(tdm_gnttab_unmap_batch(g, 40, maps, status), 0);
    for (unsigned i = 0; i < 39; i++)
        ck_assert_uint_eq(flags_of(refs[i]), i % 5 == 4 ? 0 : GTF_permit_access);
    ck_assert_uint_eq(tdm_gnttab_unmap_batch(g, 40, maps, status), 32);   /* none mapped now */
    ck_assert_uint_eq(tdm_gnttab_map_batch(g, DOMID, 0, refs, false, maps, status), 0);
}
END_TEST

START_TEST(copy_between_grants_and_buffers)
{
    struct tdm_gnttab_copy_seg seg[4];
    char buf[16] = "from dom0";
    char out[16] = "";

    grant(40, 60, GTF_permit_access, 0);
    grant(41, 61, GTF_permit_access | GTF_readonly, 0);
    strcpy((char *)guest + 61 * 4096 + 100, "guest says hi");
    memset(seg, 0, sizeof(seg));
    seg[0] = (struct tdm_gnttab_copy_seg){ .source = { .local = buf },
        .dest = { .is_grant = true, .domid = DOMID, .ref = 40, .offset = 4000 }, .len = 10 };
    seg[1] = (struct tdm_gnttab_copy_seg){ .source = { .is_grant = true, .domid = DOMID, .ref = 41, .offset = 100 },
        .dest = { .local = out }, .len = 14 };
    seg[2] = (struct tdm_gnttab_copy_seg){ .source = { .local = buf },     /* into a read-only grant */
        .dest = { .is_grant = true, .domid = DOMID, .ref = 41 }, .len = 4 };
    seg[3] = (struct tdm_gnttab_copy_seg){ .source = { .local = buf },     /* crosses the page end */
        .dest = { .is_grant = true, .domid = DOMID, .ref = 40, .offset = 4090 }, .len = 10 };
    ck_assert_uint_eq(tdm_gnttab_copy(g, seg, 4), 2);
    ck_assert_int_eq(seg[0].status, TDM_GNT_OK);
    ck_assert_str_eq((char *)guest + 60 * 4096 + 4000, "from dom0");
    ck_assert_int_eq(seg[1].status, TDM_GNT_OK);
    ck_assert_str_eq(out, "guest says hi");
    ck_assert_int_eq(seg[2].status, TDM_GNT_READ_ONLY);
    ck_assert_int_eq(seg[3].status, TDM_GNT_BAD_ARG);
    ck_assert_uint_eq(flags_of(40), GTF_permit_access);
    ck_assert_uint_eq(flags_of(41), GTF_permit_access | GTF_readonly);
}
END_TEST

START_TEST(close_drops_the_marks)
{
    struct tdm_grant_map m;

    grant(50, 70, GTF_permit_access, 0);
    grant(51, 71, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 50, false, &m, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 51, true, &m, NULL), 0);
    tdm_gnttab_close(g);
    g = NULL;
    ck_assert_uint_eq(flags_of(50), GTF_permit_access);
    ck_assert_uint_eq(flags_of(51), GTF_permit_access);
}
END_TEST

START_TEST(detach_drops_marks_and_forgets)
{
    struct tdm_grant_map m;
    struct tdm_guest_memory lay = layout();
    int why;

    grant(52, 72, GTF_permit_access, 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 52, false, &m, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_detach(g, DOMID), 0);
    ck_assert_uint_eq(flags_of(52), GTF_permit_access);
    ck_assert_int_eq(tdm_gnttab_detach(g, DOMID), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* Not attached any more, and no VMM to ask in this run dir. */
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 52, false, &m, &why), -1);
    ck_assert_int_eq(why, TDM_GNT_NO_DOMAIN);
    ck_assert_int_eq(tdm_gnttab_attach(g, DOMID, &lay), 0);
    ck_assert_int_eq(tdm_gnttab_map(g, DOMID, 52, false, &m, NULL), 0);
    ck_assert_int_eq(tdm_gnttab_unmap(g, &m), 0);
}
END_TEST

START_TEST(bad_layouts_are_refused)
{
    struct tdm_guest_memory m;
    struct tdm_gnttab *h = tdm_gnttab_open(NULL);

    m = layout();
    ck_assert_int_eq(tdm_gnttab_attach(g, DOMID, &m), -1);
    ck_assert_int_eq(errno, EEXIST);
    m = layout(); m.ram_size = 0;
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout(); m.ram_size = RAM + 1;
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout(); m.region_offset = RAM / 2;                 /* overlaps RAM */
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout(); m.region_size = 1ULL << 30;               /* beyond the memfd */
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "memfd has"));
    m = layout(); m.frame_gpa[1] = REGION_GPA + REGION;     /* not guest memory */
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    ck_assert_ptr_nonnull(strstr(tdm_last_error(), "grant frame 1"));
    m = layout(); m.frame_gpa[0] = REGION_GPA + 8;          /* unaligned */
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout(); m.nr_frames = TDM_GNTTAB_MAX_FRAMES + 1;
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout(); m.memfd = -1;
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), -1);
    m = layout();
    ck_assert_int_eq(tdm_gnttab_attach(h, 6, &m), 0);        /* and a good one works */
    tdm_gnttab_close(h);
}
END_TEST

START_TEST(reasons_have_text)
{
    for (int r = 0; r < TDM_GNT_REASON_COUNT; r++)
        ck_assert_str_ne(tdm_gnttab_reason(r), "unknown reason");
    ck_assert_str_eq(tdm_gnttab_reason(-1), "unknown reason");
    ck_assert_str_eq(tdm_gnttab_reason(TDM_GNT_REASON_COUNT), "unknown reason");
}
END_TEST

/* ---- end_access (guest) racing map (dom0) ---- */

#define RACE_ITERS 20000

struct race {
    pthread_barrier_t start, done;
    uint32_t ref;
    bool readonly;
    int guest_won, map_won;
};

static void *guest_thread(void *arg)
{
    struct race *r = arg;

    for (int i = 0; i < RACE_ITERS; i++) {
        grant(r->ref, 80, GTF_permit_access, 0);
        pthread_barrier_wait(&r->start);
        r->guest_won = guest_end_access(r->ref);
        pthread_barrier_wait(&r->done);     /* dom0 checks the outcome */
        pthread_barrier_wait(&r->start);    /* dom0 has unmapped */
    }
    return NULL;
}

START_TEST(end_access_races_map_exactly_one_wins)
{
    static struct race r;
    pthread_t t;
    unsigned both_won = 0, none_won = 0, maps = 0, ends = 0;

    memset(&r, 0, sizeof(r));
    r.ref = 100 + (unsigned)_i;
    r.readonly = _i == 1;
    pthread_barrier_init(&r.start, NULL, 2);
    pthread_barrier_init(&r.done, NULL, 2);
    ck_assert_int_eq(pthread_create(&t, NULL, guest_thread, &r), 0);
    for (int i = 0; i < RACE_ITERS; i++) {
        struct tdm_grant_map m;
        int why = 0;

        pthread_barrier_wait(&r.start);
        r.map_won = tdm_gnttab_map(g, DOMID, r.ref, r.readonly, &m, &why) == 0;
        pthread_barrier_wait(&r.done);
        both_won += r.map_won && r.guest_won;
        none_won += !r.map_won && !r.guest_won;
        if (r.guest_won) {
            ends++;
            /* Revoked: the entry is empty and the map said so. */
            ck_assert_uint_eq(flags_of(r.ref), 0);
            if (!r.map_won)
                ck_assert_int_eq(why, TDM_GNT_NOT_GRANTED);
        }
        if (r.map_won) {
            maps++;
            ck_assert(flags_of(r.ref) & GTF_reading);
            tdm_gnttab_unmap(g, &m);
        }
        pthread_barrier_wait(&r.start);
    }
    pthread_join(t, NULL);
    ck_assert_uint_eq(both_won, 0);
    ck_assert_uint_eq(none_won, 0);
    ck_assert_uint_eq(maps + ends, RACE_ITERS);
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.done);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gnttab_map");
    TCase *t = tcase_create("flags");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, rw_map_marks_reading_writing_and_reaches_the_frame);
    tcase_add_test(t, ro_map_marks_reading_and_cannot_write);
    tcase_add_test(t, pins_are_counted_per_ref);
    tcase_add_test(t, frame_is_fixed_at_first_pin);
    tcase_add_test(t, refusals_say_why_and_change_nothing);
    tcase_add_test(t, refs_and_domains_out_of_range);
    tcase_add_test(t, upgrade_of_read_only_grant_keeps_read_pin);
    tcase_add_test(t, unmap_checks_the_map);
    tcase_add_test(t, batch_map_reports_each_ref);
    tcase_add_test(t, copy_between_grants_and_buffers);
    tcase_add_test(t, close_drops_the_marks);
    tcase_add_test(t, detach_drops_marks_and_forgets);
    tcase_add_test(t, bad_layouts_are_refused);
    tcase_add_test(t, reasons_have_text);
    suite_add_tcase(s, t);
    t = tcase_create("race");
    tcase_set_timeout(t, 120);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, end_access_races_map_exactly_one_wins, 0, 2);
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

/*
 * Host tests of the guest's grant-table code (frontends/kernel/gnttab.c)
 * over a table in test memory: the reference allocator (reserved refs,
 * exhaustion, all-or-nothing batches, double and foreign frees), entry
 * filling, end_access refusing while the other end has the page mapped,
 * and a race against a "dom0" thread that maps with compare-and-swap as
 * the dom0 grant library does.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>

#include "gnttab.h"
#include "platform.h"
#include "thread.h"

#define NR 1024
#define FREE_AT_START (NR - GNTTAB_NR_RESERVED_ENTRIES)

/* ---- what gnttab.c needs from the rest of the kernel ---- */

char *hypercall_page;
struct platform platform;
static char logbuf[4096];
static uint64_t fake_ns;

int printk(const char *fmt, ...)
{
    va_list ap;
    size_t used = strlen(logbuf);
    va_start(ap, fmt);
    int n = vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
    va_end(ap);
    return n;
}

unsigned long arch_irq_save(void) { return 0; }
void arch_irq_restore(unsigned long flags) { (void)flags; }
void waitq_wake_all(struct waitq *wq) { (void)wq; }
/* set by a test: a reference "another thread" frees while we get ready to sleep */
static grant_ref_t free_on_prepare = GNTTAB_INVALID_REF;
void waitq_prepare(struct waitq *wq, uint64_t deadline)
{
    (void)wq, (void)deadline;
    if (free_on_prepare != GNTTAB_INVALID_REF)
        gnttab_free_ref(free_on_prepare);
    free_on_prepare = GNTTAB_INVALID_REF;
}
void waitq_cancel(struct waitq *wq) { (void)wq; }
void waitq_sleep(struct waitq *wq) { (void)wq; }
void thread_yield(void) {}
/* each look at the clock moves it 1 ms: waits with a deadline end */
uint64_t monotonic_ns(void) { return fake_ns += 1000000; }

static struct grant_entry_v1 table[NR];

static void setup(void)
{
    logbuf[0] = '\0';
    memset(table, 0xAB, sizeof(table)); /* stale contents everywhere */
    gnttab_attach_table(table, NR);
}

START_TEST(attach_keeps_reserved_clears_rest)
{
    ck_assert(gnttab_available());
    ck_assert_uint_eq(gnttab_nr_entries(), NR);
    ck_assert_uint_eq(gnttab_nr_frames(), NR / 512);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
    ck_assert_uint_eq(table[GNTTAB_RESERVED_XENSTORE].flags, 0xABAB); /* the toolstack's */
    for (int i = GNTTAB_NR_RESERVED_ENTRIES; i < NR; i++)
        ck_assert_uint_eq(table[i].flags, 0);
}
END_TEST

START_TEST(grant_fills_entry)
{
    int ref = gnttab_grant_access(0, 0x1234, false);
    ck_assert_int_ge(ref, GNTTAB_NR_RESERVED_ENTRIES);
    ck_assert_uint_eq(table[ref].flags, GTF_permit_access);
    ck_assert_uint_eq(table[ref].domid, 0);
    ck_assert_uint_eq(table[ref].frame, 0x1234);
    int ro = gnttab_grant_access(3, 0x99, true);
    ck_assert_int_ne(ro, ref);
    ck_assert_uint_eq(table[ro].flags, GTF_permit_access | GTF_readonly);
    ck_assert_uint_eq(table[ro].domid, 3);
    ck_assert_int_eq(gnttab_grant_access(0, 1ULL << 32, false), -EINVAL); /* no such frame */
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START - 2);
}
END_TEST

START_TEST(end_access_refused_while_mapped)
{
    int ref = gnttab_grant_access(0, 7, false);
    table[ref].flags |= GTF_reading;
    ck_assert_int_eq(gnttab_end_access(ref), -EBUSY);
    ck_assert(gnttab_in_use(ref));
    ck_assert_uint_eq(table[ref].flags, GTF_permit_access | GTF_reading); /* untouched */
    table[ref].flags = GTF_permit_access | GTF_writing;
    ck_assert_int_eq(gnttab_end_access_and_free(ref), -EBUSY);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START - 1);
    table[ref].flags = GTF_permit_access; /* dom0 unmapped */
    ck_assert(!gnttab_in_use(ref));
    ck_assert_int_eq(gnttab_end_access_and_free(ref), 0);
    ck_assert_uint_eq(table[ref].flags, 0);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
}
END_TEST

START_TEST(end_access_bad_refs)
{
    int ref = gnttab_alloc_ref();
    ck_assert_int_eq(gnttab_end_access(ref), -EINVAL); /* never granted */
    ck_assert_int_eq(gnttab_end_access(NR), -EINVAL);
    ck_assert_int_eq(gnttab_end_access(GNTTAB_INVALID_REF), -EINVAL);
}
END_TEST

START_TEST(bad_frees_refused_with_message)
{
    ck_assert_int_eq(gnttab_free_ref(GNTTAB_RESERVED_XENSTORE), -EINVAL);
    ck_assert_ptr_nonnull(strstr(logbuf, "outside"));
    ck_assert_int_eq(gnttab_free_ref(NR), -EINVAL);
    int ref = gnttab_grant_access(0, 5, false);
    logbuf[0] = '\0';
    ck_assert_int_eq(gnttab_free_ref(ref), -EBUSY); /* still granted */
    ck_assert_ptr_nonnull(strstr(logbuf, "still granted"));
    ck_assert_int_eq(gnttab_end_access(ref), 0);
    ck_assert_int_eq(gnttab_free_ref(ref), 0);
    logbuf[0] = '\0';
    ck_assert_int_eq(gnttab_free_ref(ref), -EINVAL);
    ck_assert_ptr_nonnull(strstr(logbuf, "double free"));
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
}
END_TEST

START_TEST(exhaustion_and_batches)
{
    static grant_ref_t refs[FREE_AT_START + 1];
    ck_assert_int_eq(gnttab_alloc_refs(FREE_AT_START + 1, refs), -ENOSPC);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START); /* nothing taken */
    ck_assert_int_eq(gnttab_alloc_refs(FREE_AT_START, refs), 0);
    static char seen[NR];
    for (int i = 0; i < FREE_AT_START; i++) {
        ck_assert_uint_ge(refs[i], GNTTAB_NR_RESERVED_ENTRIES);
        ck_assert_uint_lt(refs[i], NR);
        ck_assert(!seen[refs[i]]);
        seen[refs[i]] = 1;
    }
    ck_assert_int_eq(gnttab_alloc_ref(), -ENOSPC);
    grant_ref_t one;
    ck_assert_int_eq(gnttab_alloc_refs_wait(1, &one, monotonic_ns() + 10000000), -ETIMEDOUT);
    ck_assert_int_eq(gnttab_alloc_refs_wait(NR, &one, 0), -ENOSPC); /* could never be met */
    gnttab_free_refs(refs, FREE_AT_START);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
    ck_assert_int_eq(gnttab_alloc_refs_wait(1, &one, 0), 0);
}
END_TEST

/* The free lands between wait_event's two looks at the condition: the
 * references must be taken exactly once. */
START_TEST(alloc_wait_takes_once)
{
    static grant_ref_t all[FREE_AT_START];
    ck_assert_int_eq(gnttab_alloc_refs(FREE_AT_START, all), 0);
    free_on_prepare = all[5];
    grant_ref_t one = GNTTAB_INVALID_REF;
    ck_assert_int_eq(gnttab_alloc_refs_wait(1, &one, monotonic_ns() + 50000000), 0);
    ck_assert_uint_eq(one, all[5]);
    ck_assert_uint_eq(gnttab_free_count(), 0);
    gnttab_free_refs(all, FREE_AT_START);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
}
END_TEST

START_TEST(grant_frames_and_end_many)
{
    uint64_t frames[4] = { 10, 11, 12, 13 };
    grant_ref_t refs[4];
    ck_assert_int_eq(gnttab_grant_frames(0, frames, 4, true, refs), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(table[refs[i]].frame, frames[i]);
        ck_assert_uint_eq(table[refs[i]].flags, GTF_permit_access | GTF_readonly);
    }
    table[refs[2]].flags |= GTF_reading;
    ck_assert_uint_eq(gnttab_end_access_refs(refs, 4, true), 1);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START - 1); /* the busy one stays */
    ck_assert_uint_eq(table[refs[2]].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    table[refs[2]].flags &= (uint16_t)~GTF_reading;
    ck_assert_uint_eq(gnttab_end_access_refs(&refs[2], 1, true), 0);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
    uint64_t bad[2] = { 1, 1ULL << 40 };
    ck_assert_int_eq(gnttab_grant_frames(0, bad, 2, false, refs), -EINVAL);
    ck_assert_uint_eq(gnttab_free_count(), FREE_AT_START);
}
END_TEST

/* ---- the race with a mapping dom0 ---- */

static struct {
    grant_ref_t ref;
    int revoked;   /* set by the guest after end_access succeeded */
    int stop;
    long maps, violations;
} race;

/* dom0's map: permit -> permit|reading by cmpxchg, never over a revoked entry */
static void *dom0_mapper(void *arg)
{
    (void)arg;
    struct grant_entry_v1 *e = &table[race.ref];
    while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
        uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        if ((f & GTF_type_mask) != GTF_permit_access || (f & GTF_reading))
            continue;
        if (!__atomic_compare_exchange_n(&e->flags, &f, (uint16_t)(f | GTF_reading), false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        __atomic_fetch_add(&race.maps, 1, __ATOMIC_RELEASE);
        for (volatile int io = 0; io < 50; io++)
            if (__atomic_load_n(&race.revoked, __ATOMIC_ACQUIRE))
                race.violations++; /* mapped a page the guest already took back */
        __atomic_fetch_and(&e->flags, (uint16_t)~GTF_reading, __ATOMIC_ACQ_REL);
        for (volatile int idle = 0; idle < 50; idle++)
            ; /* unmapped for about as long as mapped: end_access gets its chances */
    }
    return NULL;
}

START_TEST(end_access_races_dom0_map)
{
    long busy = 0;
    for (int round = 0; round < 500; round++) {
        int ref = gnttab_grant_access(0, 42, false);
        ck_assert_int_ge(ref, 0);
        race.ref = (grant_ref_t)ref;
        race.revoked = 0;
        race.stop = 0;
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, dom0_mapper, NULL), 0);
        long maps0 = race.maps;
        while (__atomic_load_n(&race.maps, __ATOMIC_ACQUIRE) == maps0)
            sched_yield(); /* until dom0 has mapped it once: the race is on */
        int r;
        while ((r = gnttab_end_access(ref)) == -EBUSY)
            if (++busy % 1024 == 0)
                sched_yield(); /* on a loaded host the mapper may be off-CPU */
        ck_assert_int_eq(r, 0);
        __atomic_store_n(&race.revoked, 1, __ATOMIC_RELEASE);
        for (volatile int spin = 0; spin < 2000; spin++)
            ; /* let the mapper try on the revoked entry */
        __atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
        pthread_join(t, NULL);
        ck_assert_uint_eq(table[ref].flags, 0);
        ck_assert_int_eq(gnttab_free_ref(ref), 0);
    }
    ck_assert_int_eq(race.violations, 0);
    printf("guest_gnttab race: %ld dom0 maps, %ld end_access refused while mapped\n", race.maps,
           busy);
}
END_TEST

START_TEST(no_table_no_service)
{
    gnttab_attach_table(table, 4); /* too small: refused, nothing attached */
    ck_assert(!gnttab_available());
    ck_assert_int_eq(gnttab_alloc_ref(), -ENODEV);
    ck_assert_int_eq(gnttab_grant_access(0, 1, false), -ENODEV);
    ck_assert_int_eq(gnttab_end_access(8), -ENODEV);
    ck_assert_int_eq(gnttab_free_ref(8), -ENODEV);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_gnttab");
    TCase *tc = tcase_create("gnttab");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, attach_keeps_reserved_clears_rest);
    tcase_add_test(tc, grant_fills_entry);
    tcase_add_test(tc, end_access_refused_while_mapped);
    tcase_add_test(tc, end_access_bad_refs);
    tcase_add_test(tc, bad_frees_refused_with_message);
    tcase_add_test(tc, exhaustion_and_batches);
    tcase_add_test(tc, alloc_wait_takes_once);
    tcase_add_test(tc, grant_frames_and_end_many);
    tcase_add_test(tc, end_access_races_dom0_map);
    tcase_add_test(tc, no_table_no_service);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

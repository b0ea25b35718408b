/* Two dom0 threads map and unmap the same grant through one handle (read-
 * only and writable pins interleaving) while the guest keeps trying to end
 * access and re-grants whenever it succeeds. Whatever the interleaving:
 * a thread holding a map always sees GTF_reading (and GTF_writing for a
 * writable one) on the entry, i.e. the guest never revoked a mapped page;
 * and at the end no flag is left behind. (gnttab_map.c races one map
 * against one end_access; this is the pin counting under contention.) */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tdm_gnttab.h"
#include "public/grant_table.h"

#define DOMID      5
#define RAM        (1u << 20)
#define REGION_GPA 0xFC000000ULL
#define REGION     0x10000u
#define REF        42
#define FRAME      80
#define ITERS      200000

static int memfd;
static uint8_t *guest;
static struct tdm_gnttab *g;
static int stop, violations;
static unsigned long guest_revokes;

static struct grant_entry_v1 *entry(void)
{
    return (struct grant_entry_v1 *)(guest + RAM + 0x1000) + REF;
}

static uint16_t flags(void)
{
    return __atomic_load_n(&entry()->flags, __ATOMIC_ACQUIRE);
}

static void grant(void)
{
    entry()->frame = FRAME;
    entry()->domid = 0;
    __atomic_store_n(&entry()->flags, GTF_permit_access, __ATOMIC_RELEASE);
}

/* The guest: end access whenever dom0 holds nothing, then grant again. */
static void *guest_thread(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        uint16_t f = flags();
        if (!(f & (GTF_reading | GTF_writing)) && f &&
            __atomic_compare_exchange_n(&entry()->flags, &f, 0, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            guest_revokes++;
            grant();
        }
    }
    return NULL;
}

static void *dom0_thread(void *arg)
{
    bool readonly = arg != NULL;
    uint16_t want = GTF_reading | (readonly ? 0 : GTF_writing);
    for (int i = 0; i < ITERS; i++) {
        struct tdm_grant_map m;
        int why;
        if (tdm_gnttab_map(g, DOMID, REF, readonly, &m, &why) < 0) {
            if (why != TDM_GNT_NOT_GRANTED)   /* revoked for a moment: fine */
                __atomic_fetch_add(&violations, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        if ((flags() & want) != want)
            __atomic_fetch_add(&violations, 1, __ATOMIC_SEQ_CST);
        ((volatile uint8_t *)m.addr)[readonly ? 0 : i % 4096];
        if ((flags() & want) != want)
            __atomic_fetch_add(&violations, 1, __ATOMIC_SEQ_CST);
        if (tdm_gnttab_unmap(g, &m) < 0)
            __atomic_fetch_add(&violations, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

START_TEST(two_mappers_and_a_revoking_guest)
{
    memfd = memfd_create("guest", MFD_CLOEXEC);
    ck_assert_int_eq(ftruncate(memfd, RAM + REGION), 0);
    guest = mmap(NULL, RAM + REGION, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    ck_assert_ptr_ne(guest, MAP_FAILED);
    g = tdm_gnttab_open("/nonexistent-run-dir");
    struct tdm_guest_memory m = { .memfd = memfd, .ram_size = RAM, .region_gpa = REGION_GPA,
                                  .region_offset = RAM, .region_size = REGION, .nr_frames = 1,
                                  .frame_gpa = { REGION_GPA + 0x1000 } };
    ck_assert_int_eq(tdm_gnttab_attach(g, DOMID, &m), 0);
    grant();
    pthread_t gt, rw, ro;
    ck_assert_int_eq(pthread_create(&gt, NULL, guest_thread, NULL), 0);
    ck_assert_int_eq(pthread_create(&rw, NULL, dom0_thread, NULL), 0);
    ck_assert_int_eq(pthread_create(&ro, NULL, dom0_thread, (void *)1), 0);
    pthread_join(rw, NULL);
    pthread_join(ro, NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(gt, NULL);
    ck_assert_int_eq(violations, 0);
    ck_assert_uint_gt(guest_revokes, 0);   /* the guest really got in between */
    ck_assert_uint_eq(flags() & (GTF_reading | GTF_writing), 0);
    tdm_gnttab_close(g);
    munmap(guest, RAM + REGION);
    close(memfd);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gnttab_pins_race");
    TCase *tc = tcase_create("race");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_mappers_and_a_revoking_guest);
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

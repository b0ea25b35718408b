/* The 2-level pending-bit protocol (dom0/evtchn/evtchn_2l.c), including a
 * guest consumer racing two producers. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "evtchn_2l.h"

static struct shared_info *new_shared(void)
{
    struct shared_info *s = aligned_alloc(4096, 4096);

    ck_assert_ptr_nonnull(s);
    memset(s, 0, 4096);
    return s;
}

static int bit(const xen_ulong_t *w, unsigned n)
{
    return (w[n / 64] >> (n % 64)) & 1;
}

START_TEST(unmasked_port_raises_upcall_once)
{
    struct shared_info *s = new_shared();
    struct vcpu_info *v = evtchn_2l_vcpu(s, 0);

    ck_assert(evtchn_2l_set_pending(s, v, 5));
    ck_assert(bit(s->evtchn_pending, 5));
    ck_assert_uint_eq(v->evtchn_pending_sel, 1);
    ck_assert_uint_eq(v->evtchn_upcall_pending, 1);
    /* Already pending: nothing more to do, no second interrupt. */
    ck_assert(!evtchn_2l_set_pending(s, v, 5));
    /* Another port in the same word while the upcall is outstanding. */
    ck_assert(!evtchn_2l_set_pending(s, v, 6));
    ck_assert(bit(s->evtchn_pending, 6));
    ck_assert(evtchn_2l_is_pending(s, 6));
    free(s);
}
END_TEST

START_TEST(selector_bit_is_the_word_index)
{
    struct shared_info *s = new_shared();
    struct vcpu_info *v = evtchn_2l_vcpu(s, 3);
    const unsigned ports[] = { 1, 63, 64, 127, 128, 2048, 4095 };
    const xen_ulong_t sel = (1UL << 0) | (1UL << 1) | (1UL << 2) | (1UL << 32) | (1UL << 63);

    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        evtchn_2l_set_pending(s, v, ports[i]);
    ck_assert_uint_eq(v->evtchn_pending_sel, sel);
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_pending_sel, 0);
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 0);
    ck_assert_uint_eq(v->evtchn_upcall_pending, 1);
    free(s);
}
END_TEST

START_TEST(masked_port_waits_for_unmask)
{
    struct shared_info *s = new_shared();
    struct vcpu_info *v = evtchn_2l_vcpu(s, 0);

    evtchn_2l_mask(s, 70);
    ck_assert(evtchn_2l_is_masked(s, 70));
    ck_assert(!evtchn_2l_set_pending(s, v, 70));
    ck_assert(evtchn_2l_is_pending(s, 70));
    ck_assert_uint_eq(v->evtchn_pending_sel, 0);
    ck_assert_uint_eq(v->evtchn_upcall_pending, 0);
    ck_assert(evtchn_2l_unmask(s, v, 70));
    ck_assert(!evtchn_2l_is_masked(s, 70));
    ck_assert_uint_eq(v->evtchn_pending_sel, 1UL << 1);
    ck_assert_uint_eq(v->evtchn_upcall_pending, 1);
    free(s);
}
END_TEST

START_TEST(unmask_without_pending_or_mask_does_nothing)
{
    struct shared_info *s = new_shared();
    struct vcpu_info *v = evtchn_2l_vcpu(s, 0);

    evtchn_2l_mask(s, 9);
    ck_assert(!evtchn_2l_unmask(s, v, 9));        /* masked, not pending */
    ck_assert(!evtchn_2l_is_masked(s, 9));
    ck_assert_uint_eq(v->evtchn_upcall_pending, 0);
    s->evtchn_pending[0] = 1UL << 9;               /* pending, not masked */
    ck_assert(!evtchn_2l_unmask(s, v, 9));
    ck_assert_uint_eq(v->evtchn_pending_sel, 0);
    free(s);
}
END_TEST

START_TEST(invalid_ports_and_vcpus_change_nothing)
{
    struct shared_info *s = new_shared();
    struct shared_info *zero = new_shared();
    const evtchn_port_t bad[] = { 0, 4096, 4097, 65536, 0xffffffffu };

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert(!evtchn_2l_port_valid(bad[i]));
        ck_assert(!evtchn_2l_set_pending(s, evtchn_2l_vcpu(s, 0), bad[i]));
        ck_assert(!evtchn_2l_unmask(s, evtchn_2l_vcpu(s, 0), bad[i]));
        evtchn_2l_mask(s, bad[i]);
        evtchn_2l_clear_pending(s, bad[i]);
        ck_assert(!evtchn_2l_is_pending(s, bad[i]));
    }
    ck_assert_ptr_null(evtchn_2l_vcpu(s, XEN_LEGACY_MAX_VCPUS));
    ck_assert(!evtchn_2l_set_pending(s, NULL, 3));
    ck_assert_mem_eq(s, zero, 4096);
    ck_assert(evtchn_2l_port_valid(1) && evtchn_2l_port_valid(4095));
    free(s);
    free(zero);
}
END_TEST

START_TEST(every_port_once)
{
    struct shared_info *s = new_shared();
    struct vcpu_info *v = evtchn_2l_vcpu(s, 1);
    unsigned upcalls = 0;

    for (evtchn_port_t p = 1; p < EVTCHN_2L_NR_CHANNELS; p++)
        upcalls += evtchn_2l_set_pending(s, v, p);
    ck_assert_uint_eq(upcalls, 1);
    ck_assert_uint_eq(v->evtchn_pending_sel, ~0UL);
    ck_assert_uint_eq(s->evtchn_pending[0], ~1UL);       /* port 0 never */
    for (unsigned w = 1; w < 64; w++)
        ck_assert_uint_eq(s->evtchn_pending[w], ~0UL);
    for (evtchn_port_t p = 1; p < EVTCHN_2L_NR_CHANNELS; p++)
        evtchn_2l_clear_pending(s, p);
    ck_assert_uint_eq(s->evtchn_pending[0] | s->evtchn_pending[17], 0);
    free(s);
}
END_TEST

/* ---- Race: two producers (dom0 services / VMM) and one guest consumer ---- */

#define RACE_ROUNDS 300
#define RACE_TIMEOUT_S 20

struct race {
    struct shared_info *s;
    struct vcpu_info *v;
    int irq;                                 /* eventfd standing in for the irqfd */
    unsigned seen[EVTCHN_2L_NR_CHANNELS];    /* deliveries per port, by the guest */
    int stop;
    int failed;
};

struct producer {
    struct race *r;
    evtchn_port_t first, step, count;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a guest's upcall handler does: clear the flag, take the selector,
 * take each word's unmasked pending bits and clear them. */
static void guest_scan(struct race *r)
{
    xen_ulong_t sel;

    __atomic_store_n(&r->v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    sel = __atomic_exchange_n(&r->v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned w = (unsigned)__builtin_ctzl(sel);
        xen_ulong_t bits;

        sel &= sel - 1;
        bits = __atomic_load_n(&r->s->evtchn_pending[w], __ATOMIC_SEQ_CST) &
               ~__atomic_load_n(&r->s->evtchn_mask[w], __ATOMIC_SEQ_CST);
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzl(bits);

            bits &= bits - 1;
            __atomic_fetch_and(&r->s->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            __atomic_fetch_add(&r->seen[w * 64 + b], 1, __ATOMIC_SEQ_CST);
        }
    }
}

static void *guest_thread(void *arg)
{
    struct race *r = arg;
    struct pollfd p = { .fd = r->irq, .events = POLLIN };
    uint64_t n;

    while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
        if (poll(&p, 1, 100) != 1)
            continue;
        if (read(r->irq, &n, sizeof(n)) != sizeof(n))
            continue;
        guest_scan(r);
    }
    return NULL;
}

/* Each round: raise all my ports, then wait until the guest saw each one
 * round+1 times. A lost wakeup shows up as a port never seen. */
static void *producer_thread(void *arg)
{
    struct producer *p = arg;
    struct race *r = p->r;
    const uint64_t one = 1;

    for (unsigned round = 0; round < RACE_ROUNDS; round++) {
        double deadline = now_s() + RACE_TIMEOUT_S;

        for (unsigned i = 0; i < p->count; i++)
            if (evtchn_2l_set_pending(r->s, r->v, p->first + i * p->step))
                (void)!write(r->irq, &one, sizeof(one));
        for (unsigned i = 0; i < p->count; i++) {
            evtchn_port_t port = p->first + i * p->step;

            while (__atomic_load_n(&r->seen[port], __ATOMIC_SEQ_CST) < round + 1) {
                if (now_s() > deadline) {
                    __atomic_store_n(&r->failed, (int)port, __ATOMIC_SEQ_CST);
                    return NULL;
                }
                sched_yield();
            }
        }
    }
    return NULL;
}

START_TEST(racing_producers_lose_nothing)
{
    static struct race r;
    struct producer a = { &r, 1, 34, 120 }, b = { &r, 2, 32, 127 }; /* odd vs even ports */
    pthread_t g, pa, pb;

    memset(&r, 0, sizeof(r));
    r.s = new_shared();
    r.v = evtchn_2l_vcpu(r.s, 0);
    r.irq = eventfd(0, EFD_CLOEXEC);
    ck_assert_int_ge(r.irq, 0);
    ck_assert_int_eq(pthread_create(&g, NULL, guest_thread, &r), 0);
    ck_assert_int_eq(pthread_create(&pa, NULL, producer_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&pb, NULL, producer_thread, &b), 0);
    pthread_join(pa, NULL);
    pthread_join(pb, NULL);
    __atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(g, NULL);
    ck_assert_msg(r.failed == 0, "port %d raised but never delivered", r.failed);
    for (unsigned i = 0; i < a.count; i++)
        ck_assert_uint_eq(r.seen[a.first + i * a.step], RACE_ROUNDS);
    for (unsigned i = 0; i < b.count; i++)
        ck_assert_uint_eq(r.seen[b.first + i * b.step], RACE_ROUNDS);
    close(r.irq);
    free(r.s);
}
END_TEST

/* Free-running producers (no handshake) hammering shared words: after
 * they stop, every port raised since the guest's last look is still
 * pending or has been delivered — the final scan must find all of them. */
struct hammer {
    struct race *r;
    evtchn_port_t first;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    const uint64_t one = 1;

    for (unsigned round = 0; round < 2000; round++)
        for (evtchn_port_t p = h->first; p < 256; p += 2)
            if (evtchn_2l_set_pending(h->r->s, h->r->v, p))
                (void)!write(h->r->irq, &one, sizeof(one));
    return NULL;
}

START_TEST(hammering_leaves_no_port_stranded)
{
    static struct race r;
    struct hammer a = { &r, 2 }, b = { &r, 3 };
    pthread_t g, pa, pb;

    memset(&r, 0, sizeof(r));
    r.s = new_shared();
    r.v = evtchn_2l_vcpu(r.s, 0);
    r.irq = eventfd(0, EFD_CLOEXEC);
    ck_assert_int_eq(pthread_create(&g, NULL, guest_thread, &r), 0);
    ck_assert_int_eq(pthread_create(&pa, NULL, hammer_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&pb, NULL, hammer_thread, &b), 0);
    pthread_join(pa, NULL);
    pthread_join(pb, NULL);
    __atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(g, NULL);
    /* Invariant of the protocol: a pending, unmasked port is always
     * reachable — its selector bit is set, or the upcall flag is clear
     * only if an interrupt is queued for the guest. */
    {
        uint64_t queued = 0;
        struct pollfd p = { .fd = r.irq, .events = POLLIN };

        if (poll(&p, 1, 0) == 1)
            ck_assert_int_eq(read(r.irq, &queued, sizeof(queued)), sizeof(queued));
        for (evtchn_port_t port = 2; port < 256; port++) {
            if (!evtchn_2l_is_pending(r.s, port))
                continue;
            ck_assert_msg(r.v->evtchn_pending_sel & (1UL << (port / 64)),
                          "port %u pending without selector bit", port);
            ck_assert_msg(r.v->evtchn_upcall_pending == 1,
                          "port %u pending without upcall flag", port);
            ck_assert_msg(queued > 0, "port %u pending without an interrupt queued", port);
        }
        guest_scan(&r);
        for (evtchn_port_t port = 2; port < 256; port++)
            ck_assert(!evtchn_2l_is_pending(r.s, port));
    }
    close(r.irq);
    free(r.s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn_2l");
    TCase *t = tcase_create("protocol");

    tcase_add_test(t, unmasked_port_raises_upcall_once);
    tcase_add_test(t, selector_bit_is_the_word_index);
    tcase_add_test(t, masked_port_waits_for_unmask);
    tcase_add_test(t, unmask_without_pending_or_mask_does_nothing);
    tcase_add_test(t, invalid_ports_and_vcpus_change_nothing);
    tcase_add_test(t, every_port_once);
    suite_add_tcase(s, t);
    t = tcase_create("race");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, racing_producers_lose_nothing);
    tcase_add_test(t, hammering_leaves_no_port_stranded);
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

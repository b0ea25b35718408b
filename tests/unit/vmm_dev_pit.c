/* Check suite for the i8254 PIT (hypervisor/vmm/dev/pit.c) on a fake clock:
 * the counting element and OUT of modes 0-5, latch and read-back, access
 * modes, BCD, the gate and OUT2 through port 0x61, the refresh toggle, and
 * IRQ 0's events for the VMM's timer loop. */
#include <check.h>
#include <stdlib.h>

#include "dev/pit.h"
#include "vmm_dev_bus.h"

static struct iobus *bus;
static struct trec rec;
static struct pit *pit;
static uint64_t fake_now;
static unsigned nchanged;

static uint64_t fake_clock(void *opaque)
{
    (void)opaque;
    return fake_now;
}

static void on_changed(void *opaque)
{
    (void)opaque;
    nchanged++;
}

static void setup(void)
{
    rec = (struct trec){ 0 };
    fake_now = 5000000000ull;
    nchanged = 0;
    bus = iobus_new();
    struct irq_line irq0 = { trec_set, &rec, 0 };
    struct pit_clock clk = { fake_clock, NULL };
    struct pit_changed_fn ch = { on_changed, NULL };
    pit = pit_create(bus, &irq0, &clk, &ch);
    ck_assert_ptr_nonnull(pit);
}

static void teardown(void)
{
    pit_destroy(pit);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_PIO), 0);
    iobus_free(bus);
}

/* The time at which k pulses have passed since t0: 1.193182 MHz. */
static uint64_t after(uint64_t t0, uint64_t k)
{
    return t0 + (k * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void program(unsigned ctr, unsigned mode, uint16_t count)
{
    tbus_out(bus, 0x43, 1, ctr << 6 | 3 << 4 | mode << 1);
    tbus_out(bus, 0x40 + ctr, 1, count & 0xff);
    tbus_out(bus, 0x40 + ctr, 1, count >> 8);
}

static uint16_t latch_read(unsigned ctr)
{
    tbus_out(bus, 0x43, 1, ctr << 6);
    uint16_t lo = tbus_in(bus, 0x40 + ctr, 1);
    return lo | tbus_in(bus, 0x40 + ctr, 1) << 8;
}

static bool out2(void)
{
    return tbus_in(bus, 0x61, 1) & 0x20;
}

START_TEST(mode2_rate_generator)
{
    uint64_t t0 = fake_now;
    program(0, 2, 1193);                                /* Linux's HZ=1000 tick */
    ck_assert_uint_ge(nchanged, 1);
    ck_assert_uint_eq(latch_read(0), 1193);
    fake_now = after(t0, 100);
    ck_assert_uint_eq(latch_read(0), 1093);
    fake_now = after(t0, 1192);
    ck_assert_uint_eq(latch_read(0), 1);
    fake_now = after(t0, 1193);
    ck_assert_uint_eq(latch_read(0), 1193);             /* reloaded */
    /* IRQ 0 at every period's end: 1193 pulses = 999,847 ns. */
    fake_now = t0;
    ck_assert(!pit_tick(pit));
    uint64_t ev = pit_next_event_ns(pit);
    ck_assert_uint_eq(ev - t0, 999848);
    fake_now = ev - 1;
    ck_assert(!pit_tick(pit));
    fake_now = ev;
    ck_assert(pit_tick(pit));
    ck_assert_uint_eq(rec.rises[0], 1);
    ck_assert_uint_eq(rec.falls[0], 1);                 /* a pulse: an edge */
    ck_assert(!pit_tick(pit));
    ck_assert_uint_eq(pit_next_event_ns(pit), after(t0, 2 * 1193));
    /* Ten periods missed: one interrupt, then back on the grid. */
    fake_now = after(t0, 12 * 1193 + 5);
    ck_assert(pit_tick(pit));
    ck_assert_uint_eq(rec.rises[0], 2);
    ck_assert_uint_eq(pit_next_event_ns(pit), after(t0, 13 * 1193));
}
END_TEST

START_TEST(mode3_square_wave)
{
    uint64_t t0 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);                       /* gate 2 on */
    program(2, 3, 10);
    ck_assert(out2());
    ck_assert_uint_eq(latch_read(2), 10);
    fake_now = after(t0, 2);
    ck_assert_uint_eq(latch_read(2), 6);                /* down by two */
    ck_assert(out2());
    fake_now = after(t0, 5);
    ck_assert(!out2());                                 /* low half */
    ck_assert_uint_eq(latch_read(2), 10);
    fake_now = after(t0, 9);
    ck_assert(!out2());
    fake_now = after(t0, 10);
    ck_assert(out2());
    /* Odd count 7: high for 4 pulses (6, 4, 2, 0), low for 3 (6, 4, 2). */
    t0 = fake_now;
    program(2, 3, 7);
    ck_assert_uint_eq(latch_read(2), 6);
    fake_now = after(t0, 3);
    ck_assert(out2());
    ck_assert_uint_eq(latch_read(2), 0);
    fake_now = after(t0, 4);
    ck_assert(!out2());
    ck_assert_uint_eq(latch_read(2), 6);
    fake_now = after(t0, 6);
    ck_assert(!out2());
    fake_now = after(t0, 7);
    ck_assert(out2());
    /* Gate low forces OUT high and stops; gate high reloads. */
    fake_now = after(t0, 12);
    ck_assert(!out2());
    tbus_out(bus, 0x61, 1, 0x00);
    ck_assert(out2());
    t0 = fake_now = after(t0, 100);
    tbus_out(bus, 0x61, 1, 0x01);
    ck_assert_uint_eq(latch_read(2), 6);
    fake_now = after(t0, 4);
    ck_assert(!out2());
}
END_TEST

START_TEST(mode0_terminal_count)
{
    /* Linux's TSC calibration: counter 2, mode 0, gate on, poll OUT2. */
    tbus_out(bus, 0x61, 1, 0x01);
    tbus_out(bus, 0x43, 1, 0xb0);
    ck_assert(!out2());                                 /* mode 0: low after the control word */
    tbus_out(bus, 0x42, 1, 0xff);
    ck_assert(!out2());
    uint64_t t0 = fake_now;
    tbus_out(bus, 0x42, 1, 0xff);                       /* 65535 */
    fake_now = after(t0, 65534);
    ck_assert(!out2());
    ck_assert_uint_eq(latch_read(2), 1);
    fake_now = after(t0, 65535);
    ck_assert(out2());
    ck_assert_uint_eq(latch_read(2), 0);
    fake_now = after(t0, 65537);
    ck_assert(out2());                                  /* stays high; the count wraps */
    ck_assert_uint_eq(latch_read(2), 0xfffe);
    /* Gate low pauses mode 0. */
    t0 = fake_now;
    program(2, 0, 1000);
    fake_now = after(t0, 400);
    tbus_out(bus, 0x61, 1, 0x00);
    fake_now = after(t0, 5000);
    ck_assert_uint_eq(latch_read(2), 600);
    ck_assert(!out2());
    uint64_t t1 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);
    fake_now = after(t1, 600);
    ck_assert(out2());
    /* Counter 0 in mode 0: one IRQ 0, then none. */
    t0 = fake_now;
    program(0, 0, 5000);
    ck_assert_uint_eq(pit_next_event_ns(pit), after(t0, 5000));
    fake_now = after(t0, 6000);
    ck_assert(pit_tick(pit));
    ck_assert_uint_eq(pit_next_event_ns(pit), PIT_NO_EVENT);
    fake_now = after(t0, 200000);
    ck_assert(!pit_tick(pit));
    ck_assert_uint_eq(rec.rises[0], 1);
}
END_TEST

START_TEST(modes_1_4_5_strobes)
{
    tbus_out(bus, 0x61, 1, 0x00);
    /* Mode 4: OUT low for one pulse at the terminal count. */
    uint64_t t0 = fake_now;
    program(2, 4, 50);
    fake_now = after(t0, 49);
    ck_assert(out2());
    fake_now = after(t0, 50);
    ck_assert(out2());                                  /* gate low: mode 4 does not count */
    tbus_out(bus, 0x61, 1, 0x01);
    t0 = fake_now;
    fake_now = after(t0, 50);
    ck_assert(!out2());
    fake_now = after(t0, 51);
    ck_assert(out2());
    /* Mode 1: a gate edge starts a one-shot low OUT for N pulses. */
    tbus_out(bus, 0x61, 1, 0x00);
    program(2, 1, 20);
    ck_assert(out2());
    t0 = fake_now = fake_now + 1000000;
    ck_assert(out2());                                  /* no trigger yet */
    tbus_out(bus, 0x61, 1, 0x01);
    ck_assert(!out2());
    fake_now = after(t0, 19);
    ck_assert(!out2());
    ck_assert_uint_eq(latch_read(2), 1);
    fake_now = after(t0, 20);
    ck_assert(out2());
    /* Retriggered. */
    tbus_out(bus, 0x61, 1, 0x00);
    t0 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);
    ck_assert(!out2());
    fake_now = after(t0, 20);
    ck_assert(out2());
    /* Mode 5: the gate edge starts a strobe N pulses later. */
    tbus_out(bus, 0x61, 1, 0x00);
    program(2, 5, 30);
    t0 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);
    fake_now = after(t0, 30);
    ck_assert(!out2());
    fake_now = after(t0, 31);
    ck_assert(out2());
    /* Counter 0's gate is tied high: mode 1 never triggers. */
    program(0, 1, 100);
    ck_assert_uint_eq(pit_next_event_ns(pit), PIT_NO_EVENT);
}
END_TEST

START_TEST(latch_and_readback)
{
    uint64_t t0 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);
    program(2, 2, 0x1234);
    fake_now = after(t0, 0x34);
    tbus_out(bus, 0x43, 1, 0x80);                       /* latch counter 2 */
    fake_now = after(t0, 0x100);                        /* the latch holds */
    tbus_out(bus, 0x43, 1, 0x80);                       /* a second latch is ignored */
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x00);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x12);
    /* Unlatched lohi reads alternate bytes of the live count. */
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x34);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x11);
    /* Read-back: status then count of counter 2. */
    tbus_out(bus, 0x43, 1, 0xc8);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x80 | 0x30 | 2 << 1);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x34);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x11);
    /* Status only; null count right after a control word. */
    tbus_out(bus, 0x43, 1, 0x56);                       /* counter 1, LSB only, mode 3 */
    tbus_out(bus, 0x43, 1, 0xe4);
    ck_assert_uint_eq(tbus_in(bus, 0x41, 1), 0x80 | 0x40 | 0x10 | 3 << 1);
    tbus_out(bus, 0x41, 1, 100);
    tbus_out(bus, 0x43, 1, 0xe4);
    ck_assert_uint_eq(tbus_in(bus, 0x41, 1) & 0x40, 0);
    ck_assert_uint_eq(tbus_in(bus, 0x41, 1), 100);     /* LSB access: one byte */
    /* MSB-only access. */
    t0 = fake_now;
    tbus_out(bus, 0x43, 1, 0xa4);                       /* counter 2, MSB, mode 2 */
    tbus_out(bus, 0x42, 1, 0x02);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x02);
    fake_now = after(t0, 0x101);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1), 0x00);     /* 0x00ff */
    /* Mode numbers 6 and 7 are modes 2 and 3 (status shows what was written). */
    tbus_out(bus, 0x43, 1, 0xbe);                       /* mode 7 */
    tbus_out(bus, 0x43, 1, 0xe8);
    ck_assert_uint_eq(tbus_in(bus, 0x42, 1) & 0x0e, 7 << 1);
    t0 = fake_now;
    tbus_out(bus, 0x42, 1, 8);
    tbus_out(bus, 0x42, 1, 0);
    fake_now = after(t0, 4);
    ck_assert(!out2());                                 /* square wave */
}
END_TEST

START_TEST(bcd_and_deferred_reload)
{
    uint64_t t0 = fake_now;
    tbus_out(bus, 0x61, 1, 0x01);
    tbus_out(bus, 0x43, 1, 0xb1);                       /* counter 2, lohi, mode 0, BCD */
    tbus_out(bus, 0x42, 1, 0x00);
    tbus_out(bus, 0x42, 1, 0x10);                       /* 1000 decimal */
    fake_now = after(t0, 1);
    ck_assert_uint_eq(latch_read(2), 0x0999);
    fake_now = after(t0, 1000);
    ck_assert(out2());
    fake_now = after(t0, 1001);
    ck_assert_uint_eq(latch_read(2), 0x9999);           /* wraps in decimal */
    /* Mode 2: a count written while counting starts at the next reload. */
    t0 = fake_now;
    program(2, 2, 100);
    fake_now = after(t0, 30);
    tbus_out(bus, 0x42, 1, 10);
    tbus_out(bus, 0x42, 1, 0);
    ck_assert_uint_eq(latch_read(2), 70);
    fake_now = after(t0, 100);
    ck_assert_uint_eq(latch_read(2), 10);
    fake_now = after(t0, 105);
    ck_assert_uint_eq(latch_read(2), 5);
    fake_now = after(t0, 119);
    ck_assert(!out2());
    /* The same for counter 0's IRQ events. */
    t0 = fake_now;
    program(0, 2, 1000);
    fake_now = after(t0, 1000);
    ck_assert(pit_tick(pit));
    fake_now = after(t0, 1500);
    tbus_out(bus, 0x40, 1, 0x00);
    tbus_out(bus, 0x40, 1, 0x10);                       /* 4096 from pulse 2000 */
    ck_assert_uint_eq(pit_next_event_ns(pit), after(t0, 2000));
    fake_now = after(t0, 2000);
    ck_assert(pit_tick(pit));
    ck_assert_uint_eq(pit_next_event_ns(pit), after(t0, 6096));
}
END_TEST

START_TEST(port61_and_limits)
{
    tbus_out(bus, 0x61, 1, 0xff);
    uint8_t v = tbus_in(bus, 0x61, 1);
    ck_assert_uint_eq(v & 0xcf, 0x0f);                  /* bits 0-3 kept, 6-7 zero */
    fake_now += 15085;
    ck_assert_uint_ne(tbus_in(bus, 0x61, 1) & 0x10, v & 0x10);   /* refresh toggles */
    /* A tiny period cannot flood the loop: events stretch to PIT_MIN_EVENT_NS. */
    uint64_t t0 = fake_now;
    program(0, 2, 2);
    fake_now = after(t0, 2);
    ck_assert(pit_tick(pit));
    uint64_t fired = fake_now;
    ck_assert_uint_eq(pit_next_event_ns(pit), fired + PIT_MIN_EVENT_NS);
    fake_now = fired + PIT_MIN_EVENT_NS - 1;
    ck_assert(!pit_tick(pit));
    fake_now = fired + PIT_MIN_EVENT_NS;
    ck_assert(pit_tick(pit));
    ck_assert_uint_eq(latch_read(0) <= 2, 1);
    /* Count 0 means 65536; word accesses and port 0x43 reads do nothing. */
    program(2, 2, 0);
    ck_assert_uint_eq(latch_read(2), 0);
    tbus_out(bus, 0x40, 2, 0xffff);
    ck_assert_uint_eq(tbus_in(bus, 0x43, 1), 0);
    ck_assert_uint_eq(tbus_in(bus, 0x40, 2), 0);
    /* Nothing programmed on counter 0 of a fresh PIT: no event. */
    struct pit *p2 = pit_create(NULL, NULL, NULL, NULL);
    ck_assert_uint_eq(pit_next_event_ns(p2), PIT_NO_EVENT);
    ck_assert(!pit_tick(p2));
    pit_destroy(p2);
}
END_TEST

START_TEST(hostile_guest)
{
    unsigned seed = 3;
    for (unsigned round = 0; round < 2000; round++) {
        tbus_hammer(bus, IOBUS_PIO, 0x40, 4, 8, round);
        tbus_hammer(bus, IOBUS_PIO, 0x61, 1, 1, round + 9000);
        fake_now += rand_r(&seed) % 100000;
        uint64_t ev = pit_next_event_ns(pit);
        ck_assert(ev == PIT_NO_EVENT || ev + 1000000000ull > fake_now);
        pit_tick(pit);
    }
    /* Still a PIT. */
    uint64_t t0 = fake_now;
    program(0, 2, 1000);
    ck_assert_uint_eq(pit_next_event_ns(pit) >= after(t0, 1000), 1);
    fake_now = after(t0, 1000) + PIT_MIN_EVENT_NS;
    ck_assert(pit_tick(pit));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_pit");
    TCase *tc = tcase_create("pit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mode2_rate_generator);
    tcase_add_test(tc, mode3_square_wave);
    tcase_add_test(tc, mode0_terminal_count);
    tcase_add_test(tc, modes_1_4_5_strobes);
    tcase_add_test(tc, latch_and_readback);
    tcase_add_test(tc, bcd_and_deferred_reload);
    tcase_add_test(tc, port61_and_limits);
    tcase_add_test(tc, hostile_guest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Check suite for the MC146818 RTC/NVRAM model (hypervisor/vmm/dev/rtc.c):
 * time registers in BCD/binary and 12/24-hour form, SET, UIP, NVRAM and the
 * memory bytes as SeaBIOS decodes them, the three interrupts; on a clock
 * the test moves by hand. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "dev/rtc.h"
#include "iobus_fake.h"

#define NS 1000000000LL
/* 2026-12-02 07:31:45 UTC, a Wednesday. */
#define T0 1796196705LL

static struct iobus *bus;
static struct rtc *r;
static int64_t now;

static int64_t fake_now(void *opaque)
{
    (void)opaque;
    return now;
}

static struct fake_irq fi;
static struct irq_line irq;
static const struct rtc_clock clk = { .now_ns = fake_now };

static void setup(void)
{
    now = 1000 * NS;
    irq = fake_irq_line(&fi, RTC_IRQ);
   
    bus = iobus_new();
    r = rtc_create(bus, &irq, &clk);
    ck_assert_ptr_nonnull(r);
    rtc_set_time(r, T0);
}

static void teardown(void)
{
    rtc_destroy(r);
    iobus_free(bus);
}

static uint8_t rd(uint8_t idx)
{
    fake_outb(bus, 0x70, idx);
    return fake_inb(bus, 0x71);
}

static void wr(uint8_t idx, uint8_t v)
{
    fake_outb(bus, 0x70, idx);
    fake_outb(bus, 0x71, v);
}

START_TEST(ports_and_index)
{
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 1);
    ck_assert_ptr_null(rtc_create(bus, NULL, &clk));
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_uint_eq(fake_inb(bus, 0x70), 0xff);            /* write-only */
    ck_assert(!rtc_nmi_disabled(r));
    fake_outb(bus, 0x70, 0x80 | 0x40);                       /* NMI off, index 0x40 */
    ck_assert(rtc_nmi_disabled(r));
    fake_outb(bus, 0x71, 0x5a);
    ck_assert_int_eq(rtc_nvram_get(r, 0x40), 0x5a);
    fake_outb(bus, 0x70, 0x40);
    ck_assert(!rtc_nmi_disabled(r));
    ck_assert_uint_eq(fake_inb(bus, 0x71), 0x5a);
    rtc_destroy(r);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 0);
    r = rtc_create(bus, NULL, NULL);                         /* the host's clocks */
    ck_assert_ptr_nonnull(r);
    ck_assert_int_gt(rtc_get_time(r), T0 - 365 * 86400LL * 10);
}
END_TEST

START_TEST(status_defaults)
{
    ck_assert_uint_eq(rd(RTC_REG_A), 0x26);
    ck_assert_uint_eq(rd(RTC_REG_B), RTC_B_24H);
    ck_assert_uint_eq(rd(RTC_REG_C), 0);
    ck_assert_uint_eq(rd(RTC_REG_D), RTC_D_VRT);
    wr(RTC_REG_D, 0);
    wr(RTC_REG_C, 0xff);
    ck_assert_uint_eq(rd(RTC_REG_D), RTC_D_VRT);             /* read-only */
    ck_assert_uint_eq(rd(RTC_REG_C), 0);
    wr(RTC_REG_A, 0xff);                                     /* UIP is not writable */
    ck_assert_uint_eq(rd(RTC_REG_A) & 0x7f, 0x7f);
}
END_TEST

START_TEST(bcd_24h)
{
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x45);
    ck_assert_uint_eq(rd(RTC_MINUTES), 0x31);
    ck_assert_uint_eq(rd(RTC_HOURS), 0x07);
    ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK), 4);               /* Sunday is 1 */
    ck_assert_uint_eq(rd(RTC_DAY_OF_MONTH), 0x02);
    ck_assert_uint_eq(rd(RTC_MONTH), 0x12);
    ck_assert_uint_eq(rd(RTC_YEAR), 0x26);
    ck_assert_uint_eq(rd(RTC_CENTURY), 0x20);
    /* Time passes: 61.5 s later. */
    now += 61 * NS + NS / 2;
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x46);
    ck_assert_uint_eq(rd(RTC_MINUTES), 0x32);
    ck_assert_int_eq(rtc_get_time(r), T0 + 61);
}
END_TEST

START_TEST(binary_and_12h)
{
    wr(RTC_REG_B, RTC_B_BIN | RTC_B_24H);
    ck_assert_uint_eq(rd(RTC_SECONDS), 45);
    ck_assert_uint_eq(rd(RTC_MONTH), 12);
    ck_assert_uint_eq(rd(RTC_YEAR), 26);
    ck_assert_uint_eq(rd(RTC_CENTURY), 20);
    wr(RTC_REG_B, 0);                                        /* BCD, 12-hour */
    ck_assert_uint_eq(rd(RTC_HOURS), 0x07);                  /* 7 AM */
    rtc_set_time(r, T0 + 12 * 3600);
    ck_assert_uint_eq(rd(RTC_HOURS), 0x87);                  /* 7 PM */
    rtc_set_time(r, T0 - 7 * 3600);
    ck_assert_uint_eq(rd(RTC_HOURS), 0x12);                  /* midnight: 12 AM */
    rtc_set_time(r, T0 + 5 * 3600);
    ck_assert_uint_eq(rd(RTC_HOURS), 0x92);                  /* noon: 12 PM */
    wr(RTC_REG_B, RTC_B_BIN);                                /* binary, 12-hour */
    ck_assert_uint_eq(rd(RTC_HOURS), 0x8c);
    /* Hours written in 12-hour form: 11 PM. */
    wr(RTC_HOURS, 0x80 | 11);
    wr(RTC_REG_B, RTC_B_BIN | RTC_B_24H);
    ck_assert_uint_eq(rd(RTC_HOURS), 23);
}
END_TEST

START_TEST(set_freezes_and_sets)
{
    wr(RTC_REG_B, RTC_B_SET | RTC_B_24H);
    wr(RTC_SECONDS, 0x10);
    wr(RTC_MINUTES, 0x20);
    wr(RTC_HOURS, 0x23);
    wr(RTC_DAY_OF_MONTH, 0x31);
    wr(RTC_MONTH, 0x12);
    wr(RTC_YEAR, 0x99);
    wr(RTC_CENTURY, 0x19);
    now += 5 * NS;                                           /* stands still under SET */
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x10);
    ck_assert_uint_eq(rd(RTC_REG_A) & RTC_A_UIP, 0);
    ck_assert_int_eq(rtc_get_time(r), 946682410);            /* 1999-12-31 23:20:10 */
    ck_assert_uint_eq(rd(RTC_DAY_OF_WEEK), 6);               /* a Friday */
    wr(RTC_REG_B, RTC_B_24H);
    now += 50 * NS;
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x00);
    ck_assert_uint_eq(rd(RTC_MINUTES), 0x21);
    now += 40 * 60 * NS;                                     /* into 2000 */
    ck_assert_uint_eq(rd(RTC_YEAR), 0x00);
    ck_assert_uint_eq(rd(RTC_CENTURY), 0x20);
    ck_assert_uint_eq(rd(RTC_MONTH), 0x01);
    /* A divider held in reset stops the clock too. */
    wr(RTC_REG_A, 0x66);
    int64_t held = rtc_get_time(r);
    now += 3 * NS;
    ck_assert_int_eq(rtc_get_time(r), held);
    wr(RTC_REG_A, 0x26);
    now += 3 * NS;
    ck_assert_int_eq(rtc_get_time(r), held + 3);
}
END_TEST

START_TEST(update_in_progress)
{
    /* The second boundaries are at 1000 s + k s on this clock. */
    now = 1000 * NS + NS / 2;
    ck_assert_uint_eq(rd(RTC_REG_A) & RTC_A_UIP, 0);
    now = 1001 * NS - 200000;                                /* 200 us before the update */
    ck_assert_uint_eq(rd(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x45);                /* still the old second */
    now = 1001 * NS;
    ck_assert_uint_eq(rd(RTC_REG_A) & RTC_A_UIP, 0);
    ck_assert_uint_eq(rd(RTC_SECONDS), 0x46);
}
END_TEST

START_TEST(nvram_and_memory)
{
    for (unsigned i = 0x0e; i < RTC_NVRAM_SIZE; i++)
        if (i != RTC_CENTURY)
            wr((uint8_t)i, (uint8_t)(i ^ 0xa5));
    for (unsigned i = 0x0e; i < RTC_NVRAM_SIZE; i++)
        if (i != RTC_CENTURY)
            ck_assert_uint_eq(rd((uint8_t)i), i ^ 0xa5);
    ck_assert_int_eq(rtc_nvram_set(r, 0x00, 1), -1);
    ck_assert_int_eq(rtc_nvram_set(r, RTC_REG_D, 1), -1);
    ck_assert_int_eq(rtc_nvram_set(r, RTC_CENTURY, 1), -1);
    ck_assert_int_eq(rtc_nvram_set(r, RTC_NVRAM_SIZE, 1), -1);
    ck_assert_int_eq(rtc_nvram_get(r, RTC_NVRAM_SIZE), -1);
    ck_assert_int_eq(rtc_nvram_set(r, CMOS_BOOTFLAG2, 0x32), 0);
    ck_assert_uint_eq(rd(CMOS_BOOTFLAG2), 0x32);

    /* SeaBIOS: RAM below 4 GiB from 0x34/0x35 (64 KiB units above 16 MiB),
     * else from 0x30/0x31 (KiB above 1 MiB); above 4 GiB from 0x5b-0x5d. */
    rtc_set_memory(r, 3072ULL << 20, 6ULL << 30);
    uint32_t rs = ((uint32_t)rd(CMOS_EXTMEM2_LOW) << 16) | ((uint32_t)rd(CMOS_EXTMEM2_HIGH) << 24);
    ck_assert_uint_eq(rs + (16u << 20), 3072u << 20);
    uint64_t high = ((uint64_t)rd(CMOS_HIGHMEM_LOW) << 16) | ((uint64_t)rd(CMOS_HIGHMEM_MID) << 24) |
                    ((uint64_t)rd(CMOS_HIGHMEM_HIGH) << 32);
    ck_assert_uint_eq(high, 6ULL << 30);
    ck_assert_uint_eq(rd(CMOS_EXTMEM_LOW) | rd(CMOS_EXTMEM_HIGH) << 8, 0xffff);
    ck_assert_uint_eq(rd(CMOS_BASE_MEM_LOW) | rd(CMOS_BASE_MEM_HIGH) << 8, 640);
    rtc_set_memory(r, 8 << 20, 0);
    ck_assert_uint_eq(rd(CMOS_EXTMEM2_LOW) | rd(CMOS_EXTMEM2_HIGH), 0);
    uint32_t small = (((uint32_t)rd(CMOS_EXTMEM_LOW) << 10) | ((uint32_t)rd(CMOS_EXTMEM_HIGH) << 18)) +
                     (1u << 20);
    ck_assert_uint_eq(small, 8u << 20);
    ck_assert_uint_eq(rd(CMOS_EXT_MEM_LOW) | rd(CMOS_EXT_MEM_HIGH) << 8, 7 * 1024);
    ck_assert_uint_eq(rd(CMOS_HIGHMEM_LOW) | rd(CMOS_HIGHMEM_MID) | rd(CMOS_HIGHMEM_HIGH), 0);
    rtc_set_cpus(r, 4);
    ck_assert_uint_eq(rd(CMOS_SMP_COUNT), 3);
}
END_TEST

START_TEST(update_interrupt)
{
    ck_assert_int_eq(rtc_poll(r), -1);                       /* nothing enabled */
    wr(RTC_REG_A, 0x20);                                     /* no periodic flag */
    wr(RTC_REG_B, RTC_B_UIE | RTC_B_24H);
    ck_assert_uint_eq(rd(RTC_REG_C), 0);
    ck_assert_int_eq(rtc_poll(r), NS);                       /* on a boundary now */
    now += NS / 4;
    ck_assert_int_eq(rtc_poll(r), 3 * NS / 4);
    ck_assert(!fi.level);
    now += 3 * NS / 4;
    rtc_poll(r);
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
    ck_assert(!fi.level);                                   /* reading C lowers it */
    ck_assert_uint_eq(rd(RTC_REG_C), 0);
    /* SET stops updates and clears UIE. */
    wr(RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H);
    ck_assert_uint_eq(rd(RTC_REG_B), RTC_B_SET | RTC_B_24H);
    now += 2 * NS;
    ck_assert_uint_eq(rd(RTC_REG_C), 0);
}
END_TEST

START_TEST(periodic_interrupt)
{
    /* The flag rises whether or not its interrupt is enabled. */
    wr(RTC_REG_A, 0x20 | 0x0f);                              /* 2 Hz */
    rd(RTC_REG_C);
    now += NS / 2;
    ck_assert_uint_eq(rd(RTC_REG_C) & (RTC_C_PF | RTC_C_IRQF), RTC_C_PF);
    ck_assert_uint_eq(fi.changes, 0);
    wr(RTC_REG_B, RTC_B_PIE | RTC_B_24H);
    int64_t first = rtc_poll(r);
    ck_assert_int_gt(first, 0);
    ck_assert_int_le(first, NS / 2);
    now += first;
    ck_assert_int_eq(rtc_poll(r), NS / 2);
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF | RTC_C_AF), RTC_C_IRQF | RTC_C_PF);
    ck_assert(!fi.level);
    /* The rates: 3 is 8192 Hz, 6 is 1024 Hz, 1 is 256 Hz; 0 is none. */
    static const struct { uint8_t rs; int64_t ns; } rates[] = {
        { 3, NS / 8192 }, { 6, NS / 1024 }, { 1, NS / 256 }, { 2, NS / 128 },
    };
    for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        wr(RTC_REG_A, 0x20 | rates[i].rs);
        now += rtc_poll(r);
        ck_assert_int_eq(rtc_poll(r), rates[i].ns);
    }
    wr(RTC_REG_A, 0x20);
    ck_assert_int_eq(rtc_poll(r), -1);
}
END_TEST

/* The integrator re-arms its timer when the guest changes what rtc_poll
 * answers: A, B, the alarm; not for NVRAM or reads. */
static unsigned changed_calls;
static void on_changed(void *o)
{
    ck_assert_ptr_eq(o, &changed_calls);
    ck_assert_int_ge(rtc_poll(r), -1);                       /* no RTC lock held */
    changed_calls++;
}

START_TEST(changed_callback)
{
    rtc_set_changed(r, on_changed, &changed_calls);
    changed_calls = 0;
    wr(RTC_REG_A, 0x26);
    ck_assert_uint_eq(changed_calls, 1);
    wr(RTC_REG_B, RTC_B_PIE | RTC_B_24H);
    ck_assert_uint_eq(changed_calls, 2);
    wr(RTC_SECONDS_ALARM, 5);
    ck_assert_uint_eq(changed_calls, 3);
    wr(0x40, 0x12);                                           /* NVRAM */
    rd(RTC_REG_C);
    ck_assert_uint_eq(changed_calls, 3);
    rtc_set_changed(r, NULL, NULL);
    wr(RTC_REG_A, 0x20);
    ck_assert_uint_eq(changed_calls, 3);
}
END_TEST

START_TEST(alarm_interrupt)
{
    wr(RTC_REG_A, 0x20);
    wr(RTC_SECONDS_ALARM, 0x00);
    wr(RTC_MINUTES_ALARM, 0x32);
    wr(RTC_HOURS_ALARM, 0x07);
    wr(RTC_REG_B, RTC_B_AIE | RTC_B_24H);
    rd(RTC_REG_C);
    now += 14 * NS;                                          /* 07:31:59 */
    rtc_poll(r);
    ck_assert(!fi.level);
    ck_assert_uint_eq(rd(RTC_REG_C) & RTC_C_AF, 0);
    now += NS;                                               /* 07:32:00 */
    rtc_poll(r);
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    now += NS;
    ck_assert_uint_eq(rd(RTC_REG_C) & RTC_C_AF, 0);
    /* Two days pass unobserved: the alarm time was crossed. */
    now += 2 * 86400 * NS;
    ck_assert_uint_eq(rd(RTC_REG_C) & RTC_C_AF, RTC_C_AF);
    /* An impossible alarm (minute 0x99) never matches. */
    wr(RTC_MINUTES_ALARM, 0x99);
    now += 2 * 86400 * NS;
    ck_assert_uint_eq(rd(RTC_REG_C) & RTC_C_AF, 0);
    /* "Don't care" in all three: every second. */
    wr(RTC_SECONDS_ALARM, 0xc0);
    wr(RTC_MINUTES_ALARM, 0xff);
    wr(RTC_HOURS_ALARM, 0xc0);
    now += NS;
    ck_assert_uint_eq(rd(RTC_REG_C) & RTC_C_AF, RTC_C_AF);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_rtc");
    TCase *tc = tcase_create("rtc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ports_and_index);
    tcase_add_test(tc, status_defaults);
    tcase_add_test(tc, bcd_24h);
    tcase_add_test(tc, binary_and_12h);
    tcase_add_test(tc, set_freezes_and_sets);
    tcase_add_test(tc, update_in_progress);
    tcase_add_test(tc, nvram_and_memory);
    tcase_add_test(tc, update_interrupt);
    tcase_add_test(tc, periodic_interrupt);
    tcase_add_test(tc, alarm_interrupt);
    tcase_add_test(tc, changed_callback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

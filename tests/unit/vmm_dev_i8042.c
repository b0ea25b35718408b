/* Check suite for the i8042 model (hypervisor/vmm/dev/i8042.c): status,
 * command byte, self-tests, output port and A20, the reset pulse, the
 * keyboard's answers, IRQ 1 and the absent aux port. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "dev/i8042.h"
#include "iobus_fake.h"

static struct iobus *bus;
static struct i8042 *k;
static unsigned resets, a20_calls;
static bool a20_state;

static void on_reset(void *opaque)
{
    (void)opaque;
    resets++;
}

static void on_a20(void *opaque, bool on)
{
    (void)opaque;
    a20_calls++;
    a20_state = on;
}

static struct fake_irq fi;
static struct irq_line irq;
static const struct i8042_ops ops = { .reset = on_reset, .a20 = on_a20 };

static void setup(void)
{
    resets = a20_calls = 0;
    a20_state = true;
    irq = fake_irq_line(&fi, I8042_KBD_IRQ);
    bus = iobus_new();
    k = i8042_create(bus, &irq, &ops);
    ck_assert_ptr_nonnull(k);
}

static void teardown(void)
{
    i8042_destroy(k);
    iobus_free(bus);
}

static uint8_t status(void) { return fake_inb(bus, I8042_CMD_PORT); }
static void cmd(uint8_t c) { fake_outb(bus, I8042_CMD_PORT, c); }
static void data(uint8_t d) { fake_outb(bus, I8042_DATA_PORT, d); }

/* The next byte of output; fails if there is none. */
static uint8_t next(void)
{
    ck_assert_msg(status() & I8042_STR_OBF, "no byte in the output buffer");
    return fake_inb(bus, I8042_DATA_PORT);
}

static void nothing_more(void)
{
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
}

static uint8_t ctr(void)
{
    cmd(0x20);
    return next();
}

START_TEST(ports)
{
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 2);
    i8042_destroy(k);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 0);
    /* 0x64 taken: nothing stays registered. */
    struct iobus_range other = { .space = IOBUS_PIO, .base = 0x64, .len = 1,
                                 .fn = i8042_cmd_io, .name = "other" };
    ck_assert_int_eq(iobus_register(bus, &other), 0);
    ck_assert_ptr_null(i8042_create(bus, NULL, NULL));
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 1);
    iobus_unregister(bus, IOBUS_PIO, 0x64);
    k = i8042_create(bus, NULL, NULL);                     /* no irq, no callbacks */
    ck_assert_ptr_nonnull(k);
    cmd(0xfe);
    cmd(0xaa);
    ck_assert_uint_eq(next(), 0x55);
}
END_TEST

START_TEST(status_and_self_tests)
{
    ck_assert_uint_eq(status(), I8042_STR_UNLOCK);
    cmd(0xaa);
    ck_assert_uint_eq(status(), I8042_STR_OBF | I8042_STR_SYS | I8042_STR_CMD | I8042_STR_UNLOCK);
    ck_assert(fi.level);                                  /* the command byte enables IRQ 1 */
    ck_assert_uint_eq(fake_inb(bus, I8042_DATA_PORT), 0x55);
    ck_assert(!fi.level);
    ck_assert_uint_eq(status() & I8042_STR_OBF, 0);
    ck_assert_uint_eq(fake_inb(bus, I8042_DATA_PORT), 0x55); /* stale: the last byte */
    cmd(0xab);
    ck_assert_uint_eq(next(), 0x00);
    cmd(0xe0);
    ck_assert_uint_eq(next(), 0x00);
    cmd(0xc0);
    ck_assert_uint_eq(next(), 0x80);
    data(0xf4);                                            /* a data write clears CMD */
    ck_assert_uint_eq(status() & I8042_STR_CMD, 0);
    ck_assert_uint_eq(next(), 0xfa);
}
END_TEST

START_TEST(command_byte)
{
    ck_assert_uint_eq(ctr(), I8042_CTR_KBDINT | I8042_CTR_XLATE);
    cmd(0xaa);
    next();
    ck_assert_uint_eq(ctr(), I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE);
    cmd(0x60);
    data(0x00);                                            /* no interrupts, SYS off */
    ck_assert_uint_eq(ctr(), 0);
    ck_assert_uint_eq(status() & I8042_STR_SYS, 0);
    cmd(0xab);
    ck_assert(!fi.level);
    ck_assert_uint_eq(next(), 0x00);
    cmd(0x60);
    data(0x47);
    ck_assert_uint_eq(ctr(), 0x47);
    ck_assert_uint_eq(status() & I8042_STR_SYS, I8042_STR_SYS);
    /* The rest of the controller's RAM. */
    cmd(0x7f);
    data(0x99);
    cmd(0x61);
    data(0x12);
    cmd(0x3f);
    ck_assert_uint_eq(next(), 0x99);
    cmd(0x21);
    ck_assert_uint_eq(next(), 0x12);
    /* A new command cancels one waiting for its data byte. */
    cmd(0x60);
    cmd(0xab);
    ck_assert_uint_eq(next(), 0x00);
    data(0xee);                                            /* goes to the keyboard */
    ck_assert_uint_eq(next(), 0xee);
    ck_assert_uint_eq(ctr(), 0x47);
}
END_TEST

START_TEST(keyboard_commands)
{
    data(0xff);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xaa);
    nothing_more();
    data(0xf2);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xab);
    ck_assert_uint_eq(next(), 0x41);                       /* translated */
    cmd(0x60);
    data(I8042_CTR_KBDINT);
    data(0xf2);
    next();
    next();
    ck_assert_uint_eq(next(), 0x83);
    data(0xed);
    data(0x07);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xfa);
    data(0xf0);
    data(0x00);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0x02);
    data(0xf0);
    data(0x01);
    data(0xf0);
    data(0x00);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0x01);
    data(0xf0);
    data(0x05);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xfe);
    data(0xf3);
    data(0xf4);                                            /* a command in place of the rate */
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xfa);
    data(0xee);
    ck_assert_uint_eq(next(), 0xee);
    data(0xfe);                                            /* resend */
    ck_assert_uint_eq(next(), 0xee);
    data(0x01);                                            /* unknown */
    ck_assert_uint_eq(next(), 0xfe);
    nothing_more();
}
END_TEST

START_TEST(keyboard_disable_and_keys)
{
    const uint8_t keys[20] = { 0x1c, 0xf0, 0x1c };
    cmd(0xad);
    ck_assert_uint_eq(ctr() & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
    ck_assert_uint_eq(i8042_push_key(k, keys, 3), 3);
    nothing_more();                                        /* held back */
    ck_assert(!fi.level);
    cmd(0xab);                                             /* the controller still answers */
    ck_assert_uint_eq(next(), 0x00);
    nothing_more();
    cmd(0xae);
    ck_assert(fi.level);
    ck_assert_uint_eq(next(), 0x1c);
    ck_assert_uint_eq(next(), 0xf0);
    ck_assert_uint_eq(next(), 0x1c);
    ck_assert(!fi.level);
    /* Writing to the keyboard enables its interface again. */
    cmd(0xad);
    data(0xf5);                                            /* and stops scanning */
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(ctr() & I8042_CTR_KBDDIS, 0);
    ck_assert_uint_eq(i8042_push_key(k, keys, 3), 0);
    data(0xf4);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(i8042_push_key(k, keys, 20), 16);   /* the keyboard's buffer */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(next(), keys[i]);
    nothing_more();
    /* 0xd2: a byte as if the keyboard sent it. */
    cmd(0xd2);
    data(0x99);
    ck_assert(fi.level);
    ck_assert_uint_eq(next(), 0x99);
}
END_TEST

START_TEST(output_port_and_a20)
{
    ck_assert(i8042_a20(k));
    cmd(0xd0);
    ck_assert_uint_eq(next(), I8042_OUT_RESET | I8042_OUT_A20);
    cmd(0xd1);
    data(I8042_OUT_RESET);                                 /* A20 off */
    ck_assert_uint_eq(a20_calls, 1);
    ck_assert(!a20_state);
    ck_assert(!i8042_a20(k));
    cmd(0xd0);
    ck_assert_uint_eq(next(), I8042_OUT_RESET);
    cmd(0xd1);
    data(I8042_OUT_RESET);                                 /* no change: no call */
    ck_assert_uint_eq(a20_calls, 1);
    cmd(0xdf);
    ck_assert(a20_state);
    ck_assert(i8042_a20(k));
    cmd(0xdd);
    ck_assert(!a20_state);
    ck_assert_uint_eq(a20_calls, 3);
    /* The output buffer's bit in the output port. */
    cmd(0xd2);
    data(0x11);
    cmd(0xd0);
    ck_assert_uint_eq(next(), 0x11);                       /* the 0xd2 byte first */
    ck_assert_uint_eq(next(), I8042_OUT_RESET | 0x10);
    ck_assert_uint_eq(resets, 0);
    /* Writing the reset bit low resets; the line comes back up. */
    cmd(0xd1);
    data(I8042_OUT_A20);
    ck_assert_uint_eq(resets, 1);
    cmd(0xd0);
    ck_assert_uint_eq(next(), I8042_OUT_RESET | I8042_OUT_A20);
}
END_TEST

START_TEST(reset_pulse)
{
    cmd(0xff);                                             /* pulses nothing */
    ck_assert_uint_eq(resets, 0);
    cmd(0xfe);
    ck_assert_uint_eq(resets, 1);
    cmd(0xfd);                                             /* bit 1 only */
    ck_assert_uint_eq(resets, 1);
    cmd(0xf0);
    ck_assert_uint_eq(resets, 2);
    nothing_more();
}
END_TEST

START_TEST(aux_absent)
{
    uint8_t before = ctr();
    cmd(0xd3);
    data(0x5a);                                            /* aux loopback: nothing back */
    nothing_more();
    cmd(0xd4);
    data(0xf2);                                            /* to the mouse: nobody answers */
    nothing_more();
    cmd(0xa9);
    uint8_t t = next();
    ck_assert(t != 0x00 && t != 0xfa && t != 0xff);        /* Linux: no AUX port */
    cmd(0xa8);
    ck_assert_uint_eq(ctr(), before);
    cmd(0xa7);
    ck_assert_uint_eq(ctr(), before);
    ck_assert_uint_eq(status() & I8042_STR_AUXDATA, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_i8042");
    TCase *tc = tcase_create("i8042");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ports);
    tcase_add_test(tc, status_and_self_tests);
    tcase_add_test(tc, command_byte);
    tcase_add_test(tc, keyboard_commands);
    tcase_add_test(tc, keyboard_disable_and_keys);
    tcase_add_test(tc, output_port_and_a20);
    tcase_add_test(tc, reset_pulse);
    tcase_add_test(tc, aux_absent);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

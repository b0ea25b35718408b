/* Check suite for the i8259A pair (hypervisor/vmm/dev/pic.c): the
 * initialization words, masking, priorities, EOIs, the cascade, edge and
 * level inputs with ELCR, auto-EOI, rotation, poll, special mask and the
 * spurious IRQ 7/15, all through the ports as a guest programs them. */
#include <check.h>
#include <stdlib.h>

#include "dev/pic.h"
#include "vmm_dev_bus.h"

static struct iobus *bus;
static struct trec rec;
static struct pic *pic;

#define INTR (rec.level[0])

static void setup(void)
{
    rec = (struct trec){ 0 };
    bus = iobus_new();
    struct irq_line intr = { trec_set, &rec, 0 };
    pic = pic_create(bus, &intr);
    ck_assert_ptr_nonnull(pic);
}

static void teardown(void)
{
    pic_destroy(pic);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_PIO), 0);
    iobus_free(bus);
}

/* What Linux and SeaBIOS write: ICW1 0x11, vectors 0x20/0x28 (Linux) or
 * 0x08/0x70 (BIOS), cascade on IR2, 8086 mode (auto-EOI when asked). */
static void init_pair(uint8_t mbase, uint8_t sbase, bool aeoi)
{
    tbus_out(bus, 0x20, 1, 0x11);
    tbus_out(bus, 0x21, 1, mbase);
    tbus_out(bus, 0x21, 1, 0x04);
    tbus_out(bus, 0x21, 1, aeoi ? 0x03 : 0x01);
    tbus_out(bus, 0xa0, 1, 0x11);
    tbus_out(bus, 0xa1, 1, sbase);
    tbus_out(bus, 0xa1, 1, 0x02);
    tbus_out(bus, 0xa1, 1, aeoi ? 0x03 : 0x01);
    tbus_out(bus, 0x21, 1, 0x00);
    tbus_out(bus, 0xa1, 1, 0x00);
}

static void eoi_master(void) { tbus_out(bus, 0x20, 1, 0x20); }
static void eoi_slave(void) { tbus_out(bus, 0xa0, 1, 0x20); }
static uint8_t read_isr(uint16_t port) { tbus_out(bus, port, 1, 0x0b); return tbus_in(bus, port, 1); }
static uint8_t read_irr(uint16_t port) { tbus_out(bus, port, 1, 0x0a); return tbus_in(bus, port, 1); }

START_TEST(init_and_mask)
{
    init_pair(0x20, 0x28, false);
    tbus_out(bus, 0x21, 1, 0xfb);
    tbus_out(bus, 0xa1, 1, 0xff);
    ck_assert_uint_eq(tbus_in(bus, 0x21, 1), 0xfb);
    ck_assert_uint_eq(tbus_in(bus, 0xa1, 1), 0xff);
    pic_set_irq(pic, 1, true);
    ck_assert(!INTR);
    ck_assert_uint_eq(read_irr(0x20), 0x02);
    tbus_out(bus, 0x21, 1, 0xf9);       /* unmask IRQ 1: the latched edge fires */
    ck_assert(INTR);
    ck_assert(pic_intr(pic));
    ck_assert_int_eq(pic_ack(pic), 0x21);
    ck_assert(!INTR);
    ck_assert_uint_eq(read_isr(0x20), 0x02);
    ck_assert_uint_eq(read_irr(0x20), 0x00);
    eoi_master();
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    /* ICW1 clears the mask and the edge latch: a line still high is no
     * new request. */
    tbus_out(bus, 0x20, 1, 0x11);
    tbus_out(bus, 0x21, 1, 0x40);
    tbus_out(bus, 0x21, 1, 0x04);
    tbus_out(bus, 0x21, 1, 0x01);
    ck_assert_uint_eq(tbus_in(bus, 0x21, 1), 0x00);
    ck_assert(!INTR);
    pic_set_irq(pic, 1, false);
    pic_set_irq(pic, 1, true);
    ck_assert_int_eq(pic_ack(pic), 0x41);
}
END_TEST

START_TEST(priority_and_nesting)
{
    init_pair(0x20, 0x28, false);
    pic_set_irq(pic, 4, true);
    pic_set_irq(pic, 3, true);
    ck_assert_int_eq(pic_ack(pic), 0x23);       /* lower number first */
    ck_assert(!INTR);                           /* IRQ 4 waits below IRQ 3 */
    pic_set_irq(pic, 0, true);                  /* higher: nests */
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x09);
    eoi_master();                               /* clears the highest: IRQ 0 */
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    ck_assert(!INTR);
    tbus_out(bus, 0x20, 1, 0x63);               /* specific EOI of IRQ 3 */
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x24);
}
END_TEST

START_TEST(cascade)
{
    init_pair(0x20, 0x28, false);
    pic_set_irq(pic, 12, true);
    ck_assert(INTR);
    ck_assert_uint_eq(read_irr(0x20), 0x04);
    ck_assert_int_eq(pic_ack(pic), 0x2c);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
    ck_assert_uint_eq(read_isr(0xa0), 0x10);
    pic_set_irq(pic, 9, true);                  /* above 12 but the master's IR2 is in service */
    ck_assert(!INTR);
    eoi_slave();                                /* EOI 12 on the slave ... */
    ck_assert(!INTR);
    eoi_master();                               /* ... and the cascade on the master */
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x29);
    /* Slave masked: nothing reaches the master. */
    eoi_slave();
    eoi_master();
    tbus_out(bus, 0xa1, 1, 0xff);
    pic_set_irq(pic, 10, true);
    ck_assert(!INTR);
    tbus_out(bus, 0xa1, 1, 0x00);
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x2a);
}
END_TEST

START_TEST(spurious)
{
    init_pair(0x08, 0x70, false);
    /* Level input that drops before INTA: IRQ 7's vector, nothing in service. */
    tbus_out(bus, 0x4d0, 1, 0x20);
    pic_set_irq(pic, 5, true);
    ck_assert(INTR);
    pic_set_irq(pic, 5, false);
    ck_assert(!INTR);
    ck_assert_int_eq(pic_ack(pic), 0x0f);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    /* The same on the slave: IRQ 15's vector, the master's IR2 in service. */
    tbus_out(bus, 0x4d1, 1, 0x08);
    pic_set_irq(pic, 11, true);
    ck_assert(INTR);
    pic_set_irq(pic, 11, false);
    /* The slave's request went; the master latched the cascade edge. */
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x77);
    ck_assert_uint_eq(read_isr(0xa0), 0x00);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
}
END_TEST

START_TEST(edge_and_level)
{
    init_pair(0x20, 0x28, false);
    /* Edge: one request per rising edge, even a pulse. */
    pic_set_irq(pic, 3, true);
    pic_set_irq(pic, 3, false);
    ck_assert_int_eq(pic_ack(pic), 0x23);
    eoi_master();
    ck_assert(!INTR);
    /* Level (ELCR bit): requests while high, again after EOI. */
    tbus_out(bus, 0x4d0, 1, 0xff);
    ck_assert_uint_eq(tbus_in(bus, 0x4d0, 1), 0xf8);   /* IRQ 0-2 are edge only */
    tbus_out(bus, 0x4d1, 1, 0xff);
    ck_assert_uint_eq(tbus_in(bus, 0x4d1, 1), 0xde);   /* and IRQ 8, 13 */
    tbus_out(bus, 0x4d0, 2, 0x0c00);                   /* SeaBIOS: IRQ 10, 11 level */
    ck_assert_uint_eq(tbus_in(bus, 0x4d0, 2), 0x0c00);
    tbus_out(bus, 0x4d0, 1, 0x08);
    pic_set_irq(pic, 3, true);
    ck_assert_int_eq(pic_ack(pic), 0x23);
    ck_assert(!INTR);
    eoi_master();
    ck_assert(INTR);                                   /* still high */
    ck_assert_int_eq(pic_ack(pic), 0x23);
    pic_set_irq(pic, 3, false);
    eoi_master();
    ck_assert(!INTR);
    /* Switching a high input to level mode makes it request. */
    pic_set_irq(pic, 4, true);
    ck_assert_int_eq(pic_ack(pic), 0x24);
    eoi_master();
    ck_assert(!INTR);
    tbus_out(bus, 0x4d0, 1, 0x18);
    ck_assert(INTR);
    /* LTIM in ICW1 makes every input level-triggered. */
    pic_set_irq(pic, 4, false);
    tbus_out(bus, 0x4d0, 1, 0x00);
    tbus_out(bus, 0x20, 1, 0x19);
    tbus_out(bus, 0x21, 1, 0x20);
    tbus_out(bus, 0x21, 1, 0x04);
    tbus_out(bus, 0x21, 1, 0x01);
    pic_set_irq(pic, 6, true);
    ck_assert_int_eq(pic_ack(pic), 0x26);
    pic_set_irq(pic, 6, false);
    eoi_master();
    ck_assert(!INTR);
}
END_TEST

START_TEST(auto_eoi_and_rotation)
{
    init_pair(0x20, 0x28, true);
    pic_set_irq(pic, 5, true);
    ck_assert_int_eq(pic_ack(pic), 0x25);
    ck_assert_uint_eq(read_isr(0x20), 0x00);           /* no EOI needed */
    pic_set_irq(pic, 5, false);
    /* Rotate on auto-EOI: the serviced IRQ becomes the lowest. */
    tbus_out(bus, 0x20, 1, 0x80);
    pic_set_irq(pic, 1, true);
    ck_assert_int_eq(pic_ack(pic), 0x21);
    pic_set_irq(pic, 0, true);
    pic_set_irq(pic, 3, true);
    ck_assert_int_eq(pic_ack(pic), 0x23);              /* IRQ 2..7 now above IRQ 0 */
    ck_assert_int_eq(pic_ack(pic), 0x20);
    tbus_out(bus, 0x20, 1, 0x00);                      /* clear rotate in AEOI */
}
END_TEST

START_TEST(rotation_and_set_priority)
{
    init_pair(0x20, 0x28, false);
    tbus_out(bus, 0x20, 1, 0xc4);                      /* set priority: IRQ 4 lowest */
    pic_set_irq(pic, 1, true);
    pic_set_irq(pic, 6, true);
    ck_assert_int_eq(pic_ack(pic), 0x26);              /* 5 is highest, then 6 */
    tbus_out(bus, 0x20, 1, 0xa0);                      /* rotate on non-specific EOI */
    ck_assert_int_eq(pic_ack(pic), 0x21);              /* 7 highest now, then 0, 1 */
    tbus_out(bus, 0x20, 1, 0xe1);                      /* rotate on specific EOI 1 */
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    pic_set_irq(pic, 1, false);
    pic_set_irq(pic, 1, true);
    pic_set_irq(pic, 3, true);
    ck_assert_int_eq(pic_ack(pic), 0x23);              /* 2 highest: 3 before 1 */
}
END_TEST

START_TEST(poll_and_special_mask)
{
    init_pair(0x20, 0x28, false);
    tbus_out(bus, 0x20, 1, 0x0c);                      /* poll */
    ck_assert_uint_eq(tbus_in(bus, 0x20, 1), 0x00);    /* nothing */
    pic_set_irq(pic, 6, true);
    tbus_out(bus, 0x20, 1, 0x0c);
    ck_assert_uint_eq(tbus_in(bus, 0x20, 1), 0x86);
    ck_assert_uint_eq(read_isr(0x20), 0x40);           /* the poll acknowledged it */
    /* Special mask mode: masking the in-service IRQ 6 lets IRQ 7 in. */
    pic_set_irq(pic, 7, true);
    ck_assert(!INTR);
    tbus_out(bus, 0x20, 1, 0x68);
    tbus_out(bus, 0x21, 1, 0x40);
    ck_assert(INTR);
    ck_assert_int_eq(pic_ack(pic), 0x27);
    tbus_out(bus, 0x20, 1, 0x48);                      /* leave special mask mode */
    ck_assert_uint_eq(read_isr(0x20), 0xc0);
}
END_TEST

START_TEST(bad_accesses)
{
    init_pair(0x20, 0x28, false);
    /* Word accesses to the chip ports are ignored; input numbers past 15 too. */
    tbus_out(bus, 0x20, 2, 0xffff);
    ck_assert_uint_eq(tbus_in(bus, 0x21, 1), 0x00);
    ck_assert_uint_eq(tbus_in(bus, 0x20, 2), 0x0000);
    pic_set_irq(pic, 16, true);
    pic_set_irq(pic, 0xffffffffu, true);
    ck_assert(!INTR);
    /* A second PIC cannot take the same ports. */
    ck_assert_ptr_null(pic_create(bus, NULL));
    ck_assert_uint_eq(tbus_count(bus, IOBUS_PIO), 3);
}
END_TEST

START_TEST(hostile_guest)
{
    /* Random accesses to every port, with inputs moving and INTAs: no
     * crash, and a sane controller afterwards. */
    unsigned seed = 1;
    for (unsigned round = 0; round < 200; round++) {
        tbus_hammer(bus, IOBUS_PIO, 0x20, 2, 20, round);
        tbus_hammer(bus, IOBUS_PIO, 0xa0, 2, 20, round + 1000);
        tbus_hammer(bus, IOBUS_PIO, 0x4d0, 2, 4, round + 2000);
        pic_set_irq(pic, rand_r(&seed) % 16, rand_r(&seed) & 1);
        if (INTR) {
            int vec = pic_ack(pic);
            ck_assert(vec >= 0 && vec <= 0xff);
        }
    }
    tbus_out(bus, 0x4d0, 2, 0);
    for (unsigned i = 0; i < 16; i++)
        pic_set_irq(pic, i, false);
    init_pair(0x20, 0x28, false);
    ck_assert(!INTR);
    pic_set_irq(pic, 4, true);
    ck_assert_int_eq(pic_ack(pic), 0x24);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_pic");
    TCase *tc = tcase_create("pic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_and_mask);
    tcase_add_test(tc, priority_and_nesting);
    tcase_add_test(tc, cascade);
    tcase_add_test(tc, spurious);
    tcase_add_test(tc, edge_and_level);
    tcase_add_test(tc, auto_eoi_and_rotation);
    tcase_add_test(tc, rotation_and_set_priority);
    tcase_add_test(tc, poll_and_special_mask);
    tcase_add_test(tc, bad_accesses);
    tcase_add_test(tc, hostile_guest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

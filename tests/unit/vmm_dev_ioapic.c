/* Check suite for the I/O APIC (hypervisor/vmm/dev/ioapic.c): its ID,
 * version and arbitration registers, the redirection entries' fields and
 * read-only bits, MSI delivery of edge and level pins, remote IRR and EOI,
 * masking, and the route callback. */
#include <check.h>
#include <stdlib.h>

#include "dev/ioapic.h"
#include "vmm_dev_bus.h"

static struct iobus *bus;
static struct trec rec;
static struct ioapic *io;
static unsigned nroute;
static unsigned route_pin;
static uint64_t route_addr;
static uint32_t route_data;
static bool route_masked;

static void on_route(void *opaque, unsigned int pin, uint64_t addr, uint32_t data, bool masked)
{
    ck_assert_ptr_eq(opaque, &rec);
    nroute++;
    route_pin = pin;
    route_addr = addr;
    route_data = data;
    route_masked = masked;
}

static void setup(void)
{
    rec = (struct trec){ 0 };
    nroute = 0;
    bus = iobus_new();
    struct msi_sink sink = { trec_msi, &rec };
    struct ioapic_route_fn route = { on_route, &rec };
    io = ioapic_create(bus, &sink, &route);
    ck_assert_ptr_nonnull(io);
}

static void teardown(void)
{
    ioapic_destroy(io);
    ck_assert_uint_eq(tbus_count(bus, IOBUS_MMIO), 0);
    iobus_free(bus);
}

static uint32_t reg_rd(uint32_t reg)
{
    tbus_write(bus, IOAPIC_BASE, 4, reg);
    return tbus_read(bus, IOAPIC_BASE + 0x10, 4);
}

static void reg_wr(uint32_t reg, uint32_t val)
{
    tbus_write(bus, IOAPIC_BASE, 4, reg);
    tbus_write(bus, IOAPIC_BASE + 0x10, 4, val);
}

static void rte_wr(unsigned pin, uint64_t e)
{
    reg_wr(0x11 + 2 * pin, e >> 32);
    reg_wr(0x10 + 2 * pin, (uint32_t)e);
}

static uint64_t rte_rd(unsigned pin)
{
    return reg_rd(0x10 + 2 * pin) | (uint64_t)reg_rd(0x11 + 2 * pin) << 32;
}

START_TEST(identity_registers)
{
    ck_assert_uint_eq(reg_rd(0x01), 0x00170011);
    ck_assert_uint_eq(reg_rd(0x00), 0);
    reg_wr(0x00, 0xffffffff);
    ck_assert_uint_eq(reg_rd(0x00), 0x0f000000);        /* only the ID bits */
    ck_assert_uint_eq(reg_rd(0x02), 0x0f000000);        /* arbitration follows */
    reg_wr(0x01, 0);
    reg_wr(0x02, 0);
    ck_assert_uint_eq(reg_rd(0x01), 0x00170011);
    ck_assert_uint_eq(reg_rd(0x03), 0);
    ck_assert_uint_eq(reg_rd(0x40), 0);                 /* past entry 23 */
    /* IOREGSEL keeps 8 bits; byte accesses to IOWIN reach its bytes. */
    tbus_write(bus, IOAPIC_BASE, 4, 0x101);
    ck_assert_uint_eq(tbus_read(bus, IOAPIC_BASE, 4), 0x01);
    ck_assert_uint_eq(tbus_read(bus, IOAPIC_BASE + 0x12, 1), 0x17);
    ck_assert_uint_eq(tbus_read(bus, IOAPIC_BASE + 0x10, 2), 0x0011);
    ck_assert_uint_eq(tbus_read(bus, IOAPIC_BASE + 0x20, 4), 0);  /* no register there */
    ck_assert_uint_eq(tbus_read(bus, IOAPIC_BASE + 0x12, 4), 0);  /* straddles the dword */
}
END_TEST

START_TEST(entries)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ck_assert_uint_eq(rte_rd(pin), 0x10000);         /* masked at reset */
    rte_wr(5, ~0ull);
    /* Delivery status (12), remote IRR (14) and bits 17-55 are read-only. */
    ck_assert_uint_eq(rte_rd(5), 0xff0000000001afffull);
    ck_assert_uint_eq(rte_rd(4), 0x10000);
    ck_assert_uint_eq(route_pin, 5);
    ck_assert(route_masked);
    rte_wr(5, 0x0300000000000931ull);                   /* vector 0x31, lowest prio, logical, dest 3 */
    ck_assert_uint_eq(rte_rd(5), 0x0300000000000931ull);
    ck_assert(!route_masked);
    ck_assert_uint_eq(route_addr, 0xfee03004ull);
    ck_assert_uint_eq(route_data, 0x131);
    uint64_t a;
    uint32_t d;
    ck_assert_int_eq(ioapic_pin_msi(io, 5, &a, &d), 0);
    ck_assert_uint_eq(a, 0xfee03004ull);
    ck_assert_uint_eq(d, 0x131);
    ck_assert_int_eq(ioapic_pin_msi(io, 24, &a, &d), -1);
    unsigned n = nroute;
    rte_wr(5, 0x0300000000000931ull);                   /* no change, no route update */
    ck_assert_uint_eq(nroute, n);
}
END_TEST

START_TEST(edge_delivery)
{
    rte_wr(2, 0x0100000000000030ull);                   /* fixed, physical, dest 1, vector 0x30 */
    ioapic_set_irq(io, 2, true);
    ck_assert_uint_eq(rec.nmsi, 1);
    ck_assert_uint_eq(rec.msi_addr[0], 0xfee01000ull);
    ck_assert_uint_eq(rec.msi_data[0], 0x30);
    ioapic_set_irq(io, 2, true);                        /* no edge */
    ck_assert_uint_eq(rec.nmsi, 1);
    ioapic_set_irq(io, 2, false);
    ioapic_set_irq(io, 2, true);
    ck_assert_uint_eq(rec.nmsi, 2);
    ck_assert_uint_eq(rte_rd(2) & (1u << 14), 0);       /* edge pins never set remote IRR */
    /* Masked: the edge is lost, unmasking does not bring it back. */
    rte_wr(2, 0x0100000000010030ull);
    ioapic_set_irq(io, 2, false);
    ioapic_set_irq(io, 2, true);
    rte_wr(2, 0x0100000000000030ull);
    ck_assert_uint_eq(rec.nmsi, 2);
    /* Out-of-range inputs go nowhere. */
    ioapic_set_irq(io, 24, true);
    ioapic_set_irq(io, 1000, true);
    ck_assert_uint_eq(rec.nmsi, 2);
    /* NMI delivery mode travels in the data word. */
    rte_wr(3, 0x0000000000000400ull);
    ioapic_set_irq(io, 3, true);
    ck_assert_uint_eq(rec.msi_data[2], 0x400);
}
END_TEST

START_TEST(level_and_eoi)
{
    rte_wr(10, 0x000000000000a041ull);                  /* level, active low, vector 0x41 */
    ioapic_set_irq(io, 10, true);
    ck_assert_uint_eq(rec.nmsi, 1);
    ck_assert_uint_eq(rec.msi_data[0], 0x8041);         /* trigger bit 15 */
    ck_assert(rte_rd(10) & (1u << 14));                 /* remote IRR */
    ioapic_set_irq(io, 10, false);
    ioapic_set_irq(io, 10, true);
    ck_assert_uint_eq(rec.nmsi, 1);                     /* waits for the EOI */
    ioapic_eoi(io, 0x42);                               /* another vector */
    ck_assert(rte_rd(10) & (1u << 14));
    ioapic_eoi(io, 0x41);                               /* still asserted: again */
    ck_assert_uint_eq(rec.nmsi, 2);
    ck_assert(rte_rd(10) & (1u << 14));
    ioapic_set_irq(io, 10, false);
    ioapic_eoi(io, 0x41);
    ck_assert_uint_eq(rec.nmsi, 2);
    ck_assert(!(rte_rd(10) & (1u << 14)));
    /* Unmasking an asserted level pin delivers. */
    rte_wr(11, 0x0000000000018051ull);
    ioapic_set_irq(io, 11, true);
    ck_assert_uint_eq(rec.nmsi, 2);
    rte_wr(11, 0x0000000000008051ull);
    ck_assert_uint_eq(rec.nmsi, 3);
    ck_assert_uint_eq(rec.msi_data[2], 0x8051);
    /* Edge and back clears a stuck remote IRR and the asserted input fires. */
    rte_wr(11, 0x0000000000000051ull);
    ck_assert(!(rte_rd(11) & (1u << 14)));
    rte_wr(11, 0x0000000000008051ull);
    ck_assert_uint_eq(rec.nmsi, 4);
    /* Two level pins sharing a vector: one EOI serves both. */
    rte_wr(12, 0x0000000000008051ull);
    ioapic_set_irq(io, 12, true);
    ck_assert_uint_eq(rec.nmsi, 5);
    ioapic_set_irq(io, 11, false);
    ioapic_set_irq(io, 12, false);
    ioapic_eoi(io, 0x51);
    ck_assert(!(rte_rd(11) & (1u << 14)));
    ck_assert(!(rte_rd(12) & (1u << 14)));
}
END_TEST

START_TEST(no_sink)
{
    struct ioapic *bare = ioapic_create(NULL, NULL, NULL);
    ck_assert_ptr_nonnull(bare);
    ioapic_set_irq(bare, 0, true);
    ioapic_eoi(bare, 0);
    ioapic_destroy(bare);
    ck_assert_ptr_null(ioapic_create(bus, NULL, NULL));   /* its range is taken */
}
END_TEST

START_TEST(hostile_guest)
{
    unsigned seed = 7;
    for (unsigned round = 0; round < 500; round++) {
        tbus_hammer(bus, IOBUS_MMIO, IOAPIC_BASE, IOAPIC_SIZE, 20, round);
        tbus_hammer(bus, IOBUS_MMIO, IOAPIC_BASE, 0x20, 20, round + 5000);
        ioapic_set_irq(io, rand_r(&seed) % 32, rand_r(&seed) & 1);
        ioapic_eoi(io, rand_r(&seed) & 0xff);
    }
    /* Still an IOAPIC: version intact, a fresh entry works. */
    ck_assert_uint_eq(reg_rd(0x01), 0x00170011);
    ioapic_set_irq(io, 1, false);
    rte_wr(1, 0x0000000000000061ull);
    rec.nmsi = 0;
    ioapic_set_irq(io, 1, true);
    ck_assert_uint_eq(rec.nmsi, 1);
    ck_assert_uint_eq(rec.msi_data[0], 0x61);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_ioapic");
    TCase *tc = tcase_create("ioapic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, identity_registers);
    tcase_add_test(tc, entries);
    tcase_add_test(tc, edge_delivery);
    tcase_add_test(tc, level_and_eoi);
    tcase_add_test(tc, no_sink);
    tcase_add_test(tc, hostile_guest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Check suite for the fw_cfg model (hypervisor/vmm/dev/fw_cfg.c): the port
 * interface, the file directory, the DMA interface as SeaBIOS drives it,
 * and every DMA refusal, over a 64 KiB fake guest memory. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev/fw_cfg.h"
#include "iobus_fake.h"

#define RAM_SIZE 0x10000
#define DESC 0x1000                    /* where the tests put a FWCfgDmaAccess */
#define BUF  0x2000

static struct iobus *bus;
static struct fw_cfg *f;
static uint8_t ram[RAM_SIZE];
static unsigned refused;

static bool in_ram(uint64_t gpa, size_t len)
{
    return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    (void)opaque;
    if (!in_ram(gpa, len)) {
        refused++;
        return -1;
    }
    memcpy(buf, ram + gpa, len);
    return 0;
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    (void)opaque;
    if (!in_ram(gpa, len)) {
        refused++;
        return -1;
    }
    memcpy(ram + gpa, buf, len);
    return 0;
}

static const struct fw_cfg_dma_ops guest_mem = { .read = mem_read, .write = mem_write };

static void setup(void)
{
    memset(ram, 0xee, sizeof(ram));
    refused = 0;
    bus = iobus_new();
    f = fw_cfg_create(bus, &guest_mem);
    ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
    fw_cfg_destroy(f);
    iobus_free(bus);
}

static void sel(uint16_t key) { fake_out(bus, FW_CFG_PORT_SEL, 2, key); }
static uint8_t byte(void) { return fake_inb(bus, FW_CFG_PORT_DATA); }

static void port_read(uint16_t key, uint8_t *out, unsigned n)
{
    sel(key);
    for (unsigned i = 0; i < n; i++)
        out[i] = byte();
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}

/* A descriptor at desc and SeaBIOS's kick: outl(cpu_to_be32(desc), 0x518).
 * Returns the control word the device wrote back. */
static uint32_t dma_at(uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
    if (in_ram(desc, 16)) {
        put_be32(ram + desc, control);
        put_be32(ram + desc + 4, len);
        put_be32(ram + desc + 8, (uint32_t)(addr >> 32));
        put_be32(ram + desc + 12, (uint32_t)addr);
    }
    if (desc >> 32)
        fake_out(bus, FW_CFG_PORT_DMA, 4, bswap32((uint32_t)(desc >> 32)));
    fake_out(bus, FW_CFG_PORT_DMA + 4, 4, bswap32((uint32_t)desc));
    return in_ram(desc, 16) ? be32(ram + desc) : 0;
}

static uint32_t dma(uint32_t control, uint32_t len, uint64_t addr)
{
    return dma_at(DESC, control, len, addr);
}

START_TEST(ports)
{
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 2);
    ck_assert_ptr_null(fw_cfg_create(bus, NULL));
    ck_assert_int_eq(errno, EEXIST);
    fw_cfg_destroy(f);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 0);
    /* Without guest memory ops: no DMA port, and ID says so. */
    f = fw_cfg_create(bus, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 1);
    uint8_t id[4];
    port_read(FW_CFG_ID, id, 4);
    ck_assert_uint_eq(id[0], FW_CFG_VERSION);
    ck_assert_uint_eq(fake_in(bus, FW_CFG_PORT_DMA, 4), 0xffffffffu);
}
END_TEST

START_TEST(signature_and_id)
{
    uint8_t b[8];
    port_read(FW_CFG_SIGNATURE, b, 6);
    ck_assert_int_eq(memcmp(b, "QEMU\0\0", 6), 0);          /* zeros past the end */
    port_read(FW_CFG_ID, b, 4);
    ck_assert_uint_eq(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24,
                      FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    /* Selecting again starts over; the write channel bit reads the same item. */
    port_read(FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL, b, 2);
    ck_assert_int_eq(memcmp(b, "QE", 2), 0);
    fake_outb(bus, FW_CFG_PORT_DATA, 'X');                   /* data writes are ignored */
    port_read(FW_CFG_SIGNATURE, b, 4);
    ck_assert_int_eq(memcmp(b, "QEMU", 4), 0);
    sel(0x1234);                                             /* nobody's key */
    ck_assert_uint_eq(byte(), 0);
    /* The DMA register reads as "QEMU CFG", big-endian. */
    ck_assert_uint_eq(bswap32(fake_in(bus, FW_CFG_PORT_DMA, 4)), 0x51454d55);
    ck_assert_uint_eq(bswap32(fake_in(bus, FW_CFG_PORT_DMA + 4, 4)), 0x20434647);
}
END_TEST

START_TEST(items_and_refusals)
{
    ck_assert_int_eq(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 0x0102), 0);
    uint8_t b[8];
    port_read(FW_CFG_NB_CPUS, b, 2);
    ck_assert_uint_eq(b[0], 0x02);
    ck_assert_uint_eq(b[1], 0x01);
    ck_assert_int_eq(fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 7), 0);   /* replaced */
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_NB_CPUS, b, sizeof(b)), 2);
    ck_assert_uint_eq(b[0], 7);
    ck_assert_int_eq(fw_cfg_get(f, 0x1234, b, sizeof(b)), -1);
    static const uint16_t owned[] = { FW_CFG_SIGNATURE, FW_CFG_ID, FW_CFG_FILE_DIR,
                                      FW_CFG_FILE_FIRST, 0x3fff, FW_CFG_WRITE_CHANNEL | 5 };
    for (unsigned i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        errno = 0;
        ck_assert_int_eq(fw_cfg_add_u8(f, owned[i], 1), -1);
        ck_assert_int_eq(errno, EINVAL);
    }
    ck_assert_int_eq(fw_cfg_add_u8(f, FW_CFG_IRQ0_OVERRIDE, 1), 0);    /* arch-local */

    char longname[FW_CFG_FILE_NAME + 1];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[FW_CFG_FILE_NAME] = 0;
    ck_assert_int_eq(fw_cfg_add_file(f, longname, "x", 1, false), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
    longname[FW_CFG_FILE_NAME - 1] = 0;                      /* 55 characters fit */
    ck_assert_int_eq(fw_cfg_add_file(f, longname, "x", 1, false), FW_CFG_FILE_FIRST);
    ck_assert_int_eq(fw_cfg_add_file(f, longname, "y", 1, false), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_int_eq(fw_cfg_add_file(f, "", "y", 1, false), -1);
    ck_assert_int_eq(errno, EINVAL);
    char name[16];
    for (unsigned i = 1; i < FW_CFG_MAX_FILES; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        ck_assert_int_eq(fw_cfg_add_file(f, name, &i, 1, false), (int)(FW_CFG_FILE_FIRST + i));
    }
    ck_assert_int_eq(fw_cfg_add_file(f, "one-too-many", "z", 1, false), -1);
    ck_assert_int_eq(errno, ENOSPC);
    port_read(FW_CFG_FILE_DIR, b, 4);
    ck_assert_uint_eq(be32(b), FW_CFG_MAX_FILES);
}
END_TEST

START_TEST(file_directory)
{
    ck_assert_int_eq(fw_cfg_add_file(f, "etc/show-boot-menu", "\0", 1, false), 0x20);
    ck_assert_int_eq(fw_cfg_add_file(f, "bootorder", "/pci@i0cf8/nvme@3\n", 18, false), 0x21);
    ck_assert_int_eq(fw_cfg_add_file(f, "etc/boot-fail-wait", "\x05\0\0\0", 4, false), 0x22);
    uint8_t dir[4 + 3 * 64];
    port_read(FW_CFG_FILE_DIR, dir, sizeof(dir));
    ck_assert_uint_eq(be32(dir), 3);
    static const struct { const char *name; uint32_t size; uint16_t sel; } want[] = {
        { "bootorder", 18, 0x21 }, { "etc/boot-fail-wait", 4, 0x22 },
        { "etc/show-boot-menu", 1, 0x20 },                   /* by name */
    };
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *e = dir + 4 + 64 * i;
        ck_assert_uint_eq(be32(e), want[i].size);
        ck_assert_uint_eq(e[4] << 8 | e[5], want[i].sel);
        ck_assert_uint_eq(e[6] | e[7], 0);
        ck_assert_str_eq((const char *)e + 8, want[i].name);
    }
    char bo[19] = { 0 };
    port_read(0x21, (uint8_t *)bo, 18);
    ck_assert_str_eq(bo, "/pci@i0cf8/nvme@3\n");
}
END_TEST

START_TEST(dma_read_select_skip)
{
    static const char blob[] = "0123456789abcdef";
    int key = fw_cfg_add_file(f, "opt/blob", blob, 16, false);
    ck_assert_int_ge(key, FW_CFG_FILE_FIRST);
    /* SeaBIOS's qemu_cfg_read_entry: select and read in one. */
    ck_assert_uint_eq(dma((uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 10,
                          BUF), 0);
    ck_assert_int_eq(memcmp(ram + BUF, "0123456789", 10), 0);
    ck_assert_uint_eq(ram[BUF + 10], 0xee);                  /* not one byte more */
    /* The offset moved on: skip 2, read the rest and past the end. */
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SKIP, 2, 0), 0);
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_READ, 8, BUF), 0);
    ck_assert_int_eq(memcmp(ram + BUF, "cdef\0\0\0\0", 8), 0);
    /* The port interface shares the offset: at the end, zeros. */
    ck_assert_uint_eq(byte(), 0);
    /* Read takes precedence over skip and write in one control word. */
    ck_assert_uint_eq(dma((uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ |
                          FW_CFG_DMA_CTL_SKIP | FW_CFG_DMA_CTL_WRITE, 4, BUF), 0);
    ck_assert_int_eq(memcmp(ram + BUF, "0123", 4), 0);
    /* Select alone: the port reads from the start. */
    ck_assert_uint_eq(dma((uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
    ck_assert_uint_eq(byte(), '0');
    /* An 8-byte write of the whole register (MMIO style) also starts it. */
    put_be32(ram + DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    put_be32(ram + DESC + 4, 4);
    put_be32(ram + DESC + 8, 0);
    put_be32(ram + DESC + 12, BUF + 0x100);
    uint8_t reg[8] = { 0, 0, 0, 0, 0, 0, DESC >> 8, DESC & 0xff };
    fw_cfg_dma_io(f, NULL, 0, reg, 8, true);                 /* PIO has no 8-byte access */
    ck_assert_uint_eq(be32(ram + DESC), 0);
    ck_assert_int_eq(memcmp(ram + BUF + 0x100, "QEMU", 4), 0);
    ck_assert_uint_eq(refused, 0);
}
END_TEST

START_TEST(dma_write)
{
    uint8_t init[8] = { 0 };
    int rw = fw_cfg_add_file(f, "etc/rw", init, 8, true);
    int ro = fw_cfg_add_file(f, "etc/ro", init, 8, false);
    memcpy(ram + BUF, "ABCDEFGHIJ", 10);
    ck_assert_uint_eq(dma((uint32_t)rw << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 3,
                          BUF), 0);
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_WRITE, 5, BUF + 3), 0);
    uint8_t got[8];
    ck_assert_int_eq(fw_cfg_get(f, (uint16_t)rw, got, sizeof(got)), 8);
    ck_assert_int_eq(memcmp(got, "ABCDEFGH", 8), 0);
    /* Past its end: refused, the item unchanged. */
    ck_assert_uint_eq(dma((uint32_t)rw << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 9,
                          BUF), FW_CFG_DMA_CTL_ERROR);
    fw_cfg_get(f, (uint16_t)rw, got, sizeof(got));
    ck_assert_int_eq(memcmp(got, "ABCDEFGH", 8), 0);
    /* Not writable, or no item. */
    ck_assert_uint_eq(dma((uint32_t)ro << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 1,
                          BUF), FW_CFG_DMA_CTL_ERROR);
    fw_cfg_get(f, (uint16_t)ro, got, sizeof(got));
    ck_assert_int_eq(memcmp(got, init, 8), 0);
    ck_assert_uint_eq(dma(0x1234u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 1, BUF),
                      FW_CFG_DMA_CTL_ERROR);
    /* The signature is never writable. */
    ck_assert_uint_eq(dma(FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4,
                          BUF), FW_CFG_DMA_CTL_ERROR);
    uint8_t sig[4];
    port_read(FW_CFG_SIGNATURE, sig, 4);
    ck_assert_int_eq(memcmp(sig, "QEMU", 4), 0);
    /* A write from outside RAM. */
    ck_assert_uint_eq(dma((uint32_t)rw << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4,
                          RAM_SIZE - 2), FW_CFG_DMA_CTL_ERROR);
    fw_cfg_get(f, (uint16_t)rw, got, sizeof(got));
    ck_assert_int_eq(memcmp(got, "ABCDEFGH", 8), 0);
}
END_TEST

START_TEST(dma_outside_ram)
{
    static uint8_t before[RAM_SIZE];
    /* Buffer past the end of RAM, straddling it, wrapping around. */
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, RAM_SIZE),
                      FW_CFG_DMA_CTL_ERROR);
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, 0xfffffffffffffffeULL),
                      FW_CFG_DMA_CTL_ERROR);
    memcpy(before, ram, sizeof(ram));
    /* Zero fill running off the end: the data is written, the first zero
     * chunk that leaves RAM is refused whole, and the transfer stops. */
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 0x20000, RAM_SIZE - 0x100),
                      FW_CFG_DMA_CTL_ERROR);
    ck_assert_int_eq(memcmp(ram + RAM_SIZE - 0x100, "QEMU", 4), 0);
    ck_assert_uint_eq(ram[RAM_SIZE - 0x100 + 4], 0xee);
    ck_assert_uint_eq(refused, 2);                           /* the wrap never got asked */
    /* A descriptor outside RAM: nothing read, nothing written. */
    memcpy(before, ram, sizeof(ram));
    refused = 0;
    dma_at(RAM_SIZE - 8, FW_CFG_DMA_CTL_READ, 4, BUF);
    dma_at(0x100000000ULL + DESC, FW_CFG_DMA_CTL_READ, 4, BUF);  /* high half set */
    dma_at(0xfffffffffffffff8ULL, FW_CFG_DMA_CTL_READ, 4, BUF);  /* wraps */
    ck_assert_int_eq(memcmp(before, ram, sizeof(ram)), 0);
    ck_assert_uint_eq(refused, 2);                           /* again: the wrap is caught first */
    /* The high half is forgotten after a transfer: the next low-only kick
     * reads the descriptor below 4 GiB. */
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF), 0);
    ck_assert_int_eq(memcmp(ram + BUF, "QEMU", 4), 0);
}
END_TEST

START_TEST(pc_items_and_e820)
{
    ck_assert_int_eq(fw_cfg_add_pc_items(f, 2, 4, 512ULL << 20), 0);
    uint8_t b[64];
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_NB_CPUS, b, sizeof(b)), 2);
    ck_assert_uint_eq(b[0] | b[1] << 8, 2);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_MAX_CPUS, b, sizeof(b)), 2);
    ck_assert_uint_eq(b[0] | b[1] << 8, 4);
    port_read(FW_CFG_RAM_SIZE, b, 8);
    uint64_t ram_size = 0;
    for (int i = 7; i >= 0; i--)
        ram_size = ram_size << 8 | b[i];
    ck_assert_uint_eq(ram_size, 512ULL << 20);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_NUMA, b, sizeof(b)), 8 + 4 * 8);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_IRQ0_OVERRIDE, b, sizeof(b)), 1);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_E820_TABLE, b, sizeof(b)), 4);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_ACPI_TABLES, b, sizeof(b)), 2);
    ck_assert_int_eq(fw_cfg_get(f, FW_CFG_SMBIOS_ENTRIES, b, sizeof(b)), 2);

    const struct fw_cfg_e820 map[2] = {
        { 0, 0x9fc00, 1 }, { 0x100000000ULL, 0x40000000ULL, 1 },
    };
    ck_assert_int_eq(fw_cfg_add_e820(f, map, 2), 0);
    /* Found the way SeaBIOS finds it: in the directory, then by DMA. */
    uint8_t dir[4 + 2 * 64];
    port_read(FW_CFG_FILE_DIR, dir, sizeof(dir));
    ck_assert_uint_eq(be32(dir), 2);
    const uint8_t *e = dir + 4;
    if (strcmp((const char *)e + 8, "etc/e820"))
        e += 64;
    ck_assert_str_eq((const char *)e + 8, "etc/e820");
    ck_assert_uint_eq(be32(e), 40);
    uint16_t key = (uint16_t)(e[4] << 8 | e[5]);
    ck_assert_uint_eq(dma((uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 40,
                          BUF), 0);
    const uint8_t *t = ram + BUF + 20;
    uint64_t addr = 0, len = 0;
    for (int i = 7; i >= 0; i--) {
        addr = addr << 8 | t[i];
        len = len << 8 | t[8 + i];
    }
    ck_assert_uint_eq(addr, 0x100000000ULL);
    ck_assert_uint_eq(len, 0x40000000ULL);
    ck_assert_uint_eq(t[16], 1);
    static const uint8_t first[20] = { [8] = 0x00, [9] = 0xfc, [10] = 0x09, [16] = 1 };
    ck_assert_int_eq(memcmp(ram + BUF, first, 20), 0);       /* {0, 0x9fc00, 1} */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_fw_cfg");
    TCase *tc = tcase_create("fw_cfg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ports);
    tcase_add_test(tc, signature_and_id);
    tcase_add_test(tc, items_and_refusals);
    tcase_add_test(tc, file_directory);
    tcase_add_test(tc, dma_read_select_skip);
    tcase_add_test(tc, dma_write);
    tcase_add_test(tc, dma_outside_ram);
    tcase_add_test(tc, pc_items_and_e820);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

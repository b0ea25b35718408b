/* libFuzzer target for the fw_cfg model's port and DMA interface
 * (hypervisor/vmm/dev/fw_cfg.c), as a hostile guest drives it. The input's
 * first 4 KiB are the start of a 64 KiB guest RAM (descriptors and data);
 * the rest is a program of accesses: select, data reads, DMA address
 * writes (high, low, both), and stores of 16 bytes into RAM. Checks: no
 * crash or sanitizer report; guest memory is touched only inside RAM (the
 * ops refuse the rest, and RAM is its own allocation for ASan); after a
 * transfer whose descriptor lies in RAM, its control word is 0 or the
 * error bit; the read-only items and the signature never change. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fw_cfg.h"
#include "iobus_fake.h"

#define RAM_SIZE 0x10000
#define SEED_MAX 4096

static uint8_t *ram;

static bool in_ram(uint64_t gpa, size_t len)
{
    return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    (void)opaque;
    if (!in_ram(gpa, len))
        return -1;
    memcpy(buf, ram + gpa, len);
    return 0;
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    (void)opaque;
    if (!in_ram(gpa, len))
        return -1;
    memcpy(ram + gpa, buf, len);
    return 0;
}

static const uint8_t ro_data[24] = "read-only item contents";

static void check_invariants(struct fw_cfg *f, int ro_key)
{
    uint8_t b[32];
    if (fw_cfg_get(f, (uint16_t)ro_key, b, sizeof(b)) != sizeof(ro_data) ||
        memcmp(b, ro_data, sizeof(ro_data)))
        abort();
    if (fw_cfg_get(f, FW_CFG_SIGNATURE, b, sizeof(b)) != 4 || memcmp(b, "QEMU", 4))
        abort();
}

static void check_control(uint64_t desc)
{
    if (!in_ram(desc, 16))
        return;
    const uint8_t *c = ram + desc;
    if (c[0] || c[1] || c[2] || (c[3] & ~FW_CFG_DMA_CTL_ERROR))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ram = calloc(1, RAM_SIZE);
    struct iobus *bus = iobus_new();
    if (!ram || !bus)
        abort();
    size_t seed = size < SEED_MAX ? size : SEED_MAX;
    memcpy(ram, data, seed);
    data += seed;
    size -= seed;

    const struct fw_cfg_dma_ops ops = { .read = mem_read, .write = mem_write };
    struct fw_cfg *f = fw_cfg_create(bus, &ops);
    if (!f)
        abort();
    const struct fw_cfg_e820 map[2] = { { 0, 0x9fc00, 1 }, { 0x100000, 0xf00000, 1 } };
    uint8_t rw[16] = { 0 };
    int ro_key = fw_cfg_add_file(f, "etc/ro", ro_data, sizeof(ro_data), false);
    if (ro_key < 0 || fw_cfg_add_file(f, "etc/rw", rw, sizeof(rw), true) < 0 ||
        fw_cfg_add_file(f, "etc/empty-rw", NULL, 0, true) < 0 ||
        fw_cfg_add_e820(f, map, 2) < 0 || fw_cfg_add_pc_items(f, 2, 4, 16 << 20) < 0)
        abort();

    uint32_t hi = 0;
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++] % 6;
        size_t need = (size_t[]){ 2, 1, 4, 4, 8, 18 }[op];
        if (size - i < need)
            break;
        const uint8_t *a = data + i;
        i += need;
        uint8_t buf[8];
        switch (op) {
        case 0:
            fake_out(bus, FW_CFG_PORT_SEL, 2, (uint32_t)a[0] | (uint32_t)a[1] << 8);
            break;
        case 1:
            for (unsigned n = 0; n < a[0]; n++)
                fake_inb(bus, FW_CFG_PORT_DATA);
            break;
        case 2: {                      /* low half: the transfer starts */
            uint64_t desc = (uint64_t)hi << 32 |
                            ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]);
            memcpy(buf, a, 4);
            fw_cfg_dma_io(f, NULL, 4, buf, 4, true);
            hi = 0;
            check_control(desc);
            break;
        }
        case 3:
            memcpy(buf, a, 4);
            fw_cfg_dma_io(f, NULL, 0, buf, 4, true);
            hi = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
            break;
        case 4: {
            uint64_t desc = 0;
            for (int b = 0; b < 8; b++)
                desc = desc << 8 | a[b];
            memcpy(buf, a, 8);
            fw_cfg_dma_io(f, NULL, 0, buf, 8, true);
            hi = 0;
            check_control(desc);
            break;
        }
        default: {                     /* 16 bytes into RAM at a 16-bit offset */
            uint32_t off = (uint32_t)a[0] << 8 | a[1];
            if (off + 16 <= RAM_SIZE)
                memcpy(ram + off, a + 2, 16);
            break;
        }
        }
        check_invariants(f, ro_key);
    }
    /* Reading the DMA register at any offset stays inside it. */
    uint8_t sig[8];
    fw_cfg_dma_io(f, NULL, 0, sig, 8, false);
    if (memcmp(sig, "QEMU CFG", 8))
        abort();

    fw_cfg_destroy(f);
    if (iobus_fake_count(bus, IOBUS_PIO))
        abort();
    iobus_free(bus);
    free(ram);
    return 0;
}

/*
 * ACPI tables for a domain on the Xen HVM platform, as libxl builds them
 * for a PVH domU: RSDP (start_info's rsdp_paddr) -> XSDT -> FADT
 * (hardware-reduced, no VGA, no CMOS RTC) -> DSDT (empty), and a MADT with
 * one enabled local APIC per vCPU (APIC id = ACPI processor id = vCPU id)
 * and no I/O APIC. Linux reads the MADT to bring up its vCPUs. Power off
 * and reset are ACPI's hardware-reduced ones: the DSDT's \_S5 gives
 * SLP_TYP 5, written with SLP_EN to the sleep control register (port
 * ACPI_SLEEP_CONTROL_PORT), and the reset register (ACPI_RESET_PORT, value
 * ACPI_RESET_VALUE); tandem-vmm turns those writes into poweroff and
 * reboot (vcpu.c). The tables live in the platform region (reserved in
 * the memory map). Layouts from the ACPI 6.x specification.
 */
#include <stddef.h>
#include <string.h>

#include "acpi.h"

#define ACPI_OEM_ID "TANDEM"
#define ACPI_OEM_TABLE_ID "TANDEMVM"
#define ACPI_CREATOR_ID 0x444d4454u /* "TDMD" */

struct __attribute__((packed)) acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_rsdp {
    char signature[8];
    uint8_t checksum;        /* first 20 bytes */
    char oem_id[6];
    uint8_t revision;        /* 2: XSDT */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;
    uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_gas {
    uint8_t space_id, bit_width, bit_offset, access_size;
    uint64_t address;
};

/* FADT revision 6 (276 bytes). */
struct __attribute__((packed)) acpi_fadt {
    struct acpi_header h;
    uint32_t firmware_ctrl, dsdt;
    uint8_t reserved0, preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
    uint32_t gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
    uint8_t gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_revision;
    uint64_t x_firmware_ctrl, x_dsdt;
    struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
    struct acpi_gas sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
};

struct __attribute__((packed)) acpi_madt {
    struct acpi_header h;
    uint32_t lapic_address;
    uint32_t flags;
};

struct __attribute__((packed)) acpi_madt_lapic {
    uint8_t type;            /* 0: processor local APIC */
    uint8_t length;          /* 8 */
    uint8_t processor_id;
    uint8_t apic_id;
    uint32_t flags;          /* bit 0: enabled */
};

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");

#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define FADT_BOOT_NO_VGA (1u << 2)
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)
#define MADT_LAPIC_ENABLED 1u

static uint8_t checksum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return (uint8_t)(0 - sum);
}

static void header(struct acpi_header *h, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(h->signature, sig, 4);
    h->length = len;
    h->revision = rev;
    memcpy(h->oem_id, ACPI_OEM_ID, 6);
    memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
    h->oem_revision = 1;
    h->creator_id = ACPI_CREATOR_ID;
    h->creator_revision = 1;
    h->checksum = 0;
    h->checksum = checksum(h, len);
}

/* The DSDT's only content: Name (_S5, Package (4) { 5, 5, 0, 0 }). */
static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                              0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00 };

static uint64_t align16(uint64_t x)
{
    return (x + 15) & ~15ULL;
}

long acpi_build(uint8_t *buf, uint64_t gpa, size_t size, unsigned int vcpus)
{
    uint64_t rsdp_off = 0;
    uint64_t dsdt_off = align16(rsdp_off + sizeof(struct acpi_rsdp));
    uint64_t fadt_off = align16(dsdt_off + sizeof(struct acpi_header) + sizeof(s5));
    uint64_t madt_off = align16(fadt_off + sizeof(struct acpi_fadt));
    uint64_t madt_len = sizeof(struct acpi_madt) + vcpus * sizeof(struct acpi_madt_lapic);
    uint64_t xsdt_off = align16(madt_off + madt_len);
    uint64_t xsdt_len = sizeof(struct acpi_header) + 2 * sizeof(uint64_t);
    uint64_t end = xsdt_off + xsdt_len;
    if (vcpus == 0 || vcpus > 255 || end > size)
        return -1;
    memset(buf, 0, end);

    memcpy(buf + dsdt_off + sizeof(struct acpi_header), s5, sizeof(s5));
    header((struct acpi_header *)(buf + dsdt_off), "DSDT",
           (uint32_t)(sizeof(struct acpi_header) + sizeof(s5)), 2);

    struct acpi_fadt *f = (struct acpi_fadt *)(buf + fadt_off);
    f->dsdt = (uint32_t)(gpa + dsdt_off);
    f->x_dsdt = gpa + dsdt_off;
    f->flags = FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP;
    f->reset_reg = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0, GAS_ACCESS_BYTE, ACPI_RESET_PORT };
    f->reset_value = ACPI_RESET_VALUE;
    f->sleep_control_reg = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0, GAS_ACCESS_BYTE,
                                              ACPI_SLEEP_CONTROL_PORT };
    f->sleep_status_reg = (struct acpi_gas){ GAS_SYSTEM_IO, 8, 0, GAS_ACCESS_BYTE,
                                             ACPI_SLEEP_STATUS_PORT };
    f->iapc_boot_arch = FADT_BOOT_NO_VGA | FADT_BOOT_NO_CMOS_RTC;
    f->minor_revision = 0;
    memcpy(&f->hypervisor_vendor_id, "XenVMMXe", 8);
    header(&f->h, "FACP", sizeof(*f), 6);

    struct acpi_madt *m = (struct acpi_madt *)(buf + madt_off);
    m->lapic_address = 0xfee00000u;
    m->flags = 0; /* no 8259 PICs */
    struct acpi_madt_lapic *l = (struct acpi_madt_lapic *)(m + 1);
    for (unsigned int i = 0; i < vcpus; i++)
        l[i] = (struct acpi_madt_lapic){ 0, sizeof(l[i]), (uint8_t)i, (uint8_t)i, MADT_LAPIC_ENABLED };
    header(&m->h, "APIC", (uint32_t)madt_len, 4);

    struct acpi_header *x = (struct acpi_header *)(buf + xsdt_off);
    uint64_t entries[2] = { gpa + fadt_off, gpa + madt_off };
    memcpy(x + 1, entries, sizeof(entries));
    header(x, "XSDT", (uint32_t)xsdt_len, 1);

    struct acpi_rsdp *r = (struct acpi_rsdp *)(buf + rsdp_off);
    memcpy(r->signature, "RSD PTR ", 8);
    memcpy(r->oem_id, ACPI_OEM_ID, 6);
    r->revision = 2;
    r->length = sizeof(*r);
    r->xsdt_address = gpa + xsdt_off;
    r->checksum = checksum(r, 20);
    r->extended_checksum = checksum(r, sizeof(*r));
    return (long)end;
}

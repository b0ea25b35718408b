/*
 * The Xen HVM platform's ACPI power control (acpi.c builds the tables
 * that point here): hardware-reduced ACPI's sleep control register
 * (0x600: SLP_TYP 5 with SLP_EN is S5, power off), sleep status register
 * (0x601: reads 0, never woken; clearing WAK_STS keeps nothing) and reset
 * register (0x604: 0x01 reboots). One block 0x600..0x607; the other ports
 * of it, reads of the two write-only registers and writes of another size
 * find nothing there.
 */
#include "acpi.h"
#include "dev/platform_devs.h"
#include "vmm.h"

#define ACPI_PM_BASE ACPI_SLEEP_CONTROL_PORT
#define ACPI_PM_LEN 8

_Static_assert(ACPI_SLEEP_STATUS_PORT - ACPI_PM_BASE < ACPI_PM_LEN &&
                   ACPI_RESET_PORT - ACPI_PM_BASE < ACPI_PM_LEN,
               "the ACPI registers are in the block");

static void acpi_pm(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    struct vm *vm = opaque;
    uint16_t port = (uint16_t)(ACPI_PM_BASE + off);
    if (port == ACPI_SLEEP_STATUS_PORT)
        return;   /* reads see 0 (the bus zeroed them); writes keep nothing */
    if (is_write && len == 1 && port == ACPI_SLEEP_CONTROL_PORT) {
        if ((data[0] & ACPI_SLEEP_SLP_EN) && ((data[0] >> 2) & 7) == ACPI_S5_SLP_TYP)
            vm_guest_shutdown(vm, 0 /* SHUTDOWN_poweroff */);
        return;
    }
    if (is_write && len == 1 && port == ACPI_RESET_PORT) {
        if (data[0] == ACPI_RESET_VALUE)
            vm_guest_shutdown(vm, 1 /* SHUTDOWN_reboot */);
        return;
    }
    vcpu_io_unserved(v, port, data, len, is_write, 0xff);
}

int acpi_pm_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, ACPI_PM_BASE, ACPI_PM_LEN, acpi_pm, vm, "acpi-pm");
}

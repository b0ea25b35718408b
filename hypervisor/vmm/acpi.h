/* ACPI tables for the Xen HVM platform (acpi.c). */
#ifndef TANDEM_VMM_ACPI_H
#define TANDEM_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Hardware-reduced ACPI power control (FADT sleep and reset registers). */
#define ACPI_SLEEP_CONTROL_PORT 0x600
#define ACPI_SLEEP_STATUS_PORT  0x601
#define ACPI_RESET_PORT         0x604
#define ACPI_RESET_VALUE        0x01
#define ACPI_S5_SLP_TYP         5
#define ACPI_SLEEP_SLP_EN       0x20      /* SLP_EN; SLP_TYP in bits 2..4 */

/* Writes RSDP (at buf[0], guest address gpa), XSDT, FADT, MADT and DSDT
 * for `vcpus` vCPUs into buf[0, size). Returns the bytes used, or -1 if
 * they do not fit or vcpus is not 1..255. */
long acpi_build(uint8_t *buf, uint64_t gpa, size_t size, unsigned int vcpus);

#endif

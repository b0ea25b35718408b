/* ACPI tables for the Xen HVM platform (acpi.c). */
#ifndef TANDEM_VMM_ACPI_H
#define TANDEM_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Writes RSDP (at buf[0], guest address gpa), XSDT, FADT, MADT and DSDT
 * for `vcpus` vCPUs into buf[0, size). Returns the bytes used, or -1 if
 * they do not fit or vcpus is not 1..255. */
long acpi_build(uint8_t *buf, uint64_t gpa, size_t size, unsigned int vcpus);

#endif

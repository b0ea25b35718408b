/*
 * The devices that tandem-vmm's platforms give every domain (devices.c
 * lists which platform gets which; docs/vmm.md "Devices"). Each is one
 * file in dev/ whose init registers its ranges on vm->bus: 0, or -1 with
 * a message on stderr.
 */
#ifndef TANDEM_VMM_DEV_PLATFORM_DEVS_H
#define TANDEM_VMM_DEV_PLATFORM_DEVS_H

#include <stdint.h>

#include "iobus.h"

struct vm;

/* Registers [base, base + len) of space for a device: 0, or -1 after
 * saying why (devices.c). */
int dev_register(struct vm *vm, enum iobus_space space, uint64_t base, uint64_t len, iobus_fn fn,
                 void *opaque, const char *name);

int hypercall_port_init(struct vm *vm);   /* Tandem's hypercall port 0xB0 */
int doorbell_init(struct vm *vm);         /* Tandem's event-channel doorbell 0xB4 */
int debugcon_init(struct vm *vm);         /* the debug console port 0xE9 */
int post_port_init(struct vm *vm);        /* port 0x80: POST codes, I/O delay */
int acpi_pm_init(struct vm *vm);          /* Xen HVM: ACPI sleep and reset registers */
int pit_absent_init(struct vm *vm);       /* Xen HVM: a PIT whose counters read 0 */

#endif

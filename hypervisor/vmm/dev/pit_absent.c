/*
 * The Xen HVM platform has no PIT, as Xen's PVH has none; but its counter
 * ports 0x40..0x42 read 0, not 0xff. Linux's quick PIT calibration waits
 * for a counter's high byte to leave 0xff and would spin through 50,000
 * reads (each an exit) before giving up; with 0 it gives up at once and
 * takes the TSC rate from pvclock, as on Xen. Writes are dropped. Both are
 * logged once a port, as for any port nothing serves. A platform with a
 * real i8254 registers that instead.
 */
#include "dev/platform_devs.h"
#include "vmm.h"

#define PIT_COUNTER0 0x40
#define PIT_COUNTERS 3

static void pit_absent(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                       bool is_write)
{
    (void)opaque;
    vcpu_io_unserved(v, (uint16_t)(PIT_COUNTER0 + off), data, len, is_write, 0);
}

int pit_absent_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, PIT_COUNTER0, PIT_COUNTERS, pit_absent, NULL, "pit-absent");
}

/*
 * The debug console port 0xE9 (Bochs's and QEMU's debugcon): each byte
 * written goes to the domain's console destination, as console_io's do.
 * Reads find nothing there.
 */
#include "dev/platform_devs.h"
#include "vmm.h"

static void debugcon(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                     bool is_write)
{
    struct vm *vm = opaque;
    if (!is_write) {
        vcpu_io_unserved(v, (uint16_t)(TANDEM_DEBUG_PORT + off), data, len, false, 0xff);
        return;
    }
    console_write(vm, data, len);
}

int debugcon_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, TANDEM_DEBUG_PORT, 1, debugcon, vm, "debugcon");
}

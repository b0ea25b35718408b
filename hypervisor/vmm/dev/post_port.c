/*
 * Port 0x80: POST codes, the I/O delay of `outb %al, $0x80`, and in plain
 * mode under PVM the interrupt-window exit. Writes are taken and dropped
 * without a word; reads find nothing there.
 */
#include "dev/platform_devs.h"
#include "vmm.h"

#define POST_PORT 0x80

static void post_port(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                      bool is_write)
{
    (void)opaque;
    if (!is_write)
        vcpu_io_unserved(v, (uint16_t)(POST_PORT + off), data, len, false, 0xff);
}

int post_port_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, POST_PORT, 1, post_port, NULL, "post-port");
}

/*
 * Tandem's hypercall port (docs/abi.md): a 32-bit `out` of the hypercall
 * number to port 0xB0, the arguments in rdi, rsi, rdx, r10, r8, the result
 * in rax. The hypercall page at 0xFC000000 holds one such `out` per
 * hypercall. Any other access (a read, another size, a `rep`) is not a
 * hypercall: nothing there.
 */
#include <string.h>

#include "dev/platform_devs.h"
#include "vmm.h"

static void hypercall_port(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                           bool is_write)
{
    (void)opaque;
    /* a hypercall reads its arguments from the registers, once: a `rep out`
     * here is refused whole, not made count times */
    if (!v || !is_write || off != 0 || len != 4 || v->run->io.count != 1) {
        vcpu_io_unserved(v, (uint16_t)(TANDEM_HYPERCALL_PORT + off), data, len, is_write, 0xff);
        return;
    }
    uint32_t nr;
    memcpy(&nr, data, sizeof(nr));
    vcpu_hypercall(v, nr);
}

int hypercall_port_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, TANDEM_HYPERCALL_PORT, 4, hypercall_port, NULL,
                        "hypercall-port");
}

/*
 * Tandem's event-channel doorbell (docs/abi.md): a 32-bit `out` of a local
 * port number to port 0xB4 is EVTCHNOP_send on it. A port that a dom0
 * service or a VMM service holds never gets here: its KVM ioeventfd (with
 * the port as datamatch, loop.c's kvm_ioeventfd) takes the write in the
 * kernel. A `rep outsl` sends each port in turn.
 */
#include <string.h>

#include "dev/platform_devs.h"
#include "vmm.h"

static void doorbell(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                     bool is_write)
{
    (void)opaque;
    if (!v || !is_write || off != 0 || len != 4) {
        vcpu_io_unserved(v, (uint16_t)(TANDEM_DOORBELL_PORT + off), data, len, is_write, 0xff);
        return;
    }
    uint32_t port;
    memcpy(&port, data, sizeof(port));
    v->doorbells++;
    evtchn_send(v, port);
}

int doorbell_init(struct vm *vm)
{
    return dev_register(vm, IOBUS_PIO, TANDEM_DOORBELL_PORT, 4, doorbell, NULL, "doorbell");
}

/*
 * The i8042 keyboard controller (docs/hvm.md "Emulated devices"): data port
 * 0x60, status/command port 0x64, a keyboard that answers its commands but
 * never types, no aux (mouse) device. What firmware and kernels need from
 * it: probing, the self-tests, the command byte, the output port with the
 * A20 gate, and the reset pulse.
 */
#ifndef TANDEM_VMM_DEV_I8042_H
#define TANDEM_VMM_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

struct iobus;
struct vcpu;

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_KBD_IRQ   1
#define I8042_AUX_IRQ   12

#define I8042_STR_OBF     0x01
#define I8042_STR_IBF     0x02
#define I8042_STR_SYS     0x04
#define I8042_STR_CMD     0x08   /* the last write was to 0x64 */
#define I8042_STR_UNLOCK  0x10   /* keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20

#define I8042_CTR_KBDINT  0x01
#define I8042_CTR_AUXINT  0x02
#define I8042_CTR_SYS     0x04
#define I8042_CTR_KBDDIS  0x10
#define I8042_CTR_AUXDIS  0x20
#define I8042_CTR_XLATE   0x40

#define I8042_OUT_RESET   0x01   /* 0 holds the CPU in reset */
#define I8042_OUT_A20     0x02

/* Calls into the VMM, made with no lock of the controller held. */
struct i8042_ops {
    void (*reset)(void *opaque);               /* the guest pulsed the reset line */
    void (*a20)(void *opaque, bool enabled);   /* optional: the A20 gate changed */
    void *opaque;
};

struct i8042;

/* Registers ports 0x60 and 0x64. irq is IRQ 1 (may be NULL). NULL with
 * errno set if a port is taken or memory runs out. */
struct i8042 *i8042_create(struct iobus *bus, const struct irq_line *irq,
                           const struct i8042_ops *ops);
void i8042_destroy(struct i8042 *k);

bool i8042_a20(struct i8042 *k);

/* Bytes from the keyboard (scan codes as the guest's code set has them):
 * queued while the keyboard scans (after 0xf4 or 0xff, not after 0xf5),
 * up to the keyboard's 16-byte buffer; returns how many were taken. */
unsigned i8042_push_key(struct i8042 *k, const uint8_t *codes, unsigned n);

void i8042_data_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write);
void i8042_cmd_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                  bool is_write);

#endif

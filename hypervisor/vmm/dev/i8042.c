/*
 * i8042 keyboard controller (i8042.h; docs/hvm.md "Emulated devices").
 *
 * One output buffer register, refilled from two queues: the controller's
 * own answers first, then the keyboard's (held back while the keyboard
 * interface is disabled). IRQ 1 is high while the buffer is full and the
 * command byte enables it. Every write is taken at once, so the input
 * buffer is never busy (IBF stays 0). The aux port reports nothing
 * attached: its loopback (0xD3) gives no byte back, its interface test
 * (0xA9) says the clock line is stuck high, bytes for the device (0xD4)
 * are dropped, and 0xA7/0xA8 leave the command byte alone — what Linux's
 * i8042 driver takes for "no AUX port".
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/i8042.h"
#include "iobus.h"

#define KBD_QUEUE 16
#define CTL_QUEUE 4

/* Keyboard answers. */
#define KBD_ACK      0xfa
#define KBD_RESEND   0xfe
#define KBD_BAT_OK   0xaa
#define KBD_ECHO     0xee

struct byteq {
    uint8_t b[KBD_QUEUE];
    unsigned head, count, cap;
};

struct i8042 {
    pthread_mutex_t lock;
    struct iobus *bus;
    struct irq_line irq;
    bool has_irq, irq_level;
    struct i8042_ops ops;

    uint8_t ram[32];                   /* ram[0] is the command byte */
    bool sys;                          /* status SYS: self-test passed */
    bool last_was_cmd;
    uint8_t outport;
    uint8_t obuf;
    bool obuf_full;
    struct byteq ctlq, kbdq;
    uint8_t ctl_pending;               /* a controller command waiting for its data byte */

    /* The keyboard. */
    uint8_t kbd_pending;               /* 0xed, 0xf0, 0xf3: waiting for the argument */
    uint8_t kbd_last;                  /* for 0xfe, resend */
    uint8_t leds, scancode_set;
    bool scanning;
};

static void q_push(struct byteq *q, uint8_t b)
{
    if (q->count < q->cap)             /* a full queue drops, like an overrun */
        q->b[(q->head + q->count++) % q->cap] = b;
}

static bool q_pop(struct byteq *q, uint8_t *b)
{
    if (!q->count)
        return false;
    *b = q->b[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

static void q_clear(struct byteq *q)
{
    q->head = q->count = 0;
}

static void refill(struct i8042 *k)
{
    if (k->obuf_full)
        return;
    if (q_pop(&k->ctlq, &k->obuf) ||
        (!(k->ram[0] & I8042_CTR_KBDDIS) && q_pop(&k->kbdq, &k->obuf)))
        k->obuf_full = true;
}

static void update(struct i8042 *k)
{
    refill(k);
    bool level = k->obuf_full && (k->ram[0] & I8042_CTR_KBDINT);
    if (k->has_irq && level != k->irq_level)
        irq_line_set(&k->irq, level);
    k->irq_level = level;
}

static void kbd_send(struct i8042 *k, uint8_t b)
{
    q_push(&k->kbdq, b);
    k->kbd_last = b;
}

static void kbd_defaults(struct i8042 *k)
{
    k->leds = 0;
    k->scancode_set = 2;
}

/* A byte the guest wrote to the keyboard (port 0x60, no controller command
 * waiting). */
static void kbd_write(struct i8042 *k, uint8_t v)
{
    k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;   /* talking to it re-enables the interface */
    uint8_t pending = k->kbd_pending;
    k->kbd_pending = 0;
    if (pending && !(v & 0x80)) {
        switch (pending) {
        case 0xed:
            k->leds = v & 7;
            kbd_send(k, KBD_ACK);
            return;
        case 0xf3:
            kbd_send(k, KBD_ACK);              /* typematic rate: accepted, unused */
            return;
        case 0xf0:
            if (v > 3) {
                kbd_send(k, KBD_RESEND);
                return;
            }
            kbd_send(k, KBD_ACK);
            if (v == 0)
                kbd_send(k, k->scancode_set);
            else
                k->scancode_set = v;
            return;
        }
    }
    switch (v) {
    case 0xff:                                 /* reset and self-test */
        q_clear(&k->kbdq);
        kbd_defaults(k);
        k->scanning = true;
        kbd_send(k, KBD_ACK);
        kbd_send(k, KBD_BAT_OK);
        break;
    case 0xfe:
        q_push(&k->kbdq, k->kbd_last);
        break;
    case 0xf6:                                 /* defaults */
        kbd_defaults(k);
        kbd_send(k, KBD_ACK);
        break;
    case 0xf5:                                 /* defaults, scanning off */
        kbd_defaults(k);
        k->scanning = false;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf4:
        k->scanning = true;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf2:                                 /* identify: an MF2 keyboard */
        kbd_send(k, KBD_ACK);
        kbd_send(k, 0xab);
        kbd_send(k, (k->ram[0] & I8042_CTR_XLATE) ? 0x41 : 0x83);
        break;
    case 0xee:
        kbd_send(k, KBD_ECHO);
        break;
    case 0xed:
    case 0xf0:
    case 0xf3:
        k->kbd_pending = v;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        kbd_send(k, KBD_ACK);                  /* scan set 3 key types: accepted */
        break;
    default:
        kbd_send(k, KBD_RESEND);
        break;
    }
}

/* What the VMM must do once the lock is dropped. */
struct effects {
    bool reset, a20_changed, a20;
};

static void set_outport(struct i8042 *k, uint8_t v, struct effects *fx)
{
    if ((v ^ k->outport) & I8042_OUT_A20) {
        fx->a20_changed = true;
        fx->a20 = v & I8042_OUT_A20;
    }
    k->outport = v;
    if (!(v & I8042_OUT_RESET)) {
        fx->reset = true;
        k->outport |= I8042_OUT_RESET;         /* the reset line comes back up */
    }
}

static void ctl_data(struct i8042 *k, uint8_t cmd, uint8_t v, struct effects *fx)
{
    if (cmd >= 0x60 && cmd <= 0x7f) {
        k->ram[cmd & 0x1f] = v;
        if (cmd == 0x60)
            k->sys = v & I8042_CTR_SYS;
        return;
    }
    switch (cmd) {
    case 0xd1:
        set_outport(k, v, fx);
        break;
    case 0xd2:                                 /* as if the keyboard sent it */
        q_push(&k->ctlq, v);
        break;
    default:                                   /* 0xd3, 0xd4: no aux device */
        break;
    }
}

static uint8_t ctr_value(const struct i8042 *k)
{
    return (uint8_t)((k->ram[0] & ~I8042_CTR_SYS) | (k->sys ? I8042_CTR_SYS : 0));
}

static void ctl_command(struct i8042 *k, uint8_t cmd, struct effects *fx)
{
    if (cmd >= 0x20 && cmd <= 0x3f) {
        q_push(&k->ctlq, cmd == 0x20 ? ctr_value(k) : k->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || cmd == 0xd1 || cmd == 0xd2 || cmd == 0xd3 ||
        cmd == 0xd4) {
        k->ctl_pending = cmd;
        return;
    }
    if (cmd >= 0xf0) {                         /* pulse the output port's low bits */
        if (!(cmd & I8042_OUT_RESET))
            fx->reset = true;
        return;
    }
    switch (cmd) {
    case 0xa9:                                 /* aux interface test: nothing there */
        q_push(&k->ctlq, 0x02);
        break;
    case 0xaa:                                 /* controller self-test */
        k->sys = true;
        q_push(&k->ctlq, 0x55);
        break;
    case 0xab:                                 /* keyboard interface test: fine */
        q_push(&k->ctlq, 0x00);
        break;
    case 0xad:
        k->ram[0] |= I8042_CTR_KBDDIS;
        break;
    case 0xae:
        k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
        break;
    case 0xc0:                                 /* input port: keyboard not inhibited */
        q_push(&k->ctlq, 0x80);
        break;
    case 0xd0:
        q_push(&k->ctlq, (uint8_t)(k->outport | (k->obuf_full ? 0x10 : 0)));
        break;
    case 0xdd:
        set_outport(k, k->outport & (uint8_t)~I8042_OUT_A20, fx);
        break;
    case 0xdf:
        set_outport(k, k->outport | I8042_OUT_A20, fx);
        break;
    case 0xe0:                                 /* test inputs */
        q_push(&k->ctlq, 0x00);
        break;
    default:                                   /* 0xa7/0xa8 (no aux) and the rest */
        break;
    }
}

static void run_effects(struct i8042 *k, const struct effects *fx)
{
    if (fx->a20_changed && k->ops.a20)
        k->ops.a20(k->ops.opaque, fx->a20);
    if (fx->reset && k->ops.reset)
        k->ops.reset(k->ops.opaque);
}

static void data_port(struct i8042 *k, uint8_t *b, bool is_write, struct effects *fx)
{
    if (is_write) {
        k->last_was_cmd = false;
        uint8_t cmd = k->ctl_pending;
        k->ctl_pending = 0;
        if (cmd)
            ctl_data(k, cmd, *b, fx);
        else
            kbd_write(k, *b);
    } else {
        *b = k->obuf;                          /* an empty buffer reads its last byte */
        k->obuf_full = false;
    }
}

static void cmd_port(struct i8042 *k, uint8_t *b, bool is_write, struct effects *fx)
{
    if (is_write) {
        k->last_was_cmd = true;
        k->ctl_pending = 0;
        ctl_command(k, *b, fx);
    } else {
        *b = (uint8_t)((k->obuf_full ? I8042_STR_OBF : 0) | (k->sys ? I8042_STR_SYS : 0) |
                       (k->last_was_cmd ? I8042_STR_CMD : 0) | I8042_STR_UNLOCK);
    }
}

/* Both ports are one byte wide; the VMM's callbacks run unlocked. */
static void port_io(struct i8042 *k, void (*port)(struct i8042 *, uint8_t *, bool, struct effects *),
                    uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
    struct effects fx = { 0 };
    if (off != 0 || len != 1)
        return;
    pthread_mutex_lock(&k->lock);
    port(k, data, is_write, &fx);
    update(k);
    pthread_mutex_unlock(&k->lock);
    run_effects(k, &fx);
}

void i8042_data_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    (void)v;
    port_io(opaque, data_port, off, data, len, is_write);
}

void i8042_cmd_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                  bool is_write)
{
    (void)v;
    port_io(opaque, cmd_port, off, data, len, is_write);
}

bool i8042_a20(struct i8042 *k)
{
    pthread_mutex_lock(&k->lock);
    bool on = k->outport & I8042_OUT_A20;
    pthread_mutex_unlock(&k->lock);
    return on;
}

unsigned i8042_push_key(struct i8042 *k, const uint8_t *codes, unsigned n)
{
    pthread_mutex_lock(&k->lock);
    unsigned taken = 0;
    if (k->scanning)
        for (; taken < n && k->kbdq.count < k->kbdq.cap; taken++)
            q_push(&k->kbdq, codes[taken]);
    update(k);
    pthread_mutex_unlock(&k->lock);
    return taken;
}

struct i8042 *i8042_create(struct iobus *bus, const struct irq_line *irq,
                           const struct i8042_ops *ops)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    pthread_mutex_init(&k->lock, NULL);
    k->bus = bus;
    if (irq) {
        k->irq = *irq;
        k->has_irq = true;
    }
    if (ops)
        k->ops = *ops;
    k->ctlq.cap = CTL_QUEUE;
    k->kbdq.cap = KBD_QUEUE;
    k->ram[0] = I8042_CTR_KBDINT | I8042_CTR_XLATE;
    k->outport = I8042_OUT_RESET | I8042_OUT_A20;
    k->scanning = true;
    kbd_defaults(k);
    struct iobus_range data = {
        .space = IOBUS_PIO, .base = I8042_DATA_PORT, .len = 1,
        .fn = i8042_data_io, .opaque = k, .name = "i8042",
    };
    struct iobus_range cmd = data;
    cmd.base = I8042_CMD_PORT;
    cmd.fn = i8042_cmd_io;
    if (iobus_register(bus, &data) < 0)
        goto fail;
    if (iobus_register(bus, &cmd) < 0) {
        int e = errno;
        iobus_unregister(bus, IOBUS_PIO, I8042_DATA_PORT);
        errno = e;
        goto fail;
    }
    return k;
fail:;
    int e = errno;
    pthread_mutex_destroy(&k->lock);
    free(k);
    errno = e;
    return NULL;
}

void i8042_destroy(struct i8042 *k)
{
    if (!k)
        return;
    iobus_unregister(k->bus, IOBUS_PIO, I8042_CMD_PORT);
    iobus_unregister(k->bus, IOBUS_PIO, I8042_DATA_PORT);
    if (k->has_irq && k->irq_level)
        irq_line_set(&k->irq, false);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

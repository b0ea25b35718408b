/*
 * 16550A UART (uart.h; docs/hvm.md "Emulated devices").
 *
 * The interrupt identification follows the 16550A's priorities: receiver
 * line status (an overrun), received data (at the FIFO's trigger level, or
 * a character timeout when fewer bytes wait: reported at once, not after
 * four character times), transmitter empty, modem status. On a PC the
 * UART's interrupt reaches the ISA IRQ through OUT2, which loopback forces
 * inactive: the line is high only while an interrupt is pending, MCR.OUT2
 * is set and MCR.LOOP is not.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/uart.h"
#include "iobus.h"

#define UART_NR_REGS 8
/* What a console on the other end of the cable shows: clear to send, data
 * set ready, carrier detect. */
#define UART_MSR_CONNECTED (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

struct uart {
    pthread_mutex_t lock;
    struct iobus *bus;
    uint16_t base;
    struct irq_line irq;
    bool has_irq, irq_level;
    struct uart_ops ops;

    uint8_t dll, dlm, ier, fcr, lcr, mcr, scr;
    uint8_t lsr_err;           /* UART_LSR_OE, cleared by reading LSR */
    uint8_t msr;               /* status bits (7:4) and deltas (3:0) */
    bool thr_ipending;         /* the transmitter-empty interrupt */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
};

static bool fifo_on(const struct uart *u)
{
    return u->fcr & UART_FCR_ENABLE;
}

static unsigned rx_limit(const struct uart *u)
{
    return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
    static const unsigned levels[4] = { 1, 4, 8, 14 };
    return fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

static uint8_t pending_id(const struct uart *u)
{
    if ((u->ier & UART_IER_RLSI) && u->lsr_err)
        return UART_IIR_RLSI;
    if ((u->ier & UART_IER_RDI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? UART_IIR_RDI : UART_IIR_CTI;
    if ((u->ier & UART_IER_THRI) && u->thr_ipending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
    bool level = pending_id(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2) &&
                 !(u->mcr & UART_MCR_LOOP);
    if (u->has_irq && level != u->irq_level)
        irq_line_set(&u->irq, level);
    u->irq_level = level;
}

/* Appends a byte to the receive FIFO; a full FIFO drops it and flags an
 * overrun (only loopback gets here with a full FIFO: console input is
 * refused instead). */
static void rx_put(struct uart *u, uint8_t b)
{
    if (u->rx_count >= rx_limit(u)) {
        u->lsr_err |= UART_LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
    u->rx_count++;
}

static uint8_t rx_get(struct uart *u)
{
    if (!u->rx_count)
        return 0;
    bool was_full = u->rx_count >= rx_limit(u);
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    u->rx_count--;
    if (was_full && !(u->mcr & UART_MCR_LOOP) && u->ops.rx_room)
        u->ops.rx_room(u->ops.opaque);
    return b;
}

static void rx_clear(struct uart *u)
{
    u->rx_head = u->rx_count = 0;
}

/* MSR's status bits from MCR (loopback) or from the console; the deltas
 * accumulate until MSR is read. */
static void set_modem_status(struct uart *u)
{
    uint8_t st;
    if (u->mcr & UART_MCR_LOOP)
        st = (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
             (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
             (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
             (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
    else
        st = UART_MSR_CONNECTED;
    uint8_t old = u->msr & 0xf0, changed = old ^ st;
    uint8_t delta = (changed & UART_MSR_CTS ? UART_MSR_DCTS : 0) |
                    (changed & UART_MSR_DSR ? UART_MSR_DDSR : 0) |
                    ((old & UART_MSR_RI) && !(st & UART_MSR_RI) ? UART_MSR_TERI : 0) |
                    (changed & UART_MSR_DCD ? UART_MSR_DDCD : 0);
    u->msr = st | (u->msr & 0x0f) | delta;
}

static uint8_t reg_read(struct uart *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t v;
    switch (reg) {
    case UART_RBR:
        return dlab ? u->dll : rx_get(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR:
        v = pending_id(u);
        if (v == UART_IIR_THRI)
            u->thr_ipending = false;
        return v | (fifo_on(u) ? UART_IIR_FIFO : 0);
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        v = (u->rx_count ? UART_LSR_DR : 0) | u->lsr_err | UART_LSR_THRE | UART_LSR_TEMT;
        u->lsr_err = 0;
        return v;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xf0;
        return v;
    default:
        return u->scr;
    }
}

static void reg_write(struct uart *u, unsigned reg, uint8_t val)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_THR:
        if (dlab) {
            u->dll = val;
            break;
        }
        if (u->mcr & UART_MCR_LOOP)
            rx_put(u, val);
        else if (u->ops.tx)
            u->ops.tx(u->ops.opaque, val);
        u->thr_ipending = true;        /* sent at once: THR is empty again */
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = val;
            break;
        }
        /* Enabling the transmitter interrupt with THR empty raises it. */
        if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
            u->thr_ipending = true;
        u->ier = val & 0x0f;
        break;
    case UART_FCR:
        if ((val ^ u->fcr) & UART_FCR_ENABLE)
            rx_clear(u);               /* switching the FIFOs on or off empties them */
        if (val & UART_FCR_CLR_RX)
            rx_clear(u);
        u->fcr = val & (UART_FCR_ENABLE | 0xc0);
        if (!fifo_on(u))
            u->fcr = 0;
        break;
    case UART_LCR:
        u->lcr = val;
        break;
    case UART_MCR:
        u->mcr = val & 0x1f;
        set_modem_status(u);
        break;
    case UART_LSR:
    case UART_MSR:
        break;                         /* factory test registers: ignored */
    default:
        u->scr = val;
        break;
    }
}

void uart_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
             bool is_write)
{
    (void)v;
    struct uart *u = opaque;
    pthread_mutex_lock(&u->lock);
    /* The registers are bytes; a wider access covers consecutive ones. */
    for (uint32_t i = 0; i < len && off + i < UART_NR_REGS; i++) {
        if (is_write)
            reg_write(u, (unsigned)(off + i), data[i]);
        else
            data[i] = reg_read(u, (unsigned)(off + i));
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
}

size_t uart_rx_room(struct uart *u)
{
    pthread_mutex_lock(&u->lock);
    size_t room = (u->mcr & UART_MCR_LOOP) ? 0 : rx_limit(u) - u->rx_count;
    pthread_mutex_unlock(&u->lock);
    return room;
}

size_t uart_push_input(struct uart *u, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&u->lock);
    size_t n = 0;
    if (!(u->mcr & UART_MCR_LOOP))
        while (n < len && u->rx_count < rx_limit(u))
            rx_put(u, buf[n++]);
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return n;
}

struct uart *uart_create(struct iobus *bus, uint16_t base, const struct irq_line *irq,
                         const struct uart_ops *ops)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    pthread_mutex_init(&u->lock, NULL);
    u->bus = bus;
    u->base = base;
    if (irq) {
        u->irq = *irq;
        u->has_irq = true;
    }
    if (ops)
        u->ops = *ops;
    u->dll = 12;                       /* 9600 baud from 1.8432 MHz */
    u->msr = UART_MSR_CONNECTED;
    struct iobus_range r = {
        .space = IOBUS_PIO, .base = base, .len = UART_NR_REGS,
        .fn = uart_io, .opaque = u, .name = "uart16550a",
    };
    if (iobus_register(bus, &r) < 0) {
        int e = errno;
        pthread_mutex_destroy(&u->lock);
        free(u);
        errno = e;
        return NULL;
    }
    return u;
}

void uart_destroy(struct uart *u)
{
    if (!u)
        return;
    iobus_unregister(u->bus, IOBUS_PIO, u->base);
    if (u->has_irq && u->irq_level)
        irq_line_set(&u->irq, false);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

/*
 * A 16550A UART (docs/hvm.md "Emulated devices"): eight registers at a
 * port base, 16-byte receive FIFO, interrupts on an irq_line. Transmission
 * is immediate: a byte written to THR goes to the sink at once (or, in
 * loopback, into the receive FIFO), so the transmitter is always empty.
 */
#ifndef TANDEM_VMM_DEV_UART_H
#define TANDEM_VMM_DEV_UART_H

#include <stddef.h>
#include <stdint.h>

#include "dev/irq.h"

struct iobus;
struct vcpu;

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_FIFO_SIZE 16

/* Registers (offsets from the base). */
#define UART_RBR 0      /* read, DLAB 0: receive buffer */
#define UART_THR 0      /* write, DLAB 0: transmit holding */
#define UART_DLL 0      /* DLAB 1: divisor latch, low */
#define UART_IER 1      /* DLAB 0 */
#define UART_DLM 1      /* DLAB 1: divisor latch, high */
#define UART_IIR 2      /* read */
#define UART_FCR 2      /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI  0x08

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c
#define UART_IIR_FIFO   0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLR_RX 0x02
#define UART_FCR_CLR_TX 0x04

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

/* The console side. Both are called with the UART's lock held: they must
 * not call back into this UART. */
struct uart_ops {
    void (*tx)(void *opaque, uint8_t byte);   /* a byte the guest sent */
    void (*rx_room)(void *opaque);            /* optional: the guest read from a full
                                                 receive FIFO; push more input */
    void *opaque;
};

struct uart;

/* Registers ports [base, base + 8) on bus. irq may be NULL (polled only).
 * NULL with errno set if the ports are taken or memory runs out. */
struct uart *uart_create(struct iobus *bus, uint16_t base, const struct irq_line *irq,
                         const struct uart_ops *ops);
/* Unregisters the ports and frees the UART (NULL is ignored). */
void uart_destroy(struct uart *u);

/* Console input: queues up to len bytes in the receive FIFO (16 bytes, or
 * 1 with the FIFO off) and returns how many it took; 0 when the FIFO is
 * full or the UART is in loopback (its receiver is then cut off). */
size_t uart_push_input(struct uart *u, const uint8_t *buf, size_t len);
/* How many bytes uart_push_input would take now. */
size_t uart_rx_room(struct uart *u);

/* The register handler (an iobus_fn), for tests and for callers without a
 * bus. */
void uart_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
             bool is_write);

#endif

/* Check suite for the 16550A model (hypervisor/vmm/dev/uart.c): its
 * registers, FIFOs, interrupts and loopback, through a fake I/O bus. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "dev/uart.h"
#include "iobus_fake.h"

#define B UART_COM1_BASE

static struct iobus *bus;
static struct uart *u;
static char sent[64];
static unsigned nsent, room_calls;

static void tx(void *opaque, uint8_t b)
{
    (void)opaque;
    if (nsent < sizeof(sent) - 1)
        sent[nsent++] = (char)b;
}

static void rx_room(void *opaque)
{
    (void)opaque;
    room_calls++;
}

static struct fake_irq fi;
static struct irq_line irq;
static const struct uart_ops ops = { .tx = tx, .rx_room = rx_room };

static void setup(void)
{
    memset(sent, 0, sizeof(sent));
    nsent = room_calls = 0;
    irq = fake_irq_line(&fi, UART_COM1_IRQ);
    bus = iobus_new();
    u = uart_create(bus, B, &irq, &ops);
    ck_assert_ptr_nonnull(u);
}

static void teardown(void)
{
    uart_destroy(u);
    iobus_free(bus);
}

static uint8_t rd(unsigned reg) { return fake_inb(bus, B + reg); }
static void wr(unsigned reg, uint8_t v) { fake_outb(bus, B + reg, v); }

static size_t push(const char *s)
{
    return uart_push_input(u, (const uint8_t *)s, strlen(s));
}

START_TEST(ports_registered)
{
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 1);
    ck_assert_ptr_null(uart_create(bus, B + 4, &irq, &ops));
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_uint_eq(fake_inb(bus, B + 8), 0xff);         /* not ours */
    uart_destroy(u);
    ck_assert_uint_eq(iobus_fake_count(bus, IOBUS_PIO), 0);
    u = uart_create(bus, B, NULL, NULL);                    /* no irq, no sink */
    ck_assert_ptr_nonnull(u);
    wr(UART_THR, 'x');
    ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}
END_TEST

START_TEST(reset_values)
{
    ck_assert_uint_eq(rd(UART_IER), 0);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    ck_assert_uint_eq(rd(UART_LCR), 0);
    ck_assert_uint_eq(rd(UART_MCR), 0);
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    wr(UART_SCR, 0x5a);
    ck_assert_uint_eq(rd(UART_SCR), 0x5a);
    wr(UART_LSR, 0);                                        /* ignored */
    ck_assert_uint_eq(rd(UART_LSR), 0x60);
    wr(UART_IER, 0xff);                                     /* 4 bits exist */
    ck_assert_uint_eq(rd(UART_IER), 0x0f);
    wr(UART_MCR, 0xff);
    ck_assert_uint_eq(rd(UART_MCR), 0x1f);
    ck_assert(!fi.level);                                  /* loopback gates the line */
}
END_TEST

START_TEST(divisor_latch)
{
    wr(UART_IER, UART_IER_RDI);
    wr(UART_LCR, UART_LCR_DLAB | 0x03);
    ck_assert_uint_eq(rd(UART_DLL), 12);                    /* 9600 baud */
    ck_assert_uint_eq(rd(UART_DLM), 0);
    wr(UART_DLL, 1);
    wr(UART_DLM, 0x02);
    ck_assert_uint_eq(rd(UART_DLL), 1);
    ck_assert_uint_eq(rd(UART_DLM), 0x02);
    ck_assert_uint_eq(nsent, 0);                            /* DLL is not THR */
    wr(UART_LCR, 0x03);
    ck_assert_uint_eq(rd(UART_LCR), 0x03);
    ck_assert_uint_eq(rd(UART_IER), UART_IER_RDI);          /* IER kept apart from DLM */
    wr(UART_LCR, UART_LCR_DLAB);
    ck_assert_uint_eq(rd(UART_DLL), 1);
}
END_TEST

START_TEST(transmit)
{
    wr(UART_THR, 'h');
    wr(UART_THR, 'i');
    ck_assert_str_eq(sent, "hi");
    ck_assert_uint_eq(rd(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
                      UART_LSR_THRE | UART_LSR_TEMT);
    /* A 2-byte out covers THR and IER. */
    fake_out(bus, B, 2, 0x0100 | '!');
    ck_assert_str_eq(sent, "hi!");
    ck_assert_uint_eq(rd(UART_IER), 0x01);
}
END_TEST

START_TEST(receive_no_fifo)
{
    ck_assert_uint_eq(uart_rx_room(u), 1);
    ck_assert_uint_eq(push("abc"), 1);                      /* the holding register only */
    ck_assert_uint_eq(uart_rx_room(u), 0);
    ck_assert_uint_eq(push("b"), 0);
    ck_assert_uint_eq(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE), UART_LSR_DR);
    ck_assert_uint_eq(rd(UART_RBR), 'a');
    ck_assert_uint_eq(room_calls, 1);                       /* told: room again */
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    ck_assert_uint_eq(rd(UART_RBR), 0);                     /* empty */
    ck_assert_uint_eq(room_calls, 1);
}
END_TEST

START_TEST(receive_fifo)
{
    wr(UART_FCR, UART_FCR_ENABLE);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    ck_assert_uint_eq(push("0123456789abcdefXYZ"), UART_FIFO_SIZE);
    ck_assert_uint_eq(uart_rx_room(u), 0);
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_OE, 0);       /* refused, not overrun */
    for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
        ck_assert_uint_eq(rd(UART_RBR), (uint8_t)"0123456789abcdef"[i]);
    ck_assert_uint_eq(room_calls, 1);
    ck_assert_uint_eq(uart_rx_room(u), UART_FIFO_SIZE);
    /* The wrap-around of the ring, and a clear. */
    ck_assert_uint_eq(push("XYZ"), 3);
    ck_assert_uint_eq(rd(UART_RBR), 'X');
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLR_RX);
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    /* Turning the FIFO off empties it and brings the limit back to 1. */
    ck_assert_uint_eq(push("pq"), 2);
    wr(UART_FCR, 0);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    ck_assert_uint_eq(uart_rx_room(u), 1);
}
END_TEST

START_TEST(rx_interrupt)
{
    wr(UART_IER, UART_IER_RDI);
    ck_assert_uint_eq(push("a"), 1);
    ck_assert(!fi.level);                                  /* OUT2 off: no IRQ */
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(UART_RBR), 'a');
    ck_assert(!fi.level);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);

    /* Trigger level 4: fewer bytes are a character timeout. */
    wr(UART_FCR, UART_FCR_ENABLE | 0x40);
    ck_assert_uint_eq(push("ab"), 2);
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
    ck_assert_uint_eq(push("cd"), 2);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
    for (int i = 0; i < 4; i++)
        rd(UART_RBR);
    ck_assert(!fi.level);
    /* Trigger level 14. */
    wr(UART_FCR, UART_FCR_ENABLE | 0xc0);
    ck_assert_uint_eq(push("0123456789abc"), 13);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_CTI);
    ck_assert_uint_eq(push("d"), 1);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
    wr(UART_IER, 0);
    ck_assert(!fi.level);
}
END_TEST

START_TEST(thre_interrupt)
{
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_THRI);                            /* THR is empty: raised */
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);         /* reading IIR clears it */
    ck_assert(!fi.level);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    wr(UART_THR, 'z');                                      /* sent: empty again */
    ck_assert(fi.level);
    ck_assert_str_eq(sent, "z");
    /* Received data outranks it. */
    wr(UART_IER, UART_IER_THRI | UART_IER_RDI);
    push("q");
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
    rd(UART_RBR);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    ck_assert(!fi.level);
}
END_TEST

START_TEST(loopback)
{
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DCD | UART_MSR_DDSR);
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DCD);  /* deltas read once */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCTS |
                                    UART_MSR_DDSR | UART_MSR_DDCD);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);               /* RI falls: TERI */
    ck_assert_uint_eq(rd(UART_MSR), UART_MSR_DSR | UART_MSR_TERI);

    ck_assert_uint_eq(uart_rx_room(u), 0);                  /* cut off from the console */
    ck_assert_uint_eq(push("x"), 0);
    wr(UART_THR, 'L');
    ck_assert_uint_eq(nsent, 0);
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    ck_assert_uint_eq(rd(UART_RBR), 'L');
    ck_assert_uint_eq(room_calls, 0);                       /* the console is not told */

    /* A second byte into a full holding register is an overrun. */
    wr(UART_IER, UART_IER_RLSI | UART_IER_RDI);
    wr(UART_THR, '1');
    wr(UART_THR, '2');
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RLSI);
    ck_assert_uint_eq(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_OE, 0);       /* cleared by the read */
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
    ck_assert_uint_eq(rd(UART_RBR), '1');
    ck_assert_uint_eq(fi.changes, 0);                      /* loopback: line held low */

    /* Leaving loopback restores the console's modem lines. */
    wr(UART_MCR, 0);
    ck_assert_uint_eq(rd(UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    ck_assert_uint_eq(push("y"), 1);
}
END_TEST

START_TEST(modem_status_interrupt)
{
    wr(UART_IER, UART_IER_MSI);
    wr(UART_MCR, UART_MCR_OUT2);
    ck_assert(!fi.level);                                  /* no delta yet */
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);            /* CTS/DSR fall */
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_MSI);
    ck_assert(!fi.level);
    rd(UART_MSR);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
    wr(UART_MCR, UART_MCR_OUT2);                            /* back: deltas, line up */
    ck_assert(fi.level);
    ck_assert_uint_eq(rd(UART_IIR), UART_IIR_MSI);
    rd(UART_MSR);
    ck_assert(!fi.level);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_dev_uart");
    TCase *tc = tcase_create("uart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ports_registered);
    tcase_add_test(tc, reset_values);
    tcase_add_test(tc, divisor_latch);
    tcase_add_test(tc, transmit);
    tcase_add_test(tc, receive_no_fifo);
    tcase_add_test(tc, receive_fifo);
    tcase_add_test(tc, rx_interrupt);
    tcase_add_test(tc, thre_interrupt);
    tcase_add_test(tc, loopback);
    tcase_add_test(tc, modem_status_interrupt);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

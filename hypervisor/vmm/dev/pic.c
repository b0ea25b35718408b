/*
 * i8259A pair (docs/hvm.md "Interrupt controllers"). Behaviour from Intel's
 * 8259A datasheet (ICW1-4, OCW1-3, priority rotation, poll, special mask)
 * and the PIIX3 datasheet (ELCR1/ELCR2 at 0x4d0/0x4d1).
 *
 * Each chip keeps IRR, ISR and IMR. An input in edge mode sets its IRR bit
 * on a rising edge (the chip remembers the input's level to see edges);
 * in level mode the IRR bit follows the input. The slave's INT output is
 * the master's IR2 input, recomputed after every change.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/pic.h"
#include "dev/ranges.h"

#define PIC_CASCADE_IRQ 2
/* ELCR bits that the PIIX3 reserves (IRQ 0, 1, 2, 8, 13 are edge only). */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE  0xde

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;             /* input levels (edge detection, level mode) */
    uint8_t elcr, elcr_mask;
    uint8_t vector_base;       /* ICW2, bits 7-3 */
    uint8_t lowest;            /* priority rotation: IR(lowest+1) is highest */
    uint8_t init_step;         /* 0 ready; 2, 3, 4: the next ICW expected */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_on_aeoi, sfnm;
    bool read_isr, poll, special_mask;
    struct pic *pic;
};

struct pic {
    pthread_mutex_t lock;
    struct pic_chip chip[2];
    struct irq_line intr;
    bool intr_level;
    struct iobus *bus;
    struct iobus_range ranges[3];
};

static uint8_t level_mode(const struct pic_chip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Priority of the highest-priority bit in mask, 0 (highest) to 7, or 8. */
static int priority_of(const struct pic_chip *c, uint8_t mask)
{
    for (int p = 0; p < 8; p++)
        if (mask & (1u << ((c->lowest + 1 + p) & 7)))
            return p;
    return 8;
}

static int irq_of_priority(const struct pic_chip *c, int p)
{
    return (c->lowest + 1 + p) & 7;
}

/* The IR to raise INT for, or -1: a request above everything in service
 * (special mask mode ignores masked in-service bits; special fully nested
 * mode lets the slave interrupt its own cascade). */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
    int req = priority_of(c, c->irr & ~c->imr);
    if (req == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    if (is_master && c->sfnm)
        in_service &= ~(1u << PIC_CASCADE_IRQ);
    return req < priority_of(c, in_service) ? irq_of_priority(c, req) : -1;
}

static void chip_input(struct pic_chip *c, int irq, bool level)
{
    uint8_t bit = 1u << irq;
    bool was = c->lines & bit;
    c->lines = level ? c->lines | bit : c->lines & ~bit;
    if (level_mode(c) & bit)
        c->irr = level ? c->irr | bit : c->irr & ~bit;
    else if (level && !was)
        c->irr |= bit;
}

/* Re-derives the cascade input and INTR; tells the vCPU side on a change. */
static void update(struct pic *pic)
{
    chip_input(&pic->chip[0], PIC_CASCADE_IRQ, chip_pending(&pic->chip[1], false) >= 0);
    bool level = chip_pending(&pic->chip[0], true) >= 0;
    if (level != pic->intr_level) {
        pic->intr_level = level;
        irq_line_set(&pic->intr, level);
    }
}

static void chip_reset_state(struct pic_chip *c)
{
    uint8_t keep_lines = c->lines, elcr = c->elcr, mask = c->elcr_mask;
    struct pic *pic = c->pic;
    memset(c, 0, sizeof(*c));
    c->lines = keep_lines;
    c->elcr = elcr;
    c->elcr_mask = mask;
    c->pic = pic;
    c->lowest = 7;
}

/* INTA on one chip: irq goes in service (or not, with auto-EOI). */
static void chip_ack(struct pic_chip *c, int irq)
{
    uint8_t bit = 1u << irq;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->lowest = irq;
    } else {
        c->isr |= bit;
    }
    if (!(level_mode(c) & bit))
        c->irr &= ~bit;
}

int pic_ack(struct pic *pic)
{
    pthread_mutex_lock(&pic->lock);
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    int vector;
    int irq = chip_pending(m, true);
    if (irq < 0) {
        vector = m->vector_base | 7;
    } else {
        chip_ack(m, irq);
        if (irq == PIC_CASCADE_IRQ && !m->single) {
            int sirq = chip_pending(s, false);
            if (sirq < 0) {
                vector = s->vector_base | 7;
            } else {
                chip_ack(s, sirq);
                vector = s->vector_base | sirq;
            }
        } else {
            vector = m->vector_base | irq;
        }
    }
    update(pic);
    pthread_mutex_unlock(&pic->lock);
    return vector;
}

bool pic_intr(struct pic *pic)
{
    pthread_mutex_lock(&pic->lock);
    bool l = pic->intr_level;
    pthread_mutex_unlock(&pic->lock);
    return l;
}

void pic_set_irq(void *opaque, unsigned int irq, bool level)
{
    struct pic *pic = opaque;
    if (irq >= 16)
        return;
    pthread_mutex_lock(&pic->lock);
    chip_input(&pic->chip[irq >> 3], irq & 7, level);
    update(pic);
    pthread_mutex_unlock(&pic->lock);
}

static void icw1(struct pic_chip *c, uint8_t v)
{
    chip_reset_state(c);
    /* The edge sense latch is reset: an input already high must go low and
     * high again. Level-mode inputs keep requesting. */
    c->icw4_needed = v & 0x01;
    c->single = v & 0x02;
    c->ltim = v & 0x08;
    c->irr = c->lines & level_mode(c);
    c->init_step = 2;
}

static void init_word(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xf8;
        c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
        break;
    case 3:                    /* the cascade wiring is fixed: IR2 */
        c->init_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:                    /* bit 0 (8086 mode) assumed; no buffered mode */
        c->auto_eoi = v & 0x02;
        c->sfnm = v & 0x10;
        c->init_step = 0;
        break;
    }
}

static int highest_in_service(const struct pic_chip *c)
{
    int p = priority_of(c, c->isr);
    return p == 8 ? -1 : irq_of_priority(c, p);
}

static void ocw2(struct pic_chip *c, uint8_t v)
{
    int level = v & 7, irq;
    switch (v >> 5) {
    case 1:                    /* non-specific EOI */
    case 5:                    /* rotate on non-specific EOI */
        irq = highest_in_service(c);
        if (irq >= 0) {
            c->isr &= ~(1u << irq);
            if (v >> 5 == 5)
                c->lowest = irq;
        }
        break;
    case 3:                    /* specific EOI */
        c->isr &= ~(1u << level);
        break;
    case 7:                    /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->lowest = level;
        break;
    case 6:                    /* set priority: level becomes the lowest */
        c->lowest = level;
        break;
    case 4:
        c->rotate_on_aeoi = true;
        break;
    case 0:
        c->rotate_on_aeoi = false;
        break;
    }
}

static void ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & 0x04)
        c->poll = true;
    if (v & 0x02)
        c->read_isr = v & 0x01;
    if (v & 0x40)
        c->special_mask = v & 0x20;
}

static void chip_write(struct pic_chip *c, bool odd, uint8_t v)
{
    if (!odd) {
        if (v & 0x10)
            icw1(c, v);
        else if (v & 0x08)
            ocw3(c, v);
        else
            ocw2(c, v);
    } else if (c->init_step) {
        init_word(c, v);
    } else {
        c->imr = v;
    }
}

/* The poll command: the next read is an INTA of this chip alone. */
static uint8_t chip_poll(struct pic *pic, struct pic_chip *c)
{
    c->poll = false;
    int irq = chip_pending(c, c == &pic->chip[0]);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    return 0x80 | irq;
}

static uint8_t chip_read(struct pic *pic, struct pic_chip *c, bool odd)
{
    if (c->poll)
        return chip_poll(pic, c);
    if (odd)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static void pic_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct pic_chip *c = opaque;
    struct pic *pic = c->pic;
    (void)v;
    if (len != 1 || off > 1)
        return;
    pthread_mutex_lock(&pic->lock);
    if (is_write)
        chip_write(c, off, data[0]);
    else
        data[0] = chip_read(pic, c, off);
    update(pic);
    pthread_mutex_unlock(&pic->lock);
}

static void elcr_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    struct pic *pic = opaque;
    (void)v;
    pthread_mutex_lock(&pic->lock);
    for (uint32_t i = 0; i < len && off + i < 2; i++) {
        struct pic_chip *c = &pic->chip[off + i];
        if (!is_write) {
            data[i] = c->elcr;
            continue;
        }
        c->elcr = data[i] & c->elcr_mask;
        /* A pin now in level mode requests while its input is high; one
         * back in edge mode keeps what it latched. */
        c->irr |= c->lines & level_mode(c);
        c->irr &= ~(level_mode(c) & ~c->lines);
    }
    update(pic);
    pthread_mutex_unlock(&pic->lock);
}

struct pic *pic_create(struct iobus *bus, const struct irq_line *intr)
{
    struct pic *pic = calloc(1, sizeof(*pic));
    if (!pic)
        return NULL;
    pthread_mutex_init(&pic->lock, NULL);
    if (intr)
        pic->intr = *intr;
    for (int i = 0; i < 2; i++) {
        struct pic_chip *c = &pic->chip[i];
        c->pic = pic;
        c->elcr_mask = i ? ELCR_MASK_SLAVE : ELCR_MASK_MASTER;
        chip_reset_state(c);
    }
    pic->ranges[0] = (struct iobus_range){ IOBUS_PIO, 0x20, 2, pic_io, &pic->chip[0], "pic-master" };
    pic->ranges[1] = (struct iobus_range){ IOBUS_PIO, 0xa0, 2, pic_io, &pic->chip[1], "pic-slave" };
    pic->ranges[2] = (struct iobus_range){ IOBUS_PIO, 0x4d0, 2, elcr_io, pic, "elcr" };
    pic->bus = bus;
    if (dev_register_ranges(bus, pic->ranges, 3) < 0) {
        int e = errno;
        pthread_mutex_destroy(&pic->lock);
        free(pic);
        errno = e;
        return NULL;
    }
    return pic;
}

void pic_destroy(struct pic *pic)
{
    if (!pic)
        return;
    dev_unregister_ranges(pic->bus, pic->ranges, 3);
    pthread_mutex_destroy(&pic->lock);
    free(pic);
}

/*
 * i8254 PIT (docs/hvm.md "PIT"). Behaviour from Intel's 8254 datasheet:
 * the control word, counter latch and read-back commands, LSB/MSB/LSB-MSB
 * access with their flip-flops, binary and BCD counting, modes 0-5 with
 * their gate rules; port 0x61 as the PC/AT's system control port B.
 *
 * A counter is a function of time, not a ticking state: d, the clock
 * pulses since the count was loaded (or the gate restarted it), gives the
 * counting element's value and OUT for every mode. A count is taken to
 * load at the write itself (the datasheet's one pulse of delay is not
 * modelled). d_base holds the pulses counted before a pause (a gate low
 * in modes 0 and 4).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "dev/pit.h"
#include "dev/ranges.h"

#define REFRESH_PERIOD_NS 15085        /* port 0x61 bit 4 toggles at ~66 kHz */

struct pit_counter {
    uint8_t mode;              /* 0-5 (6 and 7 are 2 and 3) */
    uint8_t mode_bits;         /* as written, for the read-back status */
    uint8_t rw;                /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint32_t n;                /* the count in use: 1 to the modulus */
    uint32_t next_n;           /* modes 1, 5: the count for the next trigger */
    bool loaded, counting, triggered, gate, null_count;
    bool deferred;             /* modes 2, 3: next_n takes over at switch_d */
    int64_t switch_d;
    int64_t d_base;
    uint64_t start_ns;
    bool write_msb, read_msb;
    uint8_t write_lsb;
    bool count_latched, latch_msb, status_latched;
    uint16_t latch;
    uint8_t status;
};

struct pit {
    pthread_mutex_t lock;
    struct pit_counter c[3];
    uint8_t port61;            /* bits 0-3 as written */
    int64_t irq_d;             /* counter 0: the pulses up to which IRQ 0 was raised */
    uint64_t last_irq_ns;
    bool irq_once;
    struct irq_line irq0;
    struct pit_clock clock;
    struct pit_changed_fn changed;
    struct iobus *bus;
    struct iobus_range ranges[2];
};

static uint64_t now_ns(const struct pit *pit)
{
    if (pit->clock.now_ns)
        return pit->clock.now_ns(pit->clock.opaque);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int64_t ticks_of_ns(uint64_t ns)
{
    return (int64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

/* The first ns at which ticks_of_ns reaches t. */
static uint64_t ns_of_ticks(int64_t t)
{
    return (uint64_t)(((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint32_t modulus(const struct pit_counter *c)
{
    return c->bcd ? 10000 : 0x10000;
}

static int64_t pulses(const struct pit_counter *c, uint64_t now)
{
    return c->d_base + (c->counting && now > c->start_ns ? ticks_of_ns(now - c->start_ns) : 0);
}

static void restart(struct pit_counter *c, uint64_t now)
{
    c->d_base = 0;
    c->start_ns = now;
    c->counting = true;
    c->deferred = false;
}

/* Modes 2 and 3: a count written while counting starts at the end of the
 * current period. Rebases d to that point once time has reached it. */
static void settle(struct pit *pit, struct pit_counter *c, uint64_t now)
{
    if (!c->deferred || pulses(c, now) < c->switch_d)
        return;
    c->d_base -= c->switch_d;
    if (c == &pit->c[0])
        pit->irq_d -= c->switch_d;
    c->n = c->next_n;
    c->deferred = false;
}

static bool out_at(const struct pit_counter *c, int64_t d)
{
    int64_t n = c->n;
    if (!c->loaded)
        return c->mode != 0;
    switch (c->mode) {
    case 0:
        return d >= n;
    case 1:
        return !c->triggered || d >= n;
    case 2:
        return !c->gate || d % n != n - 1;
    case 3:
        return !c->gate || d % n < (n + 1) / 2;
    case 4:
        return d != n;
    default:
        return !c->triggered || d != n;
    }
}

/* The counting element at d. */
static uint32_t value_at(const struct pit_counter *c, int64_t d)
{
    int64_t n = c->n, m = modulus(c), r;
    switch (c->mode) {
    case 2:
        r = d % n;
        return (uint32_t)(n - r);
    case 3:
        r = d % n;
        if (n & 1) {           /* N-1 down by two for (N+1)/2, then for (N-1)/2 */
            int64_t h = (n + 1) / 2;
            return (uint32_t)(n - 1 - 2 * (r < h ? r : r - h));
        }
        return (uint32_t)(n - 2 * (r < n / 2 ? r : r - n / 2));
    default:
        return (uint32_t)(((n - d) % m + m) % m);
    }
}

static uint16_t to_bcd(uint32_t v)
{
    return (v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12;
}

static uint32_t from_bcd(uint16_t v)
{
    return (v & 15) + (v >> 4 & 15) * 10 + (v >> 8 & 15) * 100 + (v >> 12 & 15) * 1000;
}

static uint16_t reading(const struct pit_counter *c, uint64_t now)
{
    uint32_t v = value_at(c, pulses(c, now)) % modulus(c);
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

/* The first pulse count after d at which OUT rises, or -1. */
static int64_t next_rise(const struct pit_counter *c, int64_t d)
{
    int64_t n = c->n;
    if (!c->loaded || !c->counting)
        return -1;
    switch (c->mode) {
    case 0:
    case 1:
        if (c->mode == 1 && !c->triggered)
            return -1;
        return d < n ? n : -1;
    case 2:
    case 3:
        return d < 0 ? 0 : (d / n + 1) * n;    /* d < 0: rebased past a deferred reload */
    default:
        if (c->mode == 5 && !c->triggered)
            return -1;
        return d < n + 1 ? n + 1 : -1;
    }
}

static void load_count(struct pit *pit, struct pit_counter *c, uint32_t raw, uint64_t now)
{
    uint32_t n = c->bcd ? from_bcd(raw) : raw;
    if (n == 0 || n > modulus(c))
        n = modulus(c);
    c->null_count = false;
    c->next_n = n;
    if ((c->mode == 2 || c->mode == 3) && c->loaded && c->counting) {
        int64_t d = pulses(c, now);
        c->switch_d = (d / c->n + 1) * c->n;
        c->deferred = true;
        return;
    }
    if ((c->mode == 1 || c->mode == 5) && c->loaded)
        return;                /* waits for the next trigger */
    c->n = n;
    c->loaded = true;
    c->triggered = false;
    restart(c, now);
    c->counting = c->mode == 1 || c->mode == 5 ? false : c->gate;
    if (c == &pit->c[0])
        pit->irq_d = 0;
}

static void control_word(struct pit *pit, uint8_t v, uint64_t now)
{
    unsigned sel = v >> 6, rw = (v >> 4) & 3;
    if (sel == 3) {            /* read-back: bit 5 low latches counts, bit 4 status */
        for (unsigned i = 0; i < 3; i++) {
            struct pit_counter *c = &pit->c[i];
            if (!(v & (2u << i)))
                continue;
            settle(pit, c, now);
            if (!(v & 0x20) && !c->count_latched) {
                c->latch = reading(c, now);
                c->count_latched = true;
                c->latch_msb = false;
            }
            if (!(v & 0x10) && !c->status_latched) {
                c->status = (out_at(c, pulses(c, now)) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
                            c->rw << 4 | c->mode_bits << 1 | c->bcd;
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_counter *c = &pit->c[sel];
    settle(pit, c, now);
    if (rw == 0) {             /* counter latch command */
        if (!c->count_latched) {
            c->latch = reading(c, now);
            c->count_latched = true;
            c->latch_msb = false;
        }
        return;
    }
    bool gate = c->gate;
    *c = (struct pit_counter){
        .mode_bits = (v >> 1) & 7, .rw = rw, .bcd = v & 1, .gate = gate, .null_count = true,
        .n = 0x10000, .next_n = 0x10000,
    };
    c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
    if (c->bcd)
        c->n = c->next_n = 10000;
}

static void counter_write(struct pit *pit, struct pit_counter *c, uint8_t v, uint64_t now)
{
    settle(pit, c, now);
    switch (c->rw) {
    case 1:
        load_count(pit, c, v, now);
        break;
    case 2:
        load_count(pit, c, (uint32_t)v << 8, now);
        break;
    case 3:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = true;
            if (c->mode == 0) {        /* the first byte stops mode 0, OUT low */
                c->loaded = false;
                c->counting = false;
            }
        } else {
            c->write_msb = false;
            load_count(pit, c, c->write_lsb | (uint32_t)v << 8, now);
        }
        break;
    }
}

static uint8_t byte_of(uint16_t v, bool msb)
{
    return msb ? v >> 8 : v & 0xff;
}

static uint8_t counter_read(struct pit *pit, struct pit_counter *c, uint64_t now)
{
    settle(pit, c, now);
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        bool msb = c->rw == 2 || (c->rw == 3 && c->latch_msb);
        if (c->rw == 3 && !c->latch_msb)
            c->latch_msb = true;
        else
            c->count_latched = false;
        return byte_of(c->latch, msb);
    }
    uint16_t v = reading(c, now);
    if (c->rw != 3)
        return byte_of(v, c->rw == 2);
    c->read_msb = !c->read_msb;
    return byte_of(v, !c->read_msb);
}

static void set_gate(struct pit_counter *c, bool level, uint64_t now)
{
    if (level == c->gate)
        return;
    c->gate = level;
    if (!c->loaded)
        return;
    switch (c->mode) {
    case 0:
    case 4:
        if (!level) {
            c->d_base = pulses(c, now);
            c->counting = false;
        } else {
            c->start_ns = now;
            c->counting = true;
        }
        break;
    case 1:
    case 5:
        if (level) {
            c->n = c->next_n;
            c->triggered = true;
            restart(c, now);
        }
        break;
    default:                   /* 2, 3: low stops (OUT high), high reloads */
        if (level) {
            if (c->deferred)
                c->n = c->next_n;
            restart(c, now);
        } else {
            c->counting = false;
            c->deferred = false;
        }
        break;
    }
}

static void notify_changed(struct pit *pit)
{
    if (pit->changed.changed)
        pit->changed.changed(pit->changed.opaque);
}

static void pit_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                   bool is_write)
{
    struct pit *pit = opaque;
    (void)v;
    if (len != 1 || off > 3)
        return;
    pthread_mutex_lock(&pit->lock);
    uint64_t now = now_ns(pit);
    bool counter0 = is_write && (off == 0 || (off == 3 && (data[0] >> 6) == 0));
    if (!is_write)
        data[0] = off < 3 ? counter_read(pit, &pit->c[off], now) : 0;
    else if (off < 3)
        counter_write(pit, &pit->c[off], data[0], now);
    else
        control_word(pit, data[0], now);
    pthread_mutex_unlock(&pit->lock);
    if (counter0)
        notify_changed(pit);
}

/* Port 0x61: bit 0 counter 2's gate, bit 1 speaker data, bits 2-3 parity
 * and channel check enables (kept), bit 4 the refresh toggle, bit 5 OUT2;
 * bits 6-7 (parity and channel check errors) read 0. */
static void port61_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
                      bool is_write)
{
    struct pit *pit = opaque;
    (void)v;
    (void)off;
    if (len != 1)
        return;
    pthread_mutex_lock(&pit->lock);
    uint64_t now = now_ns(pit);
    struct pit_counter *c2 = &pit->c[2];
    settle(pit, c2, now);
    if (is_write) {
        pit->port61 = data[0] & 0x0f;
        set_gate(c2, data[0] & 1, now);
    } else {
        bool out2 = out_at(c2, pulses(c2, now));
        data[0] = pit->port61 | ((now / REFRESH_PERIOD_NS) & 1) << 4 | (out2 ? 0x20 : 0);
    }
    pthread_mutex_unlock(&pit->lock);
}

uint64_t pit_next_event_ns(struct pit *pit)
{
    pthread_mutex_lock(&pit->lock);
    struct pit_counter *c = &pit->c[0];
    settle(pit, c, now_ns(pit));
    int64_t rise = next_rise(c, pit->irq_d);
    uint64_t at = PIT_NO_EVENT;
    if (rise >= 0) {
        at = rise > c->d_base ? c->start_ns + ns_of_ticks(rise - c->d_base) : c->start_ns;
        if (pit->irq_once && at < pit->last_irq_ns + PIT_MIN_EVENT_NS)
            at = pit->last_irq_ns + PIT_MIN_EVENT_NS;
    }
    pthread_mutex_unlock(&pit->lock);
    return at;
}

bool pit_tick(struct pit *pit)
{
    pthread_mutex_lock(&pit->lock);
    struct pit_counter *c = &pit->c[0];
    uint64_t now = now_ns(pit);
    settle(pit, c, now);
    int64_t d = pulses(c, now), rise = next_rise(c, pit->irq_d);
    bool fire = rise >= 0 && rise <= d &&
                (!pit->irq_once || now >= pit->last_irq_ns + PIT_MIN_EVENT_NS);
    if (fire) {
        pit->irq_d = d;
        pit->last_irq_ns = now;
        pit->irq_once = true;
    }
    pthread_mutex_unlock(&pit->lock);
    if (fire)
        irq_line_pulse(&pit->irq0);
    return fire;
}

struct pit *pit_create(struct iobus *bus, const struct irq_line *irq0,
                       const struct pit_clock *clock, const struct pit_changed_fn *changed)
{
    struct pit *pit = calloc(1, sizeof(*pit));
    if (!pit)
        return NULL;
    pthread_mutex_init(&pit->lock, NULL);
    if (irq0)
        pit->irq0 = *irq0;
    if (clock)
        pit->clock = *clock;
    if (changed)
        pit->changed = *changed;
    for (int i = 0; i < 3; i++)
        pit->c[i] = (struct pit_counter){ .gate = i < 2, .n = 0x10000, .next_n = 0x10000,
                                          .rw = 3 };
    pit->ranges[0] = (struct iobus_range){ IOBUS_PIO, 0x40, 4, pit_io, pit, "pit" };
    pit->ranges[1] = (struct iobus_range){ IOBUS_PIO, 0x61, 1, port61_io, pit, "port61" };
    pit->bus = bus;
    if (dev_register_ranges(bus, pit->ranges, 2) < 0) {
        int e = errno;
        pthread_mutex_destroy(&pit->lock);
        free(pit);
        errno = e;
        return NULL;
    }
    return pit;
}

void pit_destroy(struct pit *pit)
{
    if (!pit)
        return;
    dev_unregister_ranges(pit->bus, pit->ranges, 2);
    pthread_mutex_destroy(&pit->lock);
    free(pit);
}

/*
 * MC146818 RTC/NVRAM (rtc.h; docs/hvm.md "Emulated devices").
 *
 * The clock is kept as "base_sec at base_ns" (a UTC second count at a
 * monotonic instant) and the time registers are computed when read, in BCD
 * or binary and 12- or 24-hour form as register B says. While SET is on, or
 * the divider (register A bits 6:4) is not the normal 010, the clock stands
 * at frozen_sec; when it runs again it counts on from there. Register C's
 * flags are brought up to date lazily (every access and rtc_poll) from the
 * second and periodic boundaries crossed since the last look; IRQ 8 is high
 * while C's IRQF is set, and reading C lowers it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/rtc.h"
#include "iobus.h"

#define NS 1000000000LL
#define DV_NORMAL 0x20                 /* register A's divider bits for 32.768 kHz */
#define UIP_NS 244000LL                /* UIP rises this long before an update */
#define SECONDS_A_DAY 86400

struct rtc {
    pthread_mutex_t lock;
    struct iobus *bus;
    struct irq_line irq;
    bool has_irq, irq_level;
    struct rtc_clock clk;

    uint8_t index;
    bool nmi_off;
    uint8_t cmos[RTC_NVRAM_SIZE];      /* A, B, C, alarms and NVRAM; time bytes unused */

    int64_t base_sec, base_ns;         /* the running clock */
    bool frozen;
    int64_t frozen_sec;
    int64_t last_ns;                   /* flags are up to date to here */
    void (*changed)(void *opaque);     /* rtc_set_changed */
    void *changed_opaque;
};

static int64_t mono_ns(void *opaque)
{
    (void)opaque;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t now_ns(struct rtc *r)
{
    return r->clk.now_ns(r->clk.opaque);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t sec_at(const struct rtc *r, int64_t t)
{
    return r->frozen ? r->frozen_sec : r->base_sec + floor_div(t - r->base_ns, NS);
}

static bool is_clock_reg(unsigned idx)
{
    return idx <= RTC_REG_D || idx == RTC_CENTURY;
}

/* Register A's rate select as a period: 0 is none; 1 and 2 are 256 and
 * 128 Hz; 3-15 are 8192 Hz halved per step. */
static int64_t periodic_ns(const struct rtc *r)
{
    unsigned rs = r->cmos[RTC_REG_A] & 0x0f;
    if (!rs || (r->cmos[RTC_REG_A] & 0x70) != DV_NORMAL)
        return 0;
    unsigned shift = rs <= 2 ? rs + 6 : rs - 1;
    return (int64_t)((NS << shift) / 32768);
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
    return (r->cmos[RTC_REG_B] & RTC_B_BIN) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
    return (r->cmos[RTC_REG_B] & RTC_B_BIN) ? v : (unsigned)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(const struct rtc *r, unsigned h)
{
    if (r->cmos[RTC_REG_B] & RTC_B_24H)
        return to_reg(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return to_reg(r, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned hour_from_reg(const struct rtc *r, uint8_t v)
{
    if (r->cmos[RTC_REG_B] & RTC_B_24H)
        return from_reg(r, v);
    unsigned h = from_reg(r, v & 0x7f) % 12;
    return v & 0x80 ? h + 12 : h;
}

/* An alarm byte matches its field when equal, or always when its two top
 * bits are set ("don't care"). */
static bool alarm_field(const struct rtc *r, unsigned idx, unsigned value, bool hours)
{
    uint8_t a = r->cmos[idx];
    if ((a & 0xc0) == 0xc0)
        return true;
    return hours ? hour_to_reg(r, value) == a : to_reg(r, value) == a;
}

static bool alarm_matches(const struct rtc *r, int64_t sec)
{
    int64_t day = sec % SECONDS_A_DAY;
    if (day < 0)
        day += SECONDS_A_DAY;
    return alarm_field(r, RTC_SECONDS_ALARM, (unsigned)(day % 60), false) &&
           alarm_field(r, RTC_MINUTES_ALARM, (unsigned)(day / 60 % 60), false) &&
           alarm_field(r, RTC_HOURS_ALARM, (unsigned)(day / 3600), true);
}

static void update_irq(struct rtc *r)
{
    uint8_t c = r->cmos[RTC_REG_C], b = r->cmos[RTC_REG_B];
    bool irqf = (c & b & (RTC_C_PF | RTC_C_AF | RTC_C_UF)) != 0;
    r->cmos[RTC_REG_C] = irqf ? (c | RTC_C_IRQF) : (c & ~RTC_C_IRQF);
    if (r->has_irq && irqf != r->irq_level)
        irq_line_set(&r->irq, irqf);
    r->irq_level = irqf;
}

/* The flags from the boundaries crossed in (last_ns, t]. */
static void advance(struct rtc *r, int64_t t)
{
    if (t <= r->last_ns)
        return;
    if (!r->frozen) {
        int64_t s0 = sec_at(r, r->last_ns), s1 = sec_at(r, t);
        if (s1 > s0) {
            r->cmos[RTC_REG_C] |= RTC_C_UF;
            /* A day of seconds holds every alarm time there is. */
            int64_t from = s1 - s0 > SECONDS_A_DAY ? s1 - SECONDS_A_DAY : s0;
            for (int64_t s = s1; s > from; s--)
                if (alarm_matches(r, s)) {
                    r->cmos[RTC_REG_C] |= RTC_C_AF;
                    break;
                }
        }
    }
    int64_t p = periodic_ns(r);
    if (p && floor_div(t, p) != floor_div(r->last_ns, p))
        r->cmos[RTC_REG_C] |= RTC_C_PF;
    r->last_ns = t;
}

static void set_frozen(struct rtc *r, bool frozen, int64_t t)
{
    if (frozen == r->frozen)
        return;
    if (frozen)
        r->frozen_sec = sec_at(r, t);
    else {
        r->base_sec = r->frozen_sec;
        r->base_ns = t;
    }
    r->frozen = frozen;
}

static void set_sec(struct rtc *r, int64_t sec, int64_t t)
{
    if (r->frozen)
        r->frozen_sec = sec;
    else {
        r->base_sec = sec;
        r->base_ns = t;
    }
}

static uint8_t read_time_reg(struct rtc *r, unsigned idx, int64_t t)
{
    time_t s = (time_t)sec_at(r, t);
    struct tm tm;
    if (!gmtime_r(&s, &tm))
        return 0;
    unsigned year = (unsigned)tm.tm_year + 1900;
    switch (idx) {
    case RTC_SECONDS:      return to_reg(r, (unsigned)tm.tm_sec);
    case RTC_MINUTES:      return to_reg(r, (unsigned)tm.tm_min);
    case RTC_HOURS:        return hour_to_reg(r, (unsigned)tm.tm_hour);
    case RTC_DAY_OF_WEEK:  return to_reg(r, (unsigned)tm.tm_wday + 1);
    case RTC_DAY_OF_MONTH: return to_reg(r, (unsigned)tm.tm_mday);
    case RTC_MONTH:        return to_reg(r, (unsigned)tm.tm_mon + 1);
    case RTC_YEAR:         return to_reg(r, year % 100);
    default:               return to_reg(r, year / 100 % 100);   /* century */
    }
}

/* A guest write to a time byte: that field of the current time replaced.
 * The day of the week follows from the date (a write to it is ignored);
 * nonsense values come out as whatever timegm makes of them. */
static void write_time_reg(struct rtc *r, unsigned idx, uint8_t v, int64_t t)
{
    time_t s = (time_t)sec_at(r, t);
    struct tm tm;
    if (!gmtime_r(&s, &tm))
        return;
    int year = tm.tm_year + 1900;
    switch (idx) {
    case RTC_SECONDS:      tm.tm_sec = (int)from_reg(r, v); break;
    case RTC_MINUTES:      tm.tm_min = (int)from_reg(r, v); break;
    case RTC_HOURS:        tm.tm_hour = (int)hour_from_reg(r, v); break;
    case RTC_DAY_OF_MONTH: tm.tm_mday = (int)from_reg(r, v); break;
    case RTC_MONTH:        tm.tm_mon = (int)from_reg(r, v) - 1; break;
    case RTC_YEAR:         year = year / 100 * 100 + (int)from_reg(r, v); break;
    case RTC_CENTURY:      year = (int)from_reg(r, v) * 100 + year % 100; break;
    default:               return;
    }
    tm.tm_year = year - 1900;
    tm.tm_isdst = 0;
    time_t n = timegm(&tm);
    if (n != (time_t)-1)
        set_sec(r, n, t);
}

static bool clock_stopped(const struct rtc *r)
{
    return (r->cmos[RTC_REG_B] & RTC_B_SET) || (r->cmos[RTC_REG_A] & 0x70) != DV_NORMAL;
}

static uint8_t data_read(struct rtc *r, int64_t t)
{
    unsigned idx = r->index;
    uint8_t v;
    switch (idx) {
    case RTC_REG_A:
        v = r->cmos[RTC_REG_A];
        if (!r->frozen && floor_div(t - r->base_ns, NS) * NS + r->base_ns + NS - t <= UIP_NS)
            v |= RTC_A_UIP;
        return v;
    case RTC_REG_B:
        return r->cmos[RTC_REG_B];
    case RTC_REG_C:
        v = r->cmos[RTC_REG_C];
        r->cmos[RTC_REG_C] = 0;        /* read clears every flag */
        return v;
    case RTC_REG_D:
        return RTC_D_VRT;              /* the battery is fine */
    case RTC_SECONDS_ALARM:
    case RTC_MINUTES_ALARM:
    case RTC_HOURS_ALARM:
        return r->cmos[idx];
    default:
        return is_clock_reg(idx) ? read_time_reg(r, idx, t) : r->cmos[idx];
    }
}

static void data_write(struct rtc *r, uint8_t v, int64_t t)
{
    unsigned idx = r->index;
    switch (idx) {
    case RTC_REG_A:
        r->cmos[RTC_REG_A] = v & 0x7f;
        break;
    case RTC_REG_B:
        if (v & RTC_B_SET)
            v &= (uint8_t)~RTC_B_UIE;  /* setting SET clears UIE */
        r->cmos[RTC_REG_B] = v;
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                         /* read-only */
    case RTC_SECONDS_ALARM:
    case RTC_MINUTES_ALARM:
    case RTC_HOURS_ALARM:
        r->cmos[idx] = v;
        break;
    default:
        if (is_clock_reg(idx))
            write_time_reg(r, idx, v, t);
        else
            r->cmos[idx] = v;
        break;
    }
    set_frozen(r, clock_stopped(r), t);
}

void rtc_io(void *opaque, struct vcpu *v, uint64_t off, uint8_t *data, uint32_t len,
            bool is_write)
{
    (void)v;
    struct rtc *r = opaque;
    pthread_mutex_lock(&r->lock);
    int64_t t = now_ns(r);
    advance(r, t);
    update_irq(r);
    bool rearm = false;
    for (uint32_t i = 0; i < len && off + i < 2; i++) {
        if (off + i == 0) {
            if (is_write) {
                r->index = data[i] & 0x7f;
                r->nmi_off = data[i] & 0x80;
            } else
                data[i] = 0xff;        /* the index port is write-only */
        } else if (is_write) {
            rearm |= r->index == RTC_REG_A || r->index == RTC_REG_B || r->index <= RTC_HOURS_ALARM;
            data_write(r, data[i], t);
        } else {
            data[i] = data_read(r, t);
        }
    }
    update_irq(r);
    void (*changed)(void *) = rearm ? r->changed : NULL;
    void *co = r->changed_opaque;
    pthread_mutex_unlock(&r->lock);
    if (changed)
        changed(co);
}

void rtc_set_changed(struct rtc *r, void (*fn)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&r->lock);
    r->changed = fn;
    r->changed_opaque = opaque;
    pthread_mutex_unlock(&r->lock);
}

int64_t rtc_poll(struct rtc *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t t = now_ns(r);
    advance(r, t);
    update_irq(r);
    int64_t next = -1;
    uint8_t b = r->cmos[RTC_REG_B];
    int64_t p = periodic_ns(r);
    if ((b & RTC_B_PIE) && p)
        next = (floor_div(t, p) + 1) * p - t;
    if ((b & (RTC_B_AIE | RTC_B_UIE)) && !r->frozen) {
        int64_t to_sec = r->base_ns + (floor_div(t - r->base_ns, NS) + 1) * NS - t;
        if (next < 0 || to_sec < next)
            next = to_sec;
    }
    pthread_mutex_unlock(&r->lock);
    return next;
}

void rtc_set_time(struct rtc *r, int64_t unix_seconds)
{
    pthread_mutex_lock(&r->lock);
    int64_t t = now_ns(r);
    advance(r, t);
    set_sec(r, unix_seconds, t);
    pthread_mutex_unlock(&r->lock);
}

int64_t rtc_get_time(struct rtc *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t s = sec_at(r, now_ns(r));
    pthread_mutex_unlock(&r->lock);
    return s;
}

int rtc_nvram_set(struct rtc *r, unsigned idx, uint8_t val)
{
    if (idx >= RTC_NVRAM_SIZE || is_clock_reg(idx))
        return -1;
    pthread_mutex_lock(&r->lock);
    r->cmos[idx] = val;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

int rtc_nvram_get(struct rtc *r, unsigned idx)
{
    if (idx >= RTC_NVRAM_SIZE || is_clock_reg(idx))
        return -1;
    pthread_mutex_lock(&r->lock);
    int v = r->cmos[idx];
    pthread_mutex_unlock(&r->lock);
    return v;
}

static void set_pair(struct rtc *r, unsigned lo, uint64_t v)
{
    rtc_nvram_set(r, lo, (uint8_t)v);
    rtc_nvram_set(r, lo + 1, (uint8_t)(v >> 8));
}

void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g)
{
    const uint64_t mib = 1 << 20;
    uint64_t ext_kib = below_4g > mib ? (below_4g - mib) >> 10 : 0;
    uint64_t ext2 = below_4g > 16 * mib ? (below_4g - 16 * mib) >> 16 : 0;
    uint64_t high = above_4g >> 16;
    set_pair(r, CMOS_BASE_MEM_LOW, 640);
    set_pair(r, CMOS_EXT_MEM_LOW, ext_kib > 0xffff ? 0xffff : ext_kib);
    set_pair(r, CMOS_EXTMEM_LOW, ext_kib > 0xffff ? 0xffff : ext_kib);
    set_pair(r, CMOS_EXTMEM2_LOW, ext2 > 0xffff ? 0xffff : ext2);
    if (high > 0xffffff)
        high = 0xffffff;
    set_pair(r, CMOS_HIGHMEM_LOW, high);
    rtc_nvram_set(r, CMOS_HIGHMEM_HIGH, (uint8_t)(high >> 16));
}

void rtc_set_cpus(struct rtc *r, unsigned n)
{
    rtc_nvram_set(r, CMOS_SMP_COUNT, (uint8_t)(n ? n - 1 : 0));
}

bool rtc_nmi_disabled(struct rtc *r)
{
    pthread_mutex_lock(&r->lock);
    bool off = r->nmi_off;
    pthread_mutex_unlock(&r->lock);
    return off;
}

struct rtc *rtc_create(struct iobus *bus, const struct irq_line *irq, const struct rtc_clock *clk)
{
    struct rtc *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->bus = bus;
    if (irq) {
        r->irq = *irq;
        r->has_irq = true;
    }
    r->clk = clk ? *clk : (struct rtc_clock){ .now_ns = mono_ns };
    r->cmos[RTC_REG_A] = DV_NORMAL | 0x06;       /* 32.768 kHz, 1024 Hz periodic */
    r->cmos[RTC_REG_B] = RTC_B_24H;              /* BCD, 24-hour */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    r->base_sec = wall.tv_sec;
    r->base_ns = r->last_ns = now_ns(r);
    struct iobus_range range = {
        .space = IOBUS_PIO, .base = RTC_PORT_BASE, .len = 2,
        .fn = rtc_io, .opaque = r, .name = "mc146818-rtc",
    };
    if (iobus_register(bus, &range) < 0) {
        int e = errno;
        pthread_mutex_destroy(&r->lock);
        free(r);
        errno = e;
        return NULL;
    }
    return r;
}

void rtc_destroy(struct rtc *r)
{
    if (!r)
        return;
    iobus_unregister(r->bus, IOBUS_PIO, RTC_PORT_BASE);
    if (r->has_irq && r->irq_level)
        irq_line_set(&r->irq, false);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

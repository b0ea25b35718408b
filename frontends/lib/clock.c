/*
 * Clock arithmetic (see clock.h).  The 64x32 multiply uses a 128-bit
 * product, which gcc emits as a single `mul` (no libgcc call); divisions
 * stay 64-bit because libgcc's 128-bit division is not linked into the
 * guest.
 */
#include "clock.h"

uint64_t clock_scale_delta(uint64_t delta, uint32_t mul_frac, int8_t shift)
{
    if (shift < 0)
        delta = shift <= -64 ? 0 : delta >> -shift;
    else
        delta = shift >= 64 ? 0 : delta << shift;
    return (uint64_t)(((unsigned __int128)delta * mul_frac) >> 32);
}

uint64_t clock_tsc_to_ns(uint64_t ticks, uint32_t khz)
{
    if (!khz)
        return 0;
    /* ns = ticks * 1e6 / khz, split to avoid overflowing 64 bits */
    return ticks / khz * 1000000ULL + ticks % khz * 1000000ULL / khz;
}

uint64_t clock_ns_to_tsc(uint64_t ns, uint32_t khz)
{
    return ns / 1000000ULL * khz + ns % 1000000ULL * khz / 1000000ULL;
}

/*
 * mul_frac/2^32 * 2^shift must equal 1e6/khz (ns per tick), with mul_frac
 * normalised into [2^31, 2^32) for precision.
 */
void clock_compute_scale(uint32_t khz, uint32_t *mul_frac, int8_t *shift)
{
    uint64_t num = 1000000ULL; /* ns per ms */
    uint64_t den = khz ? khz : 1;   /* ticks per ms */
    int s = 0;
    while (den > num * 2) { /* ratio below 1/2: scale the ticks down */
        den >>= 1;
        s--;
    }
    while (num >= den) { /* ratio of 1 or more: count the ticks double */
        den <<= 1;
        s++;
    }
    *mul_frac = (uint32_t)((num << 32) / den);
    *shift = (int8_t)s;
}

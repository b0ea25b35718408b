/*
 * Number parsing: strtoul/strtol with the C semantics libfdt relies on
 * (leading space, sign, base 0 = auto 0x/0 prefix), and parse_u64, the
 * strict whole-string parser the kernel uses for command-line values.
 */
#include <limits.h>
#include <stdbool.h>

#include "klib.h"

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

static const char *skip_prefix(const char *s, int *base)
{
    bool hex_prefix = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16;
    if ((*base == 0 || *base == 16) && hex_prefix) {
        *base = 16;
        return s + 2;
    }
    if (*base == 0)
        *base = s[0] == '0' ? 8 : 10;
    return s;
}

/* Accumulates digits; on overflow saturates and sets *overflow. */
static unsigned long parse_digits(const char **sp, int base, bool *overflow)
{
    const char *s = *sp;
    unsigned long v = 0;
    int d;
    while ((d = digit_value(*s)) < base) {
        if (v > (ULONG_MAX - (unsigned long)d) / (unsigned long)base) {
            *overflow = true;
            v = ULONG_MAX;
        } else if (!*overflow) {
            v = v * (unsigned long)base + (unsigned long)d;
        }
        s++;
    }
    *sp = s;
    return v;
}

static unsigned long parse_number(const char *s, char **end, int base, bool *neg, bool *overflow)
{
    const char *start = s;
    *neg = false;
    *overflow = false;
    if (base < 0 || base == 1 || base > 36) {
        if (end)
            *end = (char *)start;
        return 0;
    }
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    if (*s == '+' || *s == '-')
        *neg = *s++ == '-';
    s = skip_prefix(s, &base);
    const char *digits = s;
    unsigned long v = parse_digits(&s, base, overflow);
    if (end)
        *end = (char *)(s == digits ? start : s);
    return v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
    bool neg, overflow;
    unsigned long v = parse_number(s, end, base, &neg, &overflow);
    if (overflow)
        return ULONG_MAX;
    return neg ? -v : v;
}

long strtol(const char *s, char **end, int base)
{
    bool neg, overflow;
    unsigned long v = parse_number(s, end, base, &neg, &overflow);
    if (neg)
        return (overflow || v > (unsigned long)LONG_MAX + 1) ? LONG_MIN : (long)(0 - v);
    return (overflow || v > LONG_MAX) ? LONG_MAX : (long)v;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    int base = 0;
    bool overflow = false;
    if (!s || !*s)
        return -1;
    s = skip_prefix(s, &base);
    if (base == 8)
        base = 10; /* a leading 0 is just a decimal zero here */
    const char *digits = s;
    unsigned long v = parse_digits(&s, base, &overflow);
    if (s == digits || *s || overflow || v > max)
        return -1;
    *out = v;
    return 0;
}

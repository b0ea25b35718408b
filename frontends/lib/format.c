/*
 * vsnprintf/snprintf: the formatting behind printk.  Supports the integer
 * conversions d i u x X o p c s %, the flags - 0 + space #, width and
 * precision (also `*`), and the length modifiers hh h l ll z t j.  No
 * floating point: the guest is built with -mgeneral-regs-only.
 * Returns the length the full output would have, like C's snprintf.
 */
#include <stdbool.h>

#include "klib.h"

struct out {
    char *buf;
    size_t size;
    size_t len; /* characters produced so far, written or not */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int prec; /* -1 = none */
    int length; /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t/ptrdiff/intmax */
    char conv;
};

static const char *parse_flags(const char *f, struct spec *sp)
{
    for (;; f++) {
        switch (*f) {
        case '-': sp->left = true; break;
        case '0': sp->zero = true; break;
        case '+': sp->plus = true; break;
        case ' ': sp->space = true; break;
        case '#': sp->alt = true; break;
        default: return f;
        }
    }
}

static const char *parse_number_field(const char *f, int *val, va_list *ap, bool *star_neg)
{
    if (*f == '*') {
        int v = va_arg(*ap, int);
        *star_neg = v < 0;
        *val = v < 0 ? -v : v;
        return f + 1;
    }
    int v = 0;
    while (*f >= '0' && *f <= '9') {
        if (v < 100000)
            v = v * 10 + (*f - '0');
        f++;
    }
    *val = v;
    return f;
}

static const char *parse_length(const char *f, struct spec *sp)
{
    if (f[0] == 'h' && f[1] == 'h') { sp->length = -2; return f + 2; }
    if (f[0] == 'h') { sp->length = -1; return f + 1; }
    if (f[0] == 'l' && f[1] == 'l') { sp->length = 2; return f + 2; }
    if (f[0] == 'l') { sp->length = 1; return f + 1; }
    if (f[0] == 'z' || f[0] == 't' || f[0] == 'j') { sp->length = 3; return f + 1; }
    return f;
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    bool neg = false;
    *sp = (struct spec){ .prec = -1 };
    f = parse_flags(f, sp);
    f = parse_number_field(f, &sp->width, ap, &neg);
    if (neg)
        sp->left = true;
    if (*f == '.') {
        f = parse_number_field(f + 1, &sp->prec, ap, &neg);
        if (neg)
            sp->prec = -1; /* a negative precision is taken as omitted */
    }
    f = parse_length(f, sp);
    sp->conv = *f;
    return *f ? f + 1 : f;
}

static unsigned long long fetch_unsigned(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned int);
    case -1: return (unsigned short)va_arg(*ap, unsigned int);
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    case 3: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static long long fetch_signed(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    case 3: return va_arg(*ap, long); /* ssize_t/ptrdiff_t/intmax_t are long here */
    default: return va_arg(*ap, int);
    }
}

/* Emits a number given its digits (reversed in tmp), sign and prefix. */
static void emit_number(struct out *o, const struct spec *sp, unsigned long long v,
                        unsigned base, bool upper, const char *sign)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    int prec = sp->prec < 0 ? 1 : sp->prec;
    int zeros = prec > n ? prec - n : 0;
    const char *prefix = "";
    if (sp->alt && base == 16 && n > 0)
        prefix = upper ? "0X" : "0x";
    if (sp->alt && base == 8 && zeros == 0 && n > 0)
        zeros = 1;
    int body = (int)strlen(sign) + (int)strlen(prefix) + zeros + n;
    int pad = sp->width > body ? sp->width - body : 0;
    bool zero_pad = sp->zero && !sp->left && sp->prec < 0;
    if (!sp->left && !zero_pad)
        put_repeat(o, ' ', pad);
    for (const char *p = sign; *p; p++)
        put(o, *p);
    for (const char *p = prefix; *p; p++)
        put(o, *p);
    if (zero_pad)
        put_repeat(o, '0', pad);
    put_repeat(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void emit_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    int n = (int)(sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s));
    int pad = sp->width > n ? sp->width - n : 0;
    if (!sp->left)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void emit_conversion(struct out *o, struct spec *sp, va_list *ap)
{
    switch (sp->conv) {
    case 'd':
    case 'i': {
        long long v = fetch_signed(sp, ap);
        unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        emit_number(o, sp, mag, 10, false, v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "");
        break;
    }
    case 'u': emit_number(o, sp, fetch_unsigned(sp, ap), 10, false, ""); break;
    case 'x': emit_number(o, sp, fetch_unsigned(sp, ap), 16, false, ""); break;
    case 'X': emit_number(o, sp, fetch_unsigned(sp, ap), 16, true, ""); break;
    case 'o': emit_number(o, sp, fetch_unsigned(sp, ap), 8, false, ""); break;
    case 'p':
        sp->alt = true;
        emit_number(o, sp, (uintptr_t)va_arg(*ap, void *), 16, false, "");
        break;
    case 'c': {
        char c[2] = { (char)va_arg(*ap, int), 0 };
        sp->prec = 1;
        emit_string(o, sp, c);
        break;
    }
    case 's': emit_string(o, sp, va_arg(*ap, const char *)); break;
    case '%': put(o, '%'); break;
    default: /* unknown conversion: show it literally rather than guess */
        put(o, '%');
        if (sp->conv)
            put(o, sp->conv);
        break;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        struct spec sp;
        fmt = parse_spec(fmt + 1, &sp, &args);
        emit_conversion(&o, &sp, &args);
    }
    va_end(args);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

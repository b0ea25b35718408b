/* Quoting of values for printing and its inverse for xenstore-write, in
 * Xen's format (see cli.h). */
#include "cli.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>

char *cli_escape(const char *val, size_t len)
{
    const unsigned char *p = (const unsigned char *)val;
    /* Worst case: every byte becomes four ("\xHH"). */
    char *out = malloc(len * 4 + 1), *o = out;

    if (!out)
        err(1, "malloc");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (c >= ' ' && c <= '~' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '\t': *o++ = 't'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\\': *o++ = '\\'; break;
        default:
            o += sprintf(o, c < 8 ? "%03o" : "x%02x", c);
        }
    }
    *o = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escape after a backslash at *in; returns the byte and moves
 * *in past what it used.  Unknown escapes stand for the character itself,
 * "\x" without hex digits for 'x', a backslash at the very end for a NUL
 * byte (all as Xen's xenstore-write does). */
static char unescape_one(const char **in)
{
    const char *p = *in;
    char c = *p;
    int v = 0, n = 0;

    switch (c) {
    case '\0': return '\0';
    case 't': *in = p + 1; return '\t';
    case 'n': *in = p + 1; return '\n';
    case 'r': *in = p + 1; return '\r';
    case 'x':
        p++;
        while (n < 2 && hexval(p[n]) >= 0)
            v = v * 16 + hexval(p[n++]);
        *in = p + n;
        return n ? (char)v : 'x';
    default:
        if (c >= '0' && c <= '7') {
            while (n < 3 && p[n] >= '0' && p[n] <= '7')
                v = v * 8 + (p[n++] - '0');
            *in = p + n;
            return (char)v;
        }
        *in = p + 1;
        return c;
    }
}

size_t cli_unescape(char *out, const char *in)
{
    char *o = out;

    while (*in) {
        char c = *in++;

        if (c == '\\') {
            bool at_end = *in == '\0';
            *o++ = unescape_one(&in);
            if (at_end)
                break;
            continue;
        }
        *o++ = c;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/*
 * Command-line parser: splits `app=NAME key=value "quoted value" flag`
 * into key/value words, checking length, word count and key characters in
 * this one place.
 */
#include <stdbool.h>

#include "cmdline.h"
#include "klib.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

struct scan {
    const char *s;
    size_t pos, max;
    char *out;     /* next free byte in cl->buf */
    char *out_end;
};

static char peek(const struct scan *sc)
{
    return sc->pos < sc->max ? sc->s[sc->pos] : '\0';
}

static int emit(struct scan *sc, char c)
{
    if (sc->out >= sc->out_end)
        return -1;
    *sc->out++ = c;
    return 0;
}

static int scan_key(struct scan *sc, char *err, size_t errlen)
{
    size_t start = sc->pos;
    while (is_key_char(peek(sc))) {
        if (emit(sc, peek(sc)) < 0)
            return -1;
        sc->pos++;
    }
    size_t len = sc->pos - start;
    char c = peek(sc);
    if (len == 0 || (c != '=' && c != '\0' && !is_blank(c))) {
        snprintf(err, errlen, "cmdline: offset %zu: bad character '%c' in key", sc->pos,
                 c ? c : '?');
        return -1;
    }
    if (len > CMDLINE_KEY_MAX) {
        snprintf(err, errlen, "cmdline: offset %zu: key longer than %d characters", start,
                 CMDLINE_KEY_MAX);
        return -1;
    }
    return emit(sc, '\0');
}

static int scan_value(struct scan *sc, char *err, size_t errlen)
{
    size_t start = sc->pos;
    bool quoted = peek(sc) == '"';
    if (quoted)
        sc->pos++;
    for (char c; (c = peek(sc)) != '\0'; sc->pos++) {
        if (quoted ? c == '"' : is_blank(c))
            break;
        if (quoted && c == '\\' && sc->pos + 1 < sc->max && sc->s[sc->pos + 1] == '"')
            c = sc->s[++sc->pos];
        if (emit(sc, c) < 0)
            return -1;
    }
    if (quoted) {
        if (peek(sc) != '"') {
            snprintf(err, errlen, "cmdline: offset %zu: unterminated quote", start);
            return -1;
        }
        sc->pos++;
        char c = peek(sc);
        if (c != '\0' && !is_blank(c)) {
            snprintf(err, errlen, "cmdline: offset %zu: junk after closing quote", sc->pos);
            return -1;
        }
    }
    return emit(sc, '\0');
}

static int scan_word(struct cmdline *cl, struct scan *sc, char *err, size_t errlen)
{
    if (cl->nr == CMDLINE_MAX_ARGS) {
        snprintf(err, errlen, "cmdline: more than %d words", CMDLINE_MAX_ARGS);
        return -1;
    }
    struct cmdline_arg *a = &cl->args[cl->nr];
    a->key = sc->out;
    if (scan_key(sc, err, errlen) < 0)
        return -1;
    a->value = "";
    if (peek(sc) == '=') {
        sc->pos++;
        a->value = sc->out;
        if (scan_value(sc, err, errlen) < 0)
            return -1;
    }
    cl->nr++;
    return 0;
}

int cmdline_parse(struct cmdline *cl, const char *s, size_t max, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    cl->nr = 0;
    size_t len = s ? strnlen(s, max) : 0;
    if (len > CMDLINE_MAX) {
        snprintf(err, errlen, "cmdline: longer than %d bytes", CMDLINE_MAX);
        return -1;
    }
    struct scan sc = { s, 0, len, cl->buf, cl->buf + sizeof(cl->buf) };
    for (;;) {
        while (is_blank(peek(&sc)))
            sc.pos++;
        if (peek(&sc) == '\0')
            return 0;
        if (scan_word(cl, &sc, err, errlen) < 0) {
            if (errlen && !err[0])
                snprintf(err, errlen, "cmdline: too long");
            return -1;
        }
    }
}

const char *cmdline_get(const struct cmdline *cl, const char *key)
{
    const char *v = NULL;
    for (unsigned int i = 0; i < cl->nr; i++)
        if (strcmp(cl->args[i].key, key) == 0)
            v = cl->args[i].value;
    return v;
}

int cmdline_get_u64(const struct cmdline *cl, const char *key, uint64_t dflt, uint64_t max,
                    uint64_t *out, char *err, size_t errlen)
{
    const char *v = cmdline_get(cl, key);
    if (!v) {
        *out = dflt;
        return 1;
    }
    if (parse_u64(v, max, out) < 0) {
        snprintf(err, errlen, "cmdline: %s=%s: expected a number from 0 to %llu", key, v,
                 (unsigned long long)max);
        return -1;
    }
    return 0;
}

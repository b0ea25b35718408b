/* xl.cfg syntax: a small hand-written lexer and a recursive-descent parser.
 * Bounded everywhere: strings up to CFG_STRING_MAX, lists up to CFG_LIST_MAX
 * items, identifiers up to CFG_IDENT_MAX characters. */
#include "cfgparse.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_IDENT_MAX 64

enum tok_type { T_EOF, T_NEWLINE, T_SEMI, T_IDENT, T_STRING, T_INT, T_EQ,
                T_LBRACKET, T_RBRACKET, T_COMMA, T_ERROR };

struct token {
    enum tok_type type;
    int line;
    char *str;       /* T_IDENT, T_STRING (owned) */
    long long num;   /* T_INT */
};

struct lexer {
    const char *p, *end;
    int line;
    char *msg;
    size_t msglen;
    int err_line;
};

static void lex_error(struct lexer *lx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lex_error(struct lexer *lx, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->msg, lx->msglen, fmt, ap);
    va_end(ap);
    lx->err_line = line;
}

/* A printable rendering of one byte for error messages. */
static const char *show_char(char c, char buf[8])
{
    if (isprint((unsigned char)c))
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", (unsigned char)c);
    return buf;
}

static void skip_blanks_and_comments(struct lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == '\\' && lx->p + 1 < lx->end && lx->p[1] == '\n') {
            lx->p += 2;      /* line continuation, as in shell */
            lx->line++;
        } else {
            return;
        }
    }
}

static int escape_char(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '\\': return '\\';
    case '\'': return '\'';
    case '"': return '"';
    default: return -1;
    }
}

/* \xHH: two hex digits, not 00 (strings hold no NUL). -1 if not. */
static int hex_escape(const char *p, const char *end)
{
    if (end - p < 2 || !isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
        return -1;
    char hex[3] = { p[0], p[1], '\0' };
    int v = (int)strtol(hex, NULL, 16);
    return v ? v : -1;
}

static bool lex_string(struct lexer *lx, struct token *t)
{
    char quote = *lx->p++;
    char *buf = malloc(CFG_STRING_MAX + 1);
    size_t n = 0;
    char cb[8];

    if (!buf) {
        lex_error(lx, t->line, "out of memory");
        return false;
    }
    for (;;) {
        if (lx->p >= lx->end || *lx->p == '\n') {
            lex_error(lx, t->line, "unterminated string");
            goto fail;
        }
        char c = *lx->p++;
        if (c == quote)
            break;
        if (c == '\0') {
            lex_error(lx, lx->line, "NUL byte in string");
            goto fail;
        }
        if (c == '\\') {
            if (lx->p >= lx->end || *lx->p == '\n') {
                lex_error(lx, t->line, "unterminated string");
                goto fail;
            }
            int e = escape_char(*lx->p);
            if (*lx->p == 'x') {
                e = hex_escape(lx->p + 1, lx->end);
                if (e < 0) {
                    lex_error(lx, lx->line, "'\\x' in a string needs two hex digits, "
                              "not 00 (e.g. '\\x1b')");
                    goto fail;
                }
                lx->p += 2;
            }
            if (e < 0) {
                if (isprint((unsigned char)*lx->p))
                    lex_error(lx, lx->line, "unknown escape '\\%c' in string", *lx->p);
                else
                    lex_error(lx, lx->line, "unknown escape '\\' + %s in string",
                              show_char(*lx->p, cb));
                goto fail;
            }
            lx->p++;
            c = (char)e;
        }
        if (n >= CFG_STRING_MAX) {
            lex_error(lx, t->line, "string longer than %d bytes", CFG_STRING_MAX);
            goto fail;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    t->type = T_STRING;
    t->str = buf;
    return true;
fail:
    free(buf);
    return false;
}

static bool lex_number(struct lexer *lx, struct token *t)
{
    const char *s = lx->p;
    while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '-' ||
                               *lx->p == '_' || *lx->p == '.'))
        lx->p++;
    size_t len = (size_t)(lx->p - s);
    char buf[32];
    if (len >= sizeof(buf)) {
        lex_error(lx, t->line, "number too long");
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *endp;
    errno = 0;
    long long v = strtoll(buf, &endp, 0);
    /* strtoll with base 0 would read "010" as octal; xl users mean ten. */
    if (len > 1 && buf[0] == '0' && isdigit((unsigned char)buf[1]))
        v = strtoll(buf, &endp, 10);
    if (*endp != '\0' || endp == buf || buf[0] == '+') {
        lex_error(lx, t->line, "invalid number '%s'", buf);
        return false;
    }
    if (errno == ERANGE) {
        lex_error(lx, t->line, "number '%s' out of range", buf);
        return false;
    }
    t->type = T_INT;
    t->num = v;
    return true;
}

static bool lex_ident(struct lexer *lx, struct token *t)
{
    const char *s = lx->p;
    while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
        lx->p++;
    size_t len = (size_t)(lx->p - s);
    if (len > CFG_IDENT_MAX) {
        lex_error(lx, t->line, "key longer than %d characters", CFG_IDENT_MAX);
        return false;
    }
    t->str = strndup(s, len);
    if (!t->str) {
        lex_error(lx, t->line, "out of memory");
        return false;
    }
    t->type = T_IDENT;
    return true;
}

/* Reads the next token; T_ERROR with the message in lx on bad input. */
static struct token lex_next(struct lexer *lx)
{
    struct token t = { .type = T_ERROR, .str = NULL };
    char cb[8];

    skip_blanks_and_comments(lx);
    t.line = lx->line;
    if (lx->p >= lx->end) {
        t.type = T_EOF;
        return t;
    }
    char c = *lx->p;
    switch (c) {
    case '\n': lx->p++; lx->line++; t.type = T_NEWLINE; return t;
    case ';': lx->p++; t.type = T_SEMI; return t;
    case '=': lx->p++; t.type = T_EQ; return t;
    case '[': lx->p++; t.type = T_LBRACKET; return t;
    case ']': lx->p++; t.type = T_RBRACKET; return t;
    case ',': lx->p++; t.type = T_COMMA; return t;
    case '"': case '\'':
        if (!lex_string(lx, &t))
            t.type = T_ERROR;
        return t;
    default:
        break;
    }
    if (isdigit((unsigned char)c) || c == '-') {
        if (!lex_number(lx, &t))
            t.type = T_ERROR;
        return t;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        if (!lex_ident(lx, &t))
            t.type = T_ERROR;
        return t;
    }
    lex_error(lx, lx->line, "unexpected character %s", show_char(c, cb));
    return t;
}

static void tok_free(struct token *t)
{
    free(t->str);
    t->str = NULL;
}

void cfg_value_free(struct cfg_value *v)
{
    if (!v)
        return;
    free(v->str);
    for (size_t i = 0; i < v->n; i++)
        cfg_value_free(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof(*v));
}

/* Moves a scalar token into a value. */
static bool scalar_from_token(struct token *t, struct cfg_value *v)
{
    memset(v, 0, sizeof(*v));
    v->line = t->line;
    if (t->type == T_STRING) {
        v->type = CFG_V_STRING;
        v->str = t->str;
        t->str = NULL;
        return true;
    }
    if (t->type == T_INT) {
        v->type = CFG_V_INT;
        v->num = t->num;
        return true;
    }
    return false;
}

/* Next token that is not a newline (inside lists newlines do not count). */
static struct token lex_next_in_list(struct lexer *lx)
{
    struct token t;
    do {
        t = lex_next(lx);
    } while (t.type == T_NEWLINE);
    return t;
}

/* After a token inside a list: 1 when it closed the list, 0 when it ended
 * the input or was an error (reported), -1 when the list goes on. */
static int list_end(struct lexer *lx, const struct token *t, int open_line)
{
    if (t->type == T_RBRACKET)
        return 1;
    if (t->type == T_ERROR)
        return 0;
    if (t->type == T_EOF) {
        lex_error(lx, open_line, "unterminated list (missing ']')");
        return 0;
    }
    return -1;
}

static bool parse_list(struct lexer *lx, int open_line, struct cfg_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = CFG_V_LIST;
    v->line = open_line;
    v->items = calloc(CFG_LIST_MAX, sizeof(*v->items));
    if (!v->items) {
        lex_error(lx, open_line, "out of memory");
        return false;
    }
    for (;;) {
        struct token t = lex_next_in_list(lx);
        int end = list_end(lx, &t, open_line);
        if (end >= 0)
            return end;
        if (t.type == T_LBRACKET) {
            lex_error(lx, t.line, "nested lists are not supported");
            return false;
        }
        if (t.type != T_STRING && t.type != T_INT) {
            tok_free(&t);
            lex_error(lx, t.line, "expected a string or a number in the list");
            return false;
        }
        if (v->n >= CFG_LIST_MAX) {
            tok_free(&t);
            lex_error(lx, t.line, "list longer than %d items", CFG_LIST_MAX);
            return false;
        }
        scalar_from_token(&t, &v->items[v->n++]);
        t = lex_next_in_list(lx);
        end = list_end(lx, &t, open_line);
        if (end >= 0)
            return end;
        if (t.type != T_COMMA) {
            tok_free(&t);
            lex_error(lx, t.line, "expected ',' or ']' in the list");
            return false;
        }
    }
}

static bool parse_value(struct lexer *lx, const char *key, int key_line,
                        struct cfg_value *v)
{
    memset(v, 0, sizeof(*v));
    struct token t = lex_next(lx);
    if (t.type == T_ERROR)
        return false;
    if (t.type == T_LBRACKET)
        return parse_list(lx, t.line, v);
    if (scalar_from_token(&t, v))
        return true;
    tok_free(&t);
    if (t.type == T_IDENT)
        lex_error(lx, t.line, "value of '%s' must be quoted, a number or a list", key);
    else
        lex_error(lx, key_line, "expected a value after '%s ='", key);
    return false;
}

/* After a value: a newline, ';' or the end of the text. */
static bool parse_statement_end(struct lexer *lx, const char *key)
{
    struct token t = lex_next(lx);
    if (t.type == T_NEWLINE || t.type == T_SEMI || t.type == T_EOF)
        return true;
    if (t.type != T_ERROR)
        lex_error(lx, t.line, "unexpected text after the value of '%s'", key);
    tok_free(&t);
    return false;
}

static bool parse_statement(struct lexer *lx, struct token *key,
                            cfg_entry_fn fn, void *ctx)
{
    struct token eq = lex_next(lx);
    if (eq.type == T_ERROR)
        return false;
    if (eq.type != T_EQ) {
        tok_free(&eq);
        lex_error(lx, key->line, "expected '=' after '%s'", key->str);
        return false;
    }
    struct cfg_value v;
    if (!parse_value(lx, key->str, key->line, &v)) {
        cfg_value_free(&v);
        return false;
    }
    bool ok = parse_statement_end(lx, key->str);
    if (ok) {
        int line = key->line;
        if (fn(ctx, key->str, &v, &line, lx->msg, lx->msglen) != 0) {
            lx->err_line = line;
            ok = false;
        }
    }
    cfg_value_free(&v);
    return ok;
}

int cfg_parse(const char *text, size_t len, cfg_entry_fn fn, void *ctx,
              int *err_line, char *msg, size_t msglen)
{
    struct lexer lx = { .p = text, .end = text + len, .line = 1,
                        .msg = msg, .msglen = msglen, .err_line = 0 };
    for (;;) {
        struct token t = lex_next(&lx);
        if (t.type == T_EOF)
            return 0;
        if (t.type == T_NEWLINE || t.type == T_SEMI)
            continue;
        if (t.type == T_ERROR)
            break;
        if (t.type != T_IDENT) {
            tok_free(&t);
            lex_error(&lx, t.line, "expected a key at the start of a statement");
            break;
        }
        bool ok = parse_statement(&lx, &t, fn, ctx);
        tok_free(&t);
        if (!ok)
            break;
    }
    *err_line = lx.err_line;
    return -1;
}

char *cfg_escape(const char *s, bool in_string, char *buf, size_t len)
{
    size_t n = 0;
    if (!len)
        return buf;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char one[5];
        switch (c) {
        case '\n': strcpy(one, "\\n"); break;
        case '\t': strcpy(one, "\\t"); break;
        case '\r': strcpy(one, "\\r"); break;
        case '\\': strcpy(one, in_string ? "\\\\" : "\\"); break;
        case '"': strcpy(one, in_string ? "\\\"" : "\""); break;
        default:
            if (c < 0x20 || c == 0x7f)
                snprintf(one, sizeof(one), "\\x%02x", c);
            else {
                one[0] = (char)c;
                one[1] = '\0';
            }
        }
        size_t k = strlen(one);
        if (n + k >= len)
            break;
        memcpy(buf + n, one, k);
        n += k;
    }
    buf[n] = '\0';
    return buf;
}

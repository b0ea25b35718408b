/* The xl.cfg syntax, independent of which keys exist:
 *
 *   # comment
 *   key = "string" | 'string' | 123 | 0x7b | [ item, item, ]   (; or newline ends)
 *
 * Lists may span lines and end with a trailing comma; items are strings or
 * integers. The parser hands each `key = value` to a callback that knows the
 * keys (config.c). Every size is bounded (config.h limits). */
#ifndef TANDEM_DOM0_CFGPARSE_H
#define TANDEM_DOM0_CFGPARSE_H

#include <stddef.h>

enum cfg_vtype { CFG_V_STRING, CFG_V_INT, CFG_V_LIST };

struct cfg_value {
    enum cfg_vtype type;
    char *str;               /* CFG_V_STRING */
    long long num;           /* CFG_V_INT */
    struct cfg_value *items; /* CFG_V_LIST (items are strings or ints) */
    size_t n;
    int line;                /* where the value starts */
};

/* Returns 0 to go on, -1 to stop with msg filled (reported at the key's line,
 * or at *line if the callback changes it). */
typedef int (*cfg_entry_fn)(void *ctx, const char *key, const struct cfg_value *v,
                            int *line, char *msg, size_t msglen);

/* Returns 0, or -1 with *err_line (1-based) and msg set. */
int cfg_parse(const char *text, size_t len, cfg_entry_fn fn, void *ctx,
              int *err_line, char *msg, size_t msglen);

void cfg_value_free(struct cfg_value *v);

#endif

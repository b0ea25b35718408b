/* The command line of a dom0 daemon, parsed in one place for all of them
 * (tandem-blkback, tandem-netback, tandem-consoled): a table of long
 * options, each naming where its value goes. */
#ifndef TANDEM_BACKENDS_TDM_OPTS_H
#define TANDEM_BACKENDS_TDM_OPTS_H

#include <stdbool.h>
#include <stdio.h>

enum tdm_opt_kind {
    TDM_OPT_STR,   /* --name VALUE: *(const char **)dst = VALUE */
    TDM_OPT_UINT,  /* --name N, min <= N <= max: *(unsigned *)dst = N */
    TDM_OPT_SET,   /* --name: *(bool *)dst = true */
    TDM_OPT_CLEAR, /* --name: *(bool *)dst = false */
};

struct tdm_opt {
    const char *name;
    enum tdm_opt_kind kind;
    void *dst;
    unsigned min, max;
};

/* Parses argv against opts (ended by a NULL name; --help is implied).
 * 0: parsed; 1: --help, usage printed on stdout; -1: a bad option, value
 * or operand, with the reason and usage on stderr. */
int tdm_opts_parse(const char *daemon, void (*usage)(FILE *f), const struct tdm_opt *opts,
                   int argc, char **argv);

#endif

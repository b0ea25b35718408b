/* See tdm_opts.h. */
#include "tdm_opts.h"

#include <getopt.h>

#include "tdm_xskeys.h"

#define TDM_OPTS_MAX 32
#define TDM_OPT_HELP 1000

int tdm_opts_parse(const char *daemon, void (*usage)(FILE *f), const struct tdm_opt *opts,
                   int argc, char **argv)
{
    struct option lo[TDM_OPTS_MAX + 2];
    unsigned n = 0;
    int c;

    for (; opts[n].name; n++) {
        if (n == TDM_OPTS_MAX) {
            fprintf(stderr, "%s: too many options in the table\n", daemon);
            return -1;
        }
        bool arg = opts[n].kind == TDM_OPT_STR || opts[n].kind == TDM_OPT_UINT;
        lo[n] = (struct option){ opts[n].name, arg ? required_argument : no_argument, NULL,
                                 (int)n + 1 };
    }
    lo[n] = (struct option){ "help", no_argument, NULL, TDM_OPT_HELP };
    lo[n + 1] = (struct option){ 0 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'h' || c == TDM_OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (c < 1 || c > (int)n) {
            usage(stderr);
            return -1;
        }
        const struct tdm_opt *o = &opts[c - 1];
        switch (o->kind) {
        case TDM_OPT_STR: *(const char **)o->dst = optarg; break;
        case TDM_OPT_SET: *(bool *)o->dst = true; break;
        case TDM_OPT_CLEAR: *(bool *)o->dst = false; break;
        case TDM_OPT_UINT:
            if (tdm_opt_uint(daemon, o->name, optarg, o->min, o->max, o->dst) < 0)
                return -1;
            break;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", daemon, argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

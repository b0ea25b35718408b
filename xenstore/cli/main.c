/*
 * xenstore: entry point.  Picks the mode from the program name
 * (xenstore-read ...) or the first argument (xenstore read ...), parses the
 * options in one place, then runs the mode, inside a transaction where
 * Xen's client uses one (retried on EAGAIN).
 */
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "xs_common.h"

static const char *const mode_names[] = {
    [MODE_chmod] = "chmod", [MODE_exists] = "exists", [MODE_list] = "list",
    [MODE_ls] = "ls",       [MODE_read] = "read",     [MODE_rm] = "rm",
    [MODE_write] = "write", [MODE_watch] = "watch",
};

/* The usage line of each mode, after "Usage: PROG [MODE ]". */
static const char *const mode_usage[] = {
    [MODE_read] = "[-h] [-p] [-s] [-R] key [...]",
    [MODE_write] = "[-h] [-s] [-R] key value [...]",
    [MODE_rm] = "[-h] [-s] [-t] key [...]",
    [MODE_exists] = "[-h] [-p] [-s] key [...]",
    [MODE_list] = "[-h] [-p] [-s] key [...]",
    [MODE_ls] = "[-h] [-f] [-p] [-s] [path]",
    [MODE_chmod] = "[-h] [-u] [-r] [-s] key <mode [modes...]>",
    [MODE_watch] = "[-h] [-n NR] key",
};

static __attribute__((noreturn)) void usage(enum cli_mode mode, bool with_mode, const char *prog)
{
    if (mode == MODE_unknown)
        errx(1, "Usage: %s <mode> [-h] [...]", prog);
    errx(1, "Usage: %s %s%s%s", prog, with_mode ? mode_names[mode] : "",
         with_mode ? " " : "", mode_usage[mode]);
}

static enum cli_mode mode_by_name(const char *name)
{
    for (int m = MODE_chmod; m <= MODE_watch; m++)
        if (strcmp(name, mode_names[m]) == 0)
            return (enum cli_mode)m;
    errx(1, "unknown mode %s\n", name);
}

/* Which modes take which option (as Xen's client; -s and -h: all). */
static bool option_allowed(int opt, enum cli_mode m)
{
    switch (opt) {
    case 'f': return m == MODE_ls;
    case 'p': return m == MODE_read || m == MODE_list || m == MODE_ls;
    case 't': return m == MODE_rm;
    case 'u': case 'r': return m == MODE_chmod;
    case 'n': return m == MODE_watch;
    case 'R': return m == MODE_read || m == MODE_write;
    default: return true;
    }
}

static int parse_count(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno || v < INT_MIN || v > INT_MAX)
        errx(1, "invalid number of events '%s'", s);
    return (int)v;
}

/* Parses the options of argv[0..argc) into o and returns optind. */
static int parse_options(int argc, char **argv, struct cli_opts *o, bool with_mode,
                         const char *prog)
{
    static const struct option longopts[] = {
        { "help", 0, NULL, 'h' },    { "flat", 0, NULL, 'f' },
        { "prefix", 0, NULL, 'p' },  { "tidy", 0, NULL, 't' },
        { "upto", 0, NULL, 'u' },    { "recurse", 0, NULL, 'r' },
        { "number", 1, NULL, 'n' },  { "raw", 0, NULL, 'R' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "hfspturn:R", longopts, NULL)) != -1) {
        if (c == '?')
            continue; /* getopt has complained; Xen's client carries on */
        if (c == 'h' || !option_allowed(c, o->mode))
            usage(o->mode, with_mode, prog);
        switch (c) {
        case 'f':
            o->whole_path = true;
            o->max_width = INT_MAX / 2;
            o->desired_width = 0;
            break;
        case 's': o->socket = true; break;
        case 'p': o->prefix = true; break;
        case 't': o->tidy = true; break;
        case 'u': o->upto = true; break;
        case 'r': o->recurse = true; break;
        case 'n': o->nr_watches = parse_count(optarg); break;
        case 'R': o->raw = true; break;
        }
    }
    return optind;
}

/* chmod's permission list: "r5", "b0", "n12", "w3"; the first is the owner. */
static void parse_perms(struct cli_opts *o, char **args, int n)
{
    o->perms = calloc(n ? (size_t)n : 1, sizeof(*o->perms));
    if (!o->perms)
        err(1, "malloc");
    for (int i = 0; i < n; i++) {
        struct xsc_perm p;

        if (!strchr("nrwb", args[i][0]) || args[i][0] == '\0')
            errx(1, "Invalid permission specification: '%c'", args[i][0]);
        if (!xsc_perm_parse(args[i], &p))
            errx(1, "Invalid permission specification: '%s' (domain id)", args[i]);
        o->perms[i].id = p.id;
        o->perms[i].perms = p.perms;
    }
    o->nperms = (unsigned int)n;
}

/* Checks the argument count and decides on a transaction, as Xen does:
 * read and write use one only for several keys, ls and watch never. */
static bool check_args(const struct cli_opts *o, int nargs, bool with_mode, const char *prog)
{
    switch (o->mode) {
    case MODE_ls:
        return false;
    case MODE_write:
        if (nargs == 0 || nargs % 2)
            usage(o->mode, with_mode, prog);
        return nargs > 2;
    default:
        if (nargs == 0)
            usage(o->mode, with_mode, prog);
        if (o->mode == MODE_read)
            return nargs > 1;
        return o->mode != MODE_watch;
    }
}

/* ls fits its lines to the terminal, two columns narrower (Xen's rule). */
static void set_width(struct cli_opts *o)
{
    struct winsize ws;

    if (o->mode == MODE_ls && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        o->max_width = ws.ws_col - 2;
}

static int run(struct xs_handle *h, const struct cli_opts *o, bool transaction,
               char **args, int nargs)
{
    for (;;) {
        xs_transaction_t t = XBT_NULL;
        int ret;

        if (transaction) {
            t = xs_transaction_start(h);
            if (t == XBT_NULL)
                errx(1, "couldn't start transaction");
        }
        ret = cli_perform(h, t, o, args, nargs);
        if (transaction && !xs_transaction_end(h, t, ret != 0)) {
            if (ret == 0 && errno == EAGAIN) {
                out_reset();
                continue;
            }
            errx(1, "couldn't end transaction");
        }
        return ret;
    }
}

int main(int argc, char **argv)
{
    struct cli_opts o = { .nr_watches = -1, .max_width = 80, .desired_width = 60 };
    const char *prog = argv[0];
    const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
    bool with_mode = false, transaction;
    struct xs_handle *h;
    int first, ret;

    if (strncmp(base, "xenstore-", 9) == 0) {
        o.mode = mode_by_name(base + 9);
    } else {
        if (argc < 2)
            usage(MODE_unknown, false, prog);
        o.mode = mode_by_name(argv[1]);
        with_mode = true;
    }
    first = parse_options(argc - with_mode, argv + with_mode, &o, with_mode, prog) + with_mode;
    transaction = check_args(&o, argc - first, with_mode, prog);
    if (o.mode == MODE_chmod)
        parse_perms(&o, argv + first + 1, argc - first - 1);
    set_width(&o);

    h = xs_open(o.socket ? XS_OPEN_SOCKETONLY : 0);
    if (!h)
        err(1, "xs_open");
    if (o.mode == MODE_watch)
        ret = cli_watch(h, &o, argv + first, argc - first);
    else
        ret = run(h, &o, transaction, argv + first, argc - first);
    out_flush();
    free(o.perms);
    xs_close(h);
    return ret;
}

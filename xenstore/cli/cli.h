/*
 * The xenstore command: one binary, run as `xenstore MODE ...` or through
 * the xenstore-MODE links, with the options and output of Xen 4.17's
 * xenstore-utils.
 */
#ifndef TANDEM_XS_CLI_H
#define TANDEM_XS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>

/* Numbered as in Xen's client (alphabetical), which keeps the option
 * tables below easy to compare. */
enum cli_mode {
    MODE_unknown,
    MODE_chmod,
    MODE_exists,
    MODE_list,
    MODE_ls,
    MODE_read,
    MODE_rm,
    MODE_write,
    MODE_watch,
};

struct cli_opts {
    enum cli_mode mode;
    bool prefix;     /* -p: read/list prefix the key, ls shows permissions */
    bool tidy;       /* -t: rm also removes empty parents */
    bool upto;       /* -u: chmod also the parents */
    bool recurse;    /* -r: chmod also the children */
    bool raw;        /* -R: no escaping in read/write */
    bool socket;     /* -s: accepted, ignored as by Xen 4.17 */
    bool whole_path; /* -f: ls prints full paths */
    int nr_watches;  /* -n: events to print, -1 for no limit */
    int max_width;   /* ls: line width */
    int desired_width; /* ls -p: column where permissions start */
    struct xs_permissions *perms; /* chmod: parsed permission list */
    unsigned int nperms;
};

/* output.c: text collected during a transaction, printed once it commits
 * (a retried transaction starts over). */
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_raw(const void *data, size_t len);
void out_reset(void);
void out_flush(void);

/* escape.c: Xen's value quoting.  cli_escape returns a malloc()ed string
 * (printable ASCII stays, \t \n \r \\ are named, bytes below 8 become \ooo
 * and the rest \xHH).  cli_unescape writes at most strlen(in)+1 bytes. */
char *cli_escape(const char *val, size_t len);
size_t cli_unescape(char *out, const char *in);

/* ls.c */
void cli_ls(struct xs_handle *h, const char *path, const struct cli_opts *o);

/* modes.c: runs the mode on args inside transaction t; 0 or 1 (failure,
 * already reported). */
int cli_perform(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                char **args, int nargs);
int cli_watch(struct xs_handle *h, const struct cli_opts *o, char **args, int nargs);

#endif

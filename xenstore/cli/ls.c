/*
 * xenstore-ls: the tree below a path, one node a line, in the layout of
 * Xen's client: indentation by depth (or full paths with -f), values quoted
 * and cut to the line width, and with -p the permissions in a dotted
 * column.
 */
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for the longest valid path plus slack, as Xen sizes it. */
#define LS_PATH_MAX (XENSTORE_ABS_PATH_MAX + 1024)
/* No valid node is deeper: every level adds at least "/x". */
#define LS_DEPTH_MAX (XENSTORE_ABS_PATH_MAX / 2)
/* What a cut value ends with: ` = "...\..."`. */
#define LS_TAG_LEN ((int)sizeof(" = \"...\"") - 1)

static void print_perms(struct xs_handle *h, const char *path, const char *name)
{
    unsigned int n;
    struct xs_permissions *perms = xs_get_permissions(h, XBT_NULL, path, &n);

    if (!perms) {
        warn("\ncould not access permissions for %s", name);
        return;
    }
    fputs("  (", stdout);
    for (unsigned int i = 0; i < n; i++) {
        char buf[MAX_STRLEN(unsigned int) + 1];

        if (i)
            putchar(',');
        if (xs_perm_to_string(&perms[i], buf, sizeof(buf)))
            fputs(buf, stdout);
    }
    putchar(')');
    free(perms);
}

/* Prints ` = "value"` (cut to the width) and returns the new line width. */
static int print_value(const char *val, unsigned int len, int linewid,
                       const struct cli_opts *o)
{
    char *shown = cli_escape(val, len);

    if (o->max_width < linewid + (int)len + LS_TAG_LEN) {
        printf(" = \"%.*s\\...\"", o->max_width - LS_TAG_LEN - linewid, shown);
    } else {
        linewid += printf(" = \"%s\"", shown);
        if (o->prefix) {
            int stop = o->desired_width < o->max_width ? o->desired_width : o->max_width;

            putchar(' ');
            /* Alternating dots lead the eye to the permission column. */
            for (linewid++; linewid < stop; linewid++)
                putchar((linewid & 1) ? '.' : ' ');
        }
    }
    free(shown);
    return linewid;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A daemon's DIRECTORY reply is checked before we recurse into it: an
 * empty name, one with a '/', or a name given twice would make us walk the
 * same node again (forever, against a daemon that lies). */
static void check_names(const char *path, char **names, unsigned int num)
{
    char **sorted;

    for (unsigned int i = 0; i < num; i++)
        if (!names[i][0] || strchr(names[i], '/'))
            errx(1, "xs_directory (%s): the daemon sent an invalid child name \"%s\"", path,
                 names[i]);
    if (num < 2)
        return;
    sorted = malloc(num * sizeof(*sorted));
    if (!sorted)
        err(1, "malloc in do_ls");
    memcpy(sorted, names, num * sizeof(*sorted));
    qsort(sorted, num, sizeof(*sorted), cmp_name);
    for (unsigned int i = 1; i < num; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            errx(1, "xs_directory (%s): the daemon sent child \"%s\" twice", path, sorted[i]);
    free(sorted);
}

static void ls_node(struct xs_handle *h, const char *path, int depth,
                    const struct cli_opts *o, char *newpath)
{
    unsigned int num;
    char **names = xs_directory(h, XBT_NULL, path, &num);
    size_t plen = strlen(path);
    const char *sep = (plen && path[plen - 1] == '/') ? "" : "/";

    if (!names) {
        /* A node that vanished while we walked is not an error. */
        if (depth && (errno == ENOENT || errno == EACCES))
            return;
        err(1, "xs_directory (%s)", path);
    }
    check_names(path, names, num);
    if (num && (depth >= LS_DEPTH_MAX || strlen(path) + 2 > XENSTORE_ABS_PATH_MAX))
        errx(1, "xs_directory (%s): the daemon lists children deeper than any valid path "
             "(%d levels)", path, depth);
    for (unsigned int i = 0; i < num; i++) {
        int n = snprintf(newpath, LS_PATH_MAX, "%s%s%s", path, sep, names[i]);
        int linewid = 0;
        unsigned int len = 0;
        char *val = NULL;

        if (o->whole_path) {
            fputs(newpath, stdout);
        } else {
            for (; linewid < depth; linewid++)
                putchar(' ');
            linewid += printf("%.*s", o->max_width - LS_TAG_LEN - linewid, names[i]);
        }
        if (n < LS_PATH_MAX) /* a cut path names no node */
            val = xs_read(h, XBT_NULL, newpath, &len);
        if (!val)
            printf(":\n");
        else
            print_value(val, len, linewid, o);
        free(val);
        if (o->prefix)
            print_perms(h, newpath, names[i]);
        putchar('\n');
        /* newpath is reused by the child, so hand it a copy. */
        {
            char *child = strdup(newpath);

            if (!child)
                err(1, "malloc in do_ls");
            ls_node(h, child, depth + 1, o, newpath);
            free(child);
        }
    }
    free(names);
}

void cli_ls(struct xs_handle *h, const char *path, const struct cli_opts *o)
{
    char *newpath = malloc(LS_PATH_MAX);

    if (!newpath)
        err(1, "malloc in do_ls");
    ls_node(h, path, 0, o, newpath);
    free(newpath);
}

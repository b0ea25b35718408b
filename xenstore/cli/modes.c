/*
 * The modes that run inside one transaction (read, write, rm, exists,
 * list, chmod) plus ls and watch, with the messages of Xen's client.
 */
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int do_read(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                   const char *key)
{
    unsigned int len;
    char *val = xs_read(h, t, key, &len);

    if (!val) {
        warnx("couldn't read path %s", key);
        return 1;
    }
    if (o->prefix)
        out_printf("%s: ", key);
    if (o->raw) {
        out_raw(val, len);
    } else {
        char *shown = cli_escape(val, len);
        out_printf("%s\n", shown);
        free(shown);
    }
    free(val);
    return 0;
}

static int do_write(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                    const char *key, const char *spec)
{
    size_t len = strlen(spec);
    char *val = malloc(len + 1);
    bool ok;

    if (!val)
        err(1, "malloc");
    if (o->raw)
        memcpy(val, spec, len + 1);
    else
        len = cli_unescape(val, spec);
    ok = len <= XENSTORE_PAYLOAD_MAX && xs_write(h, t, key, val, (unsigned int)len);
    free(val);
    if (!ok) {
        warnx("could not write path %s", key);
        return 1;
    }
    return 0;
}

static int remove_one(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    if (xs_rm(h, t, path))
        return 0;
    warnx("could not remove path %s", path);
    return 1;
}

/* True if path has an empty value and no children. */
static bool is_empty_dir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned int len, num = 1;
    char *val = xs_read(h, t, path, &len);
    char **names = NULL;

    if (val && len == 0)
        names = xs_directory(h, t, path, &num);
    free(val);
    free(names);
    return names && num == 0;
}

/* -t: after removing path, remove each parent that is now empty. */
static int do_rm(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                 const char *key)
{
    char *path, *slash;
    int ret = 0;

    if (!o->tidy)
        return remove_one(h, t, key);
    path = strdup(key);
    if (!path)
        err(1, "malloc");
    for (;;) {
        if (remove_one(h, t, path)) {
            ret = 1;
            break;
        }
        slash = strrchr(path, '/');
        if (!slash)
            break;
        *slash = '\0';
        if (!is_empty_dir(h, t, path))
            break;
    }
    free(path);
    return ret;
}

static int do_list(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                   const char *key)
{
    unsigned int num;
    char **names = xs_directory(h, t, key, &num);

    if (!names) {
        warnx("could not list path %s", key);
        return 1;
    }
    for (unsigned int i = 0; i < num; i++) {
        if (o->prefix)
            out_printf("%s/", key);
        out_printf("%s\n", names[i]);
    }
    free(names);
    return 0;
}

/* Sets the permissions on path, then (-u) on each parent and (-r) on
 * every node below. */
static void do_chmod(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                     char *path, bool upto, bool recurse)
{
    if (!path[0])
        return;
    if (!xs_set_permissions(h, t, path, o->perms, o->nperms))
        err(1, "Error occurred setting permissions on '%s'", path);
    if (upto) {
        char *slash = strrchr(path, '/');

        if (!slash)
            errx(1, "Unable to locate path separator '%c' in '%s'", '/', path);
        *slash = '\0';
        do_chmod(h, t, o, path, true, false);
        *slash = '/';
    }
    if (recurse) {
        unsigned int num;
        char **names = xs_directory(h, t, path, &num);

        for (unsigned int i = 0; names && i < num; i++) {
            char *child;

            if (asprintf(&child, "%s/%s", path, names[i]) < 0)
                err(1, "malloc");
            do_chmod(h, t, o, child, false, true);
            free(child);
        }
        free(names);
    }
}

int cli_perform(struct xs_handle *h, xs_transaction_t t, const struct cli_opts *o,
                char **args, int nargs)
{
    switch (o->mode) {
    case MODE_write:
        for (int i = 0; i + 1 < nargs; i += 2)
            if (do_write(h, t, o, args[i], args[i + 1]))
                return 1;
        return 0;
    case MODE_chmod: {
        char *path = strdup(args[0]); /* -u cuts it at each '/' */

        if (!path)
            err(1, "malloc");
        do_chmod(h, t, o, path, o->upto, o->recurse);
        free(path);
        return 0;
    }
    case MODE_ls:
        if (nargs == 0)
            cli_ls(h, "/", o);
        for (int i = 0; i < nargs; i++)
            cli_ls(h, args[i], o);
        return 0;
    default:
        break;
    }
    for (int i = 0; i < nargs; i++) {
        int ret = 0;
        char *val;

        switch (o->mode) {
        case MODE_read: ret = do_read(h, t, o, args[i]); break;
        case MODE_rm: ret = do_rm(h, t, o, args[i]); break;
        case MODE_list: ret = do_list(h, t, o, args[i]); break;
        case MODE_exists:
            val = xs_read(h, t, args[i], NULL);
            ret = val == NULL;
            free(val);
            break;
        default: break;
        }
        if (ret)
            return ret;
    }
    return 0;
}

/* Registers a watch on every key (token = key) and prints the path of
 * each event, flushing so that a reader of the pipe sees it at once. */
int cli_watch(struct xs_handle *h, const struct cli_opts *o, char **args, int nargs)
{
    for (int i = 0; i < nargs; i++)
        if (!xs_watch(h, args[i], args[i]))
            errx(1, "Unable to add watch on %s\n", args[i]);
    for (int count = 0; o->nr_watches < 0 || count < o->nr_watches; count++) {
        unsigned int num;
        char **vec = xs_read_watch(h, &num);

        if (!vec) {
            /* Xen loops here; a dead connection would spin forever. */
            if (errno == EINTR || errno == EAGAIN)
                continue;
            err(1, "xs_read_watch");
        }
        printf("%s\n", vec[XS_WATCH_PATH]);
        fflush(stdout);
        free(vec);
    }
    return 0;
}

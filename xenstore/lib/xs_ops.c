/* Node operations: read, write, mkdir, rm, directory, permissions and
 * transactions. */
#include "xs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_common.h"

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
    return xs_single(h, t, XS_READ, path, len);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
              const void *data, unsigned int len)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)path, .iov_len = strlen(path) + 1 },
        { .iov_base = (void *)data, .iov_len = len },
    };

    return xs_reply_ok(xs_talkv(h, t, XS_WRITE, iov, 2, NULL));
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_reply_ok(xs_single(h, t, XS_MKDIR, path, NULL));
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_reply_ok(xs_single(h, t, XS_RM, path, NULL));
}

/* Turns a block of NUL-terminated names into one malloc()ed block holding
 * the pointer array followed by the strings. */
static char **split_strings(char *strings, unsigned int len, unsigned int *num)
{
    unsigned int n = xsc_count_strings(strings, len);
    char **vec = malloc(sizeof(char *) * (n + 1) + len);
    char *p;

    if (!vec) {
        free(strings);
        errno = ENOMEM;
        return NULL;
    }
    p = (char *)(vec + n + 1);
    memcpy(p, strings, len);
    free(strings);
    for (unsigned int i = 0; i < n; i++) {
        vec[i] = p;
        p += strlen(p) + 1;
    }
    vec[n] = NULL;
    *num = n;
    return vec;
}

/* A daemon that keeps changing the directory under us gets this many
 * fresh starts before we give up with EAGAIN. */
#define DIRECTORY_PART_RESTARTS 64

/* Appends one XS_DIRECTORY_PART reply ("<gen>\0<names>") to *acc; returns
 * 1 when the list is complete, 0 when more follows, -1 on bad data. */
static int append_part(char **acc, unsigned int *used, const char *reply,
                       unsigned int rlen, char *gen, size_t gensize)
{
    size_t glen = strnlen(reply, rlen);
    unsigned int plen;
    char *grown;

    if (glen == rlen || glen >= gensize)
        return -1;
    if (*used == 0)
        memcpy(gen, reply, glen + 1);
    plen = rlen - (unsigned int)glen - 1;
    /* An empty part before the end would make us ask for the same offset
     * forever. */
    if (plen == 0 && *used > 1)
        return -1;
    if (*used + plen > 64u * 1024 * 1024)
        return -1; /* no directory is that big: refuse unbounded growth */
    grown = realloc(*acc, *used + plen + 1);
    if (!grown)
        return -1;
    *acc = grown;
    memcpy(*acc + *used, reply + glen + 1, plen);
    *used += plen;
    /* The last part ends with an empty name, i.e. two NULs in a row. */
    return (*used <= 1 || (*acc)[*used - 2] == '\0') ? 1 : 0;
}

/* Fetches a directory too large for one reply, part by part, restarting
 * when its generation changes.  Returns the names (without the final empty
 * one) and their byte count. */
static char *directory_parts(struct xs_handle *h, xs_transaction_t t,
                             const char *path, unsigned int *len)
{
    char gen[32] = "", offstr[16], *acc = NULL;
    unsigned int used = 0;
    int restarts = 0;

    for (;;) {
        struct iovec iov[2] = { { (void *)path, strlen(path) + 1 }, { offstr, 0 } };
        unsigned int rlen;
        char *reply;
        int done;

        iov[1].iov_len = (size_t)snprintf(offstr, sizeof(offstr), "%u", used) + 1;
        reply = xs_talkv(h, t, XS_DIRECTORY_PART, iov, 2, &rlen);
        if (!reply) {
            if (errno == ENOSYS)
                errno = E2BIG; /* daemon without DIRECTORY_PART */
            free(acc);
            return NULL;
        }
        if (used && strcmp(gen, reply) != 0) {
            free(reply);
            used = 0;
            if (++restarts > DIRECTORY_PART_RESTARTS) {
                free(acc);
                errno = EAGAIN;
                return NULL;
            }
            continue;
        }
        done = append_part(&acc, &used, reply, rlen, gen, sizeof(gen));
        free(reply);
        if (done < 0) {
            free(acc);
            errno = EIO;
            return NULL;
        }
        if (done) {
            *len = used ? used - 1 : 0;
            return acc;
        }
    }
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
                    unsigned int *num)
{
    unsigned int len;
    char *strings = xs_single(h, t, XS_DIRECTORY, path, &len);

    if (!strings) {
        if (errno != E2BIG)
            return NULL;
        strings = directory_parts(h, t, path, &len);
        if (!strings)
            return NULL;
    }
    return split_strings(strings, len, num);
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h, xs_transaction_t t,
                                          const char *path, unsigned int *num)
{
    unsigned int len, n;
    struct xs_permissions *perms;
    char *strings = xs_single(h, t, XS_GET_PERMS, path, &len);

    if (!strings)
        return NULL;
    n = xsc_count_strings(strings, len);
    perms = malloc(sizeof(*perms) * (n ? n : 1));
    if (!perms) {
        free(strings);
        errno = ENOMEM;
        return NULL;
    }
    if (!xs_strings_to_perms(perms, n, strings)) {
        free(perms);
        perms = NULL;
    } else {
        *num = n;
    }
    free(strings);
    return perms;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
                        struct xs_permissions *perms, unsigned int num_perms)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t used = 0;
    struct iovec iov[2] = { { (void *)path, strlen(path) + 1 }, { buf, 0 } };

    for (unsigned int i = 0; i < num_perms; i++) {
        char one[MAX_STRLEN(unsigned int) + 1];
        size_t n;

        if (!xs_perm_to_string(&perms[i], one, sizeof(one)))
            return false;
        n = strlen(one) + 1;
        if (used + n > sizeof(buf)) {
            errno = E2BIG;
            return false;
        }
        memcpy(buf + used, one, n);
        used += n;
    }
    iov[1].iov_len = used;
    return xs_reply_ok(xs_talkv(h, t, XS_SET_PERMS, iov, 2, NULL));
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
    char *id = xs_single(h, XBT_NULL, XS_TRANSACTION_START, "", NULL);
    unsigned long t;
    char *end;

    if (!id)
        return XBT_NULL;
    t = strtoul(id, &end, 0);
    if (end == id || *end != '\0' || t == XBT_NULL || t > UINT32_MAX) {
        free(id);
        errno = EIO; /* the daemon sent no usable transaction id */
        return XBT_NULL;
    }
    free(id);
    return (xs_transaction_t)t;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
    return xs_reply_ok(xs_single(h, t, XS_TRANSACTION_END, abort ? "F" : "T", NULL));
}

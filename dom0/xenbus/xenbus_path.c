/* Device directory paths: parsing backend paths and finding the other end.
 * Values read from xenstore are checked before anyone builds on them: a
 * frontend directory is writable by its guest. */
#include "tdm_xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKEND_PREFIX "/local/domain/0/backend/"
#define MAX_DOMID 0x7FEFu          /* below DOMID_FIRST_RESERVED */

/* Strict decimal: digits only, no leading zero (except "0"), <= max.
 * Returns the number of characters used, 0 if none valid. */
static size_t parse_dec(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    size_t i = 0;

    while (s[i] >= '0' && s[i] <= '9') {
        if (i > 0 && v == 0)
            return 0;                         /* leading zero */
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > max)
            return 0;
        i++;
    }
    if (i == 0)
        return 0;
    *out = v;
    return i;
}

static bool type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int tdm_xenbus_parse_backend_path(const char *path, struct tdm_xenbus_backend_id *id)
{
    const char *p = path;
    unsigned long fe, dev;
    size_t n = 0, k;

    if (strncmp(p, BACKEND_PREFIX, strlen(BACKEND_PREFIX)) != 0)
        return -1;
    p += strlen(BACKEND_PREFIX);
    while (type_char(p[n]))
        n++;
    if (n == 0 || n >= sizeof(id->type) || p[n] != '/')
        return -1;
    memcpy(id->type, p, n);
    id->type[n] = '\0';
    p += n + 1;
    if (!(k = parse_dec(p, MAX_DOMID, &fe)) || p[k] != '/')
        return -1;
    p += k + 1;
    if (!(k = parse_dec(p, 0xFFFFFFFFul, &dev)) || (p[k] != '\0' && p[k] != '/'))
        return -1;
    id->frontend_id = (unsigned)fe;
    id->devid = (unsigned)dev;
    id->dir_len = (size_t)(p + k - path);
    return 0;
}

/* A well-formed absolute xenstore path (xenstore.txt's character set). */
static bool valid_path(const char *s, unsigned len)
{
    if (len == 0 || len >= XENSTORE_ABS_PATH_MAX || s[0] != '/' || s[len - 1] == '/')
        return false;
    for (unsigned i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '/' || c == '_' || c == '@'))
            return false;
        if (c == '/' && i > 0 && s[i - 1] == '/')
            return false;
    }
    return true;
}

static char *read_node(struct xs_handle *h, xs_transaction_t t, const char *dir,
                       const char *name, unsigned *len)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *v;

    if (n < 0 || (size_t)n >= sizeof(path)) {
        tdm_set_error(ENAMETOOLONG, "xenbus: %.60s...: path too long", dir);
        return NULL;
    }
    v = xs_read(h, t, path, len);
    if (!v)
        tdm_set_error(errno, "xenbus: read %s: %s", path, strerror(errno));
    return v;
}

/* The other end's domid, from the <which>-id node. */
static int read_domid(struct xs_handle *h, xs_transaction_t t, const char *dir,
                      const char *which, unsigned *domid)
{
    char name[32];
    unsigned len;
    unsigned long v = 0;
    char *s;
    int rc = 0;

    snprintf(name, sizeof(name), "%s-id", which);
    s = read_node(h, t, dir, name, &len);
    if (!s)
        return -1;
    if (len == 0 || strlen(s) != len || parse_dec(s, MAX_DOMID, &v) != len)
        rc = tdm_set_error(EINVAL, "xenbus: %s/%s = '%.20s' is not a domain id", dir, name, s);
    else
        *domid = (unsigned)v;
    free(s);
    return rc;
}

int tdm_xenbus_read_otherend(struct xs_handle *h, xs_transaction_t t, const char *dir,
                             const char *which, char **path, unsigned *domid)
{
    const char *kind;
    char prefix[64];
    unsigned len;
    char *s;

    if (strcmp(which, "frontend") == 0)
        kind = "device";
    else if (strcmp(which, "backend") == 0)
        kind = "backend";
    else
        return tdm_set_error(EINVAL, "xenbus: other end '%s' is neither frontend nor backend", which);
    if (read_domid(h, t, dir, which, domid) < 0)
        return -1;
    s = read_node(h, t, dir, which, &len);
    if (!s)
        return -1;
    snprintf(prefix, sizeof(prefix), "/local/domain/%u/%s/", *domid, kind);
    if (strlen(s) != len || !valid_path(s, len) || strncmp(s, prefix, strlen(prefix)) != 0) {
        tdm_set_error(EINVAL, "xenbus: %s/%s = '%.60s' is not a path under %s", dir, which, s, prefix);
        free(s);
        return -1;
    }
    *path = s;
    return 0;
}

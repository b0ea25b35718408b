/* xenstore numbers (see tdm_xskeys.h). */
#include "tdm_xskeys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tdm_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9 || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int tdm_opt_uint(const char *daemon, const char *name, const char *arg, unsigned min,
                 unsigned max, unsigned *out)
{
    uint64_t v;

    if (tdm_parse_uint(arg, strlen(arg), max, &v) < 0 || v < min) {
        fprintf(stderr, "%s: --%s: \"%s\" is not a number in %u..%u\n", daemon, name, arg, min,
                max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int tdm_xs_read_uint(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                     uint64_t dflt, uint64_t *out, char *err, size_t errlen)
{
    char path[256];
    unsigned len;
    char *v;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (!v) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "reading %s: %s", path, strerror(errno));
            return -1;
        }
        *out = dflt;
        return 0;
    }
    rc = tdm_parse_uint(v, len, max, out);
    if (rc < 0)
        snprintf(err, errlen, "%s: \"%.32s\" is not a number up to %llu", path, v,
                 (unsigned long long)max);
    free(v);
    return rc < 0 ? -1 : 1;
}

int tdm_xs_need_uint(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                     uint64_t *out, char *err, size_t errlen)
{
    int rc = tdm_xs_read_uint(xs, dir, key, max, 0, out, err, errlen);

    if (rc == 0)
        snprintf(err, errlen, "%s/%s missing", dir, key);
    return rc > 0 ? 0 : -1;
}

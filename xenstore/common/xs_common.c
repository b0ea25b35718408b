/* Wire helpers shared by xenstored and libxenstore (see xs_common.h). */
#include "xs_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSC_ERR_ENTRY(x) { x, #x },
static const struct xsd_errors xsc_errors[] = { XSD_ERROR_LIST(XSC_ERR_ENTRY) };

_Static_assert(sizeof(xsc_errors) / sizeof(xsc_errors[0]) == XSC_NR_ERRORS,
               "xsd error table size");

bool xsc_error_known(int err)
{
    for (size_t i = 0; i < XSC_NR_ERRORS; i++)
        if (xsc_errors[i].errnum == err)
            return true;
    return false;
}

const char *xsc_error_name(int err)
{
    for (size_t i = 0; i < XSC_NR_ERRORS; i++)
        if (xsc_errors[i].errnum == err)
            return xsc_errors[i].errstring;
    return "EINVAL";
}

int xsc_error_from_name(const char *name)
{
    for (size_t i = 0; i < XSC_NR_ERRORS; i++)
        if (strcmp(name, xsc_errors[i].errstring) == 0)
            return xsc_errors[i].errnum;
    return EINVAL;
}

unsigned int xsc_count_strings(const char *buf, size_t len)
{
    unsigned int n = 0;
    const char *p = buf, *end = buf + len;

    while (p < end && (p = memchr(p, '\0', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

bool xsc_perm_parse(const char *s, struct xsc_perm *out)
{
    char *end;
    long id;

    switch (s[0]) {
    case 'r': out->perms = XSC_PERM_READ; break;
    case 'w': out->perms = XSC_PERM_WRITE; break;
    case 'b': out->perms = XSC_PERM_BOTH; break;
    case 'n': out->perms = XSC_PERM_NONE; break;
    default: return false;
    }
    if (s[1] == '\0')
        return false;
    errno = 0;
    id = strtol(s + 1, &end, 0);
    if (*end != '\0' || errno != 0)
        return false;
    out->id = (unsigned int)id;
    return true;
}

bool xsc_strings_to_perms(struct xsc_perm *perms, unsigned int num, const char *strings)
{
    const char *p = strings;

    for (unsigned int i = 0; i < num; i++) {
        if (!xsc_perm_parse(p, &perms[i]))
            return false;
        p += strlen(p) + 1;
    }
    return true;
}

int xsc_perm_format(const struct xsc_perm *perm, char *buf, size_t size)
{
    static const char letters[] = { 'n', 'r', 'w', 'b' };
    unsigned int bits = perm->perms & ~XSC_PERM_IGNORE;
    int n;

    if (bits > XSC_PERM_BOTH)
        return -1;
    n = snprintf(buf, size, "%c%i", letters[bits], (int)perm->id);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return n;
}

bool xsc_valid_chars(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-/_@";
    return s[strspn(s, ok)] == '\0';
}

bool xsc_valid_name(const char *path, bool allow_special)
{
    size_t len = strlen(path);

    if (path[0] != '/' && !(allow_special && path[0] == '@'))
        return false;
    if (len > 1 && path[len - 1] == '/')
        return false;
    if (strstr(path, "//"))
        return false;
    return xsc_valid_chars(path);
}

bool xsc_valid_path(const char *path, bool allow_special)
{
    return strlen(path) <= XENSTORE_ABS_PATH_MAX && xsc_valid_name(path, allow_special);
}

size_t xsc_path_rel_len(const char *path)
{
    static const char prefix[] = "/local/domain/";
    const size_t plen = sizeof(prefix) - 1;
    size_t len = strlen(path), i = plen;

    if (strncmp(path, prefix, plen) != 0)
        return len;
    /* Xen: sscanf("/local/domain/%5u/%n"): up to 5 digits, then '/'. */
    while (i < len && i < plen + 5 && path[i] >= '0' && path[i] <= '9')
        i++;
    if (i == plen || path[i] != '/')
        return len;
    return len - (i + 1);
}

bool xsc_path_is_subpath(const char *parent, const char *child)
{
    size_t plen = strlen(parent), clen = strlen(child);

    if (clen < plen || memcmp(child, parent, plen) != 0)
        return false;
    return clen == plen || child[plen] == '/';
}

bool xsc_is_child(const char *child, const char *parent)
{
    if (parent[0] == '/' && parent[1] == '\0')
        return true;
    return xsc_path_is_subpath(parent, child);
}

bool xsc_parse_domid(const char *s, unsigned int *domid)
{
    unsigned long v = 0;

    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return false;
    }
    *domid = (unsigned int)v;
    return true;
}

int xsc_domain_path(unsigned int domid, char *buf, size_t size)
{
    int n = snprintf(buf, size, "/local/domain/%u", domid);

    if (n < 0 || (size_t)n >= size)
        return -1;
    return n;
}

int xsc_check_header(const struct xsd_sockmsg *hdr)
{
    return hdr->len > XENSTORE_PAYLOAD_MAX ? E2BIG : 0;
}

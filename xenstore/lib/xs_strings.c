/*
 * Xen's public string helpers, as thin wrappers over xenstore/common (the
 * one implementation the daemon uses too), adding Xen's errno behaviour.
 */
#include "xs_internal.h"

#include <errno.h>
#include <unistd.h>

#include "xs_common.h"

_Static_assert(sizeof(struct xs_permissions) == sizeof(struct xsc_perm),
               "xs_permissions and xsc_perm share a layout");
_Static_assert(XS_PERM_READ == XSC_PERM_READ && XS_PERM_WRITE == XSC_PERM_WRITE &&
               XS_PERM_IGNORE == XSC_PERM_IGNORE, "permission bits");

unsigned int xs_count_strings(const char *strings, unsigned int len)
{
    return xsc_count_strings(strings, len);
}

bool xs_strings_to_perms(struct xs_permissions *perms, unsigned int num,
                         const char *strings)
{
    if (!xsc_strings_to_perms((struct xsc_perm *)perms, num, strings)) {
        errno = EINVAL;
        return false;
    }
    return true;
}

bool xs_perm_to_string(const struct xs_permissions *perm, char *buffer, size_t buf_len)
{
    if (xsc_perm_format((const struct xsc_perm *)perm, buffer, buf_len) < 0) {
        errno = EINVAL;
        return false;
    }
    return true;
}

bool xs_path_is_subpath(const char *parent, const char *child)
{
    return xsc_path_is_subpath(parent, child);
}

bool xs_write_all(int fd, const void *data, unsigned int len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return false;
        }
        p += n;
        len -= (unsigned int)n;
    }
    return true;
}

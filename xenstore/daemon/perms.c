/* Node permissions as Xen: the first entry names the owner and the default
 * for everyone else, later entries grant r/w/b/n to single domains; the
 * owner, its SET_TARGET device model and privileged connections get all. */
#include "xenstored.h"

bool conn_privileged(const struct conn *c)
{
    return c->id == 0;
}

unsigned int perm_for_conn(const struct conn *c, const struct xsc_perm *perms, uint32_t n)
{
    const unsigned int all = XSC_PERM_READ | XSC_PERM_WRITE | XSD_PERM_OWNER;

    if (conn_privileged(c) || perms[0].id == c->id ||
        (c->has_target && perms[0].id == c->target))
        return all;
    for (uint32_t i = 1; i < n; i++) {
        if (perms[i].perms & XSC_PERM_IGNORE)
            continue;
        if (perms[i].id == c->id || (c->has_target && perms[i].id == c->target))
            return perms[i].perms & all;
    }
    return perms[0].perms & all;
}

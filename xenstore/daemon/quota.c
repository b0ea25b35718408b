/* Quotas with the defaults of Xen 4.17's xenstored; changed by options and
 * by CONTROL quota set.  They bind unprivileged domains only, as in Xen. */
#include <string.h>

#include "xenstored.h"

const struct xsd_quota_def xsd_quota_defs[Q_COUNT] = {
    [Q_NODES] = { "nodes", 1000, "Nodes per domain" },
    [Q_NODE_SIZE] = { "node-size", 2048, "Max. size of a node" },
    [Q_PERMS] = { "permissions", 5, "Max. number of permissions per node" },
    [Q_WATCHES] = { "watches", 128, "Watches per domain" },
    [Q_TRANSACTIONS] = { "transactions", 10, "Transactions per domain" },
    [Q_OUTSTANDING] = { "outstanding", 20, "Outstanding requests per domain" },
    [Q_TX_NODES] = { "transaction-nodes", 1024, "Max. number of accessed nodes per transaction" },
    [Q_PATH_MAX] = { "path-max", XENSTORE_REL_PATH_MAX, "Max. length of a node path" },
};

int xsd_quota[Q_COUNT];

void quota_reset(void)
{
    for (int i = 0; i < Q_COUNT; i++)
        xsd_quota[i] = xsd_quota_defs[i].def;
}

int quota_by_name(const char *name)
{
    /* Later Xen releases' spellings of the same quotas. */
    static const struct { const char *alias; int q; } aliases[] = {
        { "node-permissions", Q_PERMS }, { "path-length", Q_PATH_MAX },
    };

    for (int i = 0; i < Q_COUNT; i++)
        if (strcmp(name, xsd_quota_defs[i].name) == 0)
            return i;
    for (size_t i = 0; i < XSD_ARRAY_SIZE(aliases); i++)
        if (strcmp(name, aliases[i].alias) == 0)
            return aliases[i].q;
    return -1;
}

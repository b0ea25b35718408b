/* `tandem domid NAME` and `tandem domname ID`, as xl's. */
#include "cmds.h"
#include "domain.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

#include <stdio.h>
#include <string.h>

static struct xs_handle *open_store(void)
{
    return xsd_available() ? store_open(false) : NULL;
}

int cmd_domid(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tandem domid NAME\n");
        return EXIT_BADINPUT;
    }
    struct xs_handle *xs = open_store();
    unsigned id;
    int rc = 0;
    if (!strcmp(argv[1], "Domain-0"))
        id = 0;
    else if (domain_resolve(xs, argv[1], &id) < 0)
        rc = 1;
    if (rc == 0)
        printf("%u\n", id);
    store_close(xs);
    return rc;
}

int cmd_domname(int argc, char **argv)
{
    unsigned id;
    if (argc != 2 || !parse_domid(argv[1], &id, true)) {
        fprintf(stderr, "usage: tandem domname DOMID\n");
        return EXIT_BADINPUT;
    }
    if (id == 0) {
        printf("Domain-0\n");
        return 0;
    }
    struct xs_handle *xs = open_store();
    struct domain_info d;
    int rc = 0;
    if (!domain_query(xs, id, &d) || !d.name[0]) {
        msg("no domain with domid %u", id);
        rc = 1;
    } else {
        printf("%s\n", d.name);
    }
    store_close(xs);
    return rc;
}

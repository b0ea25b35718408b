/* `tandem console [-t pv|serial] DOM`: attach to a domain's console, as xl's. */
#include "cmds.h"
#include "console.h"
#include "domain.h"
#include "store.h"
#include "util.h"
#include "xsd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_console(int argc, char **argv)
{
    int opt;
    enum console_type type = CONSOLE_ANY;   /* pv if the domain has one, as xl */
    optind = 1;
    while ((opt = getopt(argc, argv, "+t:n:h")) != -1) {
        switch (opt) {
        case 't':
            if (!strcmp(optarg, "pv")) {
                type = CONSOLE_PV;
            } else if (!strcmp(optarg, "serial")) {
                type = CONSOLE_SERIAL;
            } else {
                msg("console type '%s': 'pv' or 'serial'", optarg);
                return EXIT_BADINPUT;
            }
            break;
        case 'n':
            if (strcmp(optarg, "0")) {
                msg("console number %s: a domain has one console (0)", optarg);
                return EXIT_BADINPUT;
            }
            break;
        case 'h':
            printf("usage: tandem console [-t pv|serial] [-n 0] DOM   (Ctrl-] detaches)\n");
            return 0;
        default:
            fprintf(stderr, "usage: tandem console [-t pv|serial] [-n 0] DOM\n");
            return EXIT_BADINPUT;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: tandem console [-t pv|serial] [-n 0] DOM\n");
        return EXIT_BADINPUT;
    }
    if (!xsd_available()) {
        msg("xenstored is not running: no domain has a console");
        return EXIT_RUNTIME;
    }
    struct xs_handle *xs = store_open(true);
    unsigned domid;
    int rc = EXIT_RUNTIME;
    if (xs && domain_resolve(xs, argv[optind], &domid) == 0) {
        if (domid == 0)
            msg("Domain-0 has no console here (it is the host)");
        else
            rc = console_attach(xs, domid, type);
    }
    store_close(xs);
    return rc;
}

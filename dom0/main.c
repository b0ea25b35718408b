/* tandem: the toolstack's command line, with xl's verbs. */
#include "cmds.h"
#include "help.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct verb {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct verb verbs[] = {
    { "create", cmd_run },   { "run", cmd_run },         { "list", cmd_list },
    { "info", cmd_info },    { "console", cmd_console }, { "shutdown", cmd_shutdown },
    { "reboot", cmd_shutdown }, { "destroy", cmd_destroy }, { "pause", cmd_pause },
    { "unpause", cmd_pause }, { "rename", cmd_rename },  { "vcpu-list", cmd_vcpu_list },
    { "domid", cmd_domid },  { "domname", cmd_domname }, { "uptime", cmd_uptime },
    { "dmesg", cmd_dmesg },  { "services", cmd_services }, { "help", cmd_help },
    { "block-attach", cmd_block_attach }, { "block-detach", cmd_block_detach },
    { "block-list", cmd_block_list }, { "network-attach", cmd_network_attach },
    { "network-detach", cmd_network_detach }, { "network-list", cmd_network_list },
    { "save", cmd_save },    { "restore", cmd_restore },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

int main(int argc, char **argv)
{
    if (argc < 2) {
        help_overview(stderr);
        return EXIT_BADINPUT;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cmd_help(1, argv);
    for (size_t i = 0; i < NVERBS; i++) {
        if (strcmp(argv[1], verbs[i].name))
            continue;
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
            return help_page(stdout, argv[1]) < 0 ? EXIT_BADINPUT : 0;
        return verbs[i].fn(argc - 1, argv + 1);
    }
    msg("unknown verb '%s' (try 'tandem help')", argv[1]);
    return EXIT_BADINPUT;
}

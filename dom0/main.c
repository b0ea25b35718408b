/* tandem: the toolstack's command line, with xl's verbs. */
#include "cmds.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct verb verbs[] = {
    { "run",      cmd_run,      "[-n] [-v] CONFIG [key=value ...]",
      "start a domain, show its console, exit with its status" },
    { "create",   cmd_run,      "[-n] [-v] CONFIG [key=value ...]",
      "the same as run (xl's name)" },
    { "list",     cmd_list,     "[DOM ...]", "list domains (as xl list)" },
    { "shutdown", cmd_shutdown, "[-w] [-F] DOM | -a", "ask a domain to power off" },
    { "reboot",   cmd_shutdown, "[-w] [-F] DOM | -a", "ask a domain to reboot" },
    { "destroy",  cmd_destroy,  "DOM", "end a domain at once" },
    { "console",  cmd_console,  "[-t pv] DOM", "attach to a domain's console (Ctrl-] detaches)" },
    { "pause",    cmd_pause,    "DOM", "stop a domain's vCPUs" },
    { "unpause",  cmd_pause,    "DOM", "let a paused domain run again" },
    { "domid",    cmd_domid,    "NAME", "print the domid of a domain" },
    { "domname",  cmd_domname,  "DOMID", "print the name of a domain" },
    { "help",     cmd_help,     "", "this text" },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: tandem VERB [ARGS]\n\nverbs:\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-8s %-34s %s\n", verbs[i].name, verbs[i].args, verbs[i].help);
    fprintf(f, "\nDOM is a domain name or a domid. Environment: TANDEM_RUNDIR (default\n"
               "/run/tandem), TANDEM_VMM, TANDEM_XENSTORED. See docs/cli.md.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BADINPUT;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cmd_help(argc, argv);
    for (size_t i = 0; i < NVERBS; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].fn(argc - 1, argv + 1);
    msg("unknown verb '%s' (try 'tandem help')", argv[1]);
    return EXIT_BADINPUT;
}

/* The verbs' manual pages (help.h). Kept next to docs/cli.md, which says
 * the same at more length. */
#include "cmds.h"
#include "help.h"
#include "util.h"

#include <string.h>

struct page {
    const char *verb;
    const char *synopsis;
    const char *summary;
    const char *body;      /* DESCRIPTION, OPTIONS, EXIT STATUS, EXAMPLE */
};

static const struct page pages[] = {
    { "create", "create [-c] [-p] [-n] [-v] CONFIG [key=value ...]",
      "start a domain in the background",
      "DESCRIPTION\n"
      "  Reads CONFIG (xl.cfg syntax; docs/cli.md lists every key), applies the\n"
      "  key=value overrides, checks everything (a bad file is refused with\n"
      "  FILE:LINE: and nothing is started), starts the host services it needs\n"
      "  (xenstored, tandem-consoled, tandem-blkback for disks) and the domain's\n"
      "  tandem-vmm under a detached supervisor, and returns once the VMM\n"
      "  answers. The supervisor applies on_poweroff/on_reboot/on_crash\n"
      "  (destroy, restart, preserve, rename-restart: keep the dead domain as\n"
      "  NAME-YYYYMMDDTHHMMZ and start it again under a new domid); a restart\n"
      "  starts from the domain's record, $TANDEM_RUNDIR/domN.cfg, which keeps\n"
      "  the devices attached while it ran. The VMM's messages go to\n"
      "  $TANDEM_RUNDIR/log/domN.log (tandem dmesg DOM).\n"
      "OPTIONS\n"
      "  -c  attach to the console once the domain runs (Ctrl-] detaches)\n"
      "  -p  leave the domain paused; 'tandem unpause DOM' starts it\n"
      "  -n  check and print the resulting configuration (it parses back to the\n"
      "      same configuration); start nothing\n"
      "  -v  print the domid and uuid on stderr\n"
      "EXIT STATUS\n"
      "  0 started, 1 it did not start (see the log), 2 bad configuration or usage.\n"
      "EXAMPLE\n"
      "  tandem create examples/hello.cfg memory=128 'cmdline=\"app=idle\"'\n" },
    { "run", "run [-n] [-v] CONFIG [key=value ...]",
      "start a domain in the foreground, showing its console",
      "DESCRIPTION\n"
      "  As create, but stays in the foreground: the guest's console is relayed\n"
      "  to stdout (through tandem-consoled's pty) and stdin to the guest; the\n"
      "  VMM's own messages go to stderr. Exits with the domain's status.\n"
      "  Ctrl-C, SIGTERM and SIGHUP destroy the domain.\n"
      "OPTIONS\n"
      "  -n  check and print the configuration; start nothing\n"
      "  -v  print the domid and uuid on stderr\n"
      "EXIT STATUS\n"
      "  0 poweroff, 1 failure, 2 bad input, 3 reboot, 4 suspend, 5 crash,\n"
      "  6 watchdog, 7 guest failure, 8 destroyed (docs/abi.md).\n"
      "EXAMPLE\n"
      "  tandem run examples/hello.cfg\n" },
    { "list", "list [-l] [--json] [DOM ...]", "list domains (as xl list)",
      "DESCRIPTION\n"
      "  One line per domain: Name, ID, Mem (MiB), VCPUs, State, Time(s), with\n"
      "  the host as Domain-0. State letters as xl: r running, p paused,\n"
      "  s shut down, c crashed (a preserved domain), ------ not answering.\n"
      "  Works with xenstored down (the VMMs answer); never starts it.\n"
      "OPTIONS\n"
      "  --json  the same columns as a JSON array, for scripts\n"
      "  -l      JSON with more: uuid, status, uptime, vmm_pid, ended\n"
      "EXAMPLE\n"
      "  tandem list --json | python3 -m json.tool\n" },
    { "info", "info", "show the host",
      "DESCRIPTION\n"
      "  Host name, kernel, CPUs, memory (MiB), whether /dev/kvm is usable, the\n"
      "  number of domains and their memory, the run directory, xenstored.\n"
      "EXAMPLE\n"
      "  tandem info\n" },
    { "console", "console [-t pv|serial] [-n 0] DOM", "attach to a domain's console",
      "DESCRIPTION\n"
      "  Opens the pty tandem-consoled made for the domain\n"
      "  (/local/domain/N/console/tty) and relays it to the terminal, raw;\n"
      "  for a type = \"hvm\" domain, the pty of its emulated COM1, which\n"
      "  tandem-vmm serves (/local/domain/N/serial/0/tty).\n"
      "  Output the guest wrote while nobody was attached is shown first.\n"
      "  Ctrl-] detaches and leaves the domain running; when the domain ends,\n"
      "  its last output is shown and the command ends.\n"
      "OPTIONS\n"
      "  -t pv      the PV console (the default when the domain has one)\n"
      "  -t serial  the emulated serial port (the default for type = \"hvm\")\n"
      "  -n 0   console number 0 (the only one)\n"
      "EXIT STATUS\n"
      "  0 detached or the domain ended, 1 no such domain or no console.\n"
      "EXAMPLE\n"
      "  tandem console web\n" },
    { "shutdown", "shutdown [-w] [-F] DOM | -a [-w] [-F]", "ask a domain to power off",
      "DESCRIPTION\n"
      "  Xen's protocol: writes 'poweroff' to /local/domain/N/control/shutdown;\n"
      "  the guest acknowledges and powers off.\n"
      "OPTIONS\n"
      "  -w  wait until the domain is gone\n"
      "  -F  if the guest does not advertise control/feature-poweroff, ask the VMM\n"
      "  -a  every guest domain\n"
      "EXAMPLE\n"
      "  tandem shutdown -w web\n" },
    { "reboot", "reboot [-w] [-F] DOM | -a [-w] [-F]", "ask a domain to reboot",
      "DESCRIPTION\n"
      "  As shutdown, with 'reboot'. With on_reboot = \"restart\" (the default)\n"
      "  the domain starts again in place (same name, uuid and domid), with the\n"
      "  devices it had (attached ones too); with \"rename-restart\" the old one\n"
      "  is kept as NAME-YYYYMMDDTHHMMZ and it starts under a new domid.\n"
      "OPTIONS\n"
      "  -w  wait until the rebooting VMM has exited\n"
      "  -F  ask the VMM if the guest does not advertise control/feature-reboot\n"
      "  -a  every guest domain\n"
      "EXAMPLE\n"
      "  tandem reboot web\n" },
    { "destroy", "destroy DOM", "end a domain at once",
      "DESCRIPTION\n"
      "  'destroy' on the VMM's control socket, SIGKILL after 5 s. A domain left\n"
      "  in xenstore without a VMM (a preserved one, on_crash = \"preserve\") is\n"
      "  removed from xenstore, which ends its supervisor.\n"
      "EXAMPLE\n"
      "  tandem destroy web\n" },
    { "pause", "pause DOM", "stop a domain's vCPUs",
      "DESCRIPTION\n  The VMM's 'pause': the vCPUs stop; State shows p.\n"
      "EXAMPLE\n  tandem pause web\n" },
    { "unpause", "unpause DOM", "let a paused domain run again",
      "DESCRIPTION\n  The VMM's 'unpause' (also starts a domain made with create -p).\n"
      "EXAMPLE\n  tandem unpause web\n" },
    { "rename", "rename DOM NEWNAME", "give a domain a new name",
      "DESCRIPTION\n"
      "  Writes the new name to /local/domain/N/name and /vm/UUID/name (one\n"
      "  transaction, as libxl) and to the domain's lock file, so a restart\n"
      "  keeps it. The name rules of the config key 'name' apply; a name\n"
      "  another domain has is refused.\n"
      "EXAMPLE\n"
      "  tandem rename web web-old\n" },
    { "vcpu-list", "vcpu-list [DOM ...]", "list vCPUs",
      "DESCRIPTION\n"
      "  One line per vCPU: Name, ID, VCPU, the host CPU its thread last ran on,\n"
      "  State (r running, b blocked, p paused), Time(s) of that thread,\n"
      "  Affinity (always all / all: Tandem does not pin).\n"
      "EXAMPLE\n"
      "  tandem vcpu-list web\n" },
    { "domid", "domid NAME", "print the domid of a domain",
      "EXAMPLE\n  tandem domid web\n" },
    { "domname", "domname DOMID", "print the name of a domain",
      "EXAMPLE\n  tandem domname 1      (Domain-0 for 0)\n" },
    { "uptime", "uptime [DOM ...]", "how long domains have run",
      "DESCRIPTION\n"
      "  Name, ID and the time since the domain's VMM started (a reboot starts\n"
      "  a new one), as H:MM:SS or 'N days, H:MM:SS'. Domain-0: the host's.\n"
      "EXAMPLE\n"
      "  tandem uptime\n" },
    { "dmesg", "dmesg DOM", "show a domain's VMM log",
      "DESCRIPTION\n"
      "  Prints $TANDEM_RUNDIR/log/domN.log: what the domain's tandem-vmm wrote\n"
      "  (boot messages, console_io and port 0xE9 output of the guest, errors)\n"
      "  and the supervisor's notes (restarts, how it ended). Domains started\n"
      "  with 'tandem run' write these to that terminal instead.\n"
      "EXAMPLE\n"
      "  tandem dmesg web\n" },
    { "services", "services status|stop", "the host services",
      "DESCRIPTION\n"
      "  xenstored, tandem-consoled and tandem-blkback run once per run\n"
      "  directory; create and run start them on first need.\n"
      "  status: one line each (running, stopped, or crashed: its pid file names\n"
      "  a process that is gone; then also a message and exit status 1).\n"
      "  stop: stops them all (backends first, xenstored last) when no domain\n"
      "  runs; refused while one does.\n"
      "EXAMPLE\n"
      "  tandem services status\n" },
    { "block-attach", "block-attach DOM DISKSPEC", "give a running domain a disk",
      "DESCRIPTION\n"
      "  Adds a disk to a running domain, as xl: DISKSPEC is one item of a\n"
      "  config's disk = [ ... ] list (xl-disk-configuration: target=, vdev=,\n"
      "  access=, or TARGET,FORMAT,VDEV,ACCESS), as one argument or several\n"
      "  joined with commas. The backing file is checked first; then the\n"
      "  frontend and backend directories are written in one xenstore\n"
      "  transaction (backend state Initialising), tandem-blkback is started\n"
      "  if none runs, and the command returns once the backend took the\n"
      "  device (InitWait). The guest's blkfront sees device/vbd/DEVID appear.\n"
      "  A vdev the domain has already is refused and nothing is written; so\n"
      "  is a backend that refuses the device (its reason is shown). The disk\n"
      "  goes into the domain's record: a restart (on_reboot) and a restore\n"
      "  bring it back, until block-detach. It goes when the domain ends.\n"
      "EXIT STATUS\n"
      "  0 attached, 1 no such running domain, vdev taken or the backend\n"
      "  refused it, 2 bad spec or usage.\n"
      "EXAMPLE\n"
      "  tandem block-attach web 'target=/srv/data.img,vdev=xvdb,access=rw'\n" },
    { "block-detach", "block-detach [-f] DOM VDEV", "remove a disk from a running domain",
      "DESCRIPTION\n"
      "  As xl: writes online=0 and backend state Closing (5) in one\n"
      "  transaction, waits up to 10 s for the backend to reach Closed (6),\n"
      "  which it does once the guest's frontend closed, then removes the\n"
      "  frontend and backend directories; tandem-blkback closes the backing\n"
      "  file. A frontend that does not answer in time is removed anyway, with\n"
      "  a warning. VDEV is a name (xvdb) or Xen's device number (51728).\n"
      "OPTIONS\n"
      "  -f  do not wait for the frontend: remove the directories at once\n"
      "EXIT STATUS\n"
      "  0 detached, 1 no such domain or disk, 2 bad VDEV or usage.\n"
      "EXAMPLE\n"
      "  tandem block-detach web xvdb\n" },
    { "block-list", "block-list DOM [DOM ...]", "list a domain's disks",
      "DESCRIPTION\n"
      "  xl's columns: Vdev (Xen's device number), BE (backend domain),\n"
      "  handle (the frontend's domid), state, evt-ch and ring-ref (from the\n"
      "  frontend's directory; -1 until the guest wrote them), BE-path.\n"
      "EXAMPLE\n"
      "  tandem block-list web\n" },
    { "network-attach", "network-attach DOM [VIFSPEC]", "give a running domain a network device",
      "DESCRIPTION\n"
      "  Adds a vif to a running domain, as xl: VIFSPEC is one item of a\n"
      "  config's vif = [ ... ] list (mac=, bridge=, ip=, vifname=, devid=; a MAC in\n"
      "  00:16:3e:xx:xx:xx is generated when none is given, the bridge\n"
      "  defaults to xenbr0). The devid is the next after the domain's\n"
      "  highest. Both directories are written in one transaction,\n"
      "  tandem-netback is started if none runs (it makes the tap and puts it\n"
      "  on the bridge) and the command returns once it took the device. A\n"
      "  MAC the domain has already is refused, and nothing is written. The vif\n"
      "  (its MAC and devid) goes into the domain's record: a restart and a\n"
      "  restore bring it back, until network-detach.\n"
      "EXIT STATUS\n"
      "  0 attached, 1 no such running domain, MAC taken or the backend\n"
      "  refused it (a bridge that does not exist, say), 2 bad spec or usage.\n"
      "EXAMPLE\n"
      "  tandem network-attach web 'bridge=xenbr0,mac=00:16:3e:00:00:02'\n" },
    { "network-detach", "network-detach [-f] DOM MAC|DEVID", "remove a network device",
      "DESCRIPTION\n"
      "  As block-detach, for the vif with that MAC or devid (network-list's\n"
      "  Idx): Closing, Closed, then both directories go and tandem-netback\n"
      "  removes the tap and its counters file.\n"
      "OPTIONS\n"
      "  -f  do not wait for the frontend\n"
      "EXIT STATUS\n"
      "  0 detached, 1 no such domain or device, 2 usage.\n"
      "EXAMPLE\n"
      "  tandem network-detach web 00:16:3e:00:00:02\n" },
    { "network-list", "network-list DOM [DOM ...]", "list a domain's network devices",
      "DESCRIPTION\n"
      "  xl's columns: Idx (devid), BE, Mac Addr., handle, state, evt-ch,\n"
      "  tx-/rx-ring-ref (the frontend's; -1 until written), BE-path; then\n"
      "  the packets and bytes tandem-netback counted (TX = from the guest,\n"
      "  RX = to it; from $TANDEM_RUNDIR/netback/DOMID.DEVID, 0 before the\n"
      "  backend wrote them).\n"
      "EXAMPLE\n"
      "  tandem network-list web\n" },
    { "save", "save [-t SECONDS] DOM FILE", "save a domain to a file and stop it",
      "DESCRIPTION\n"
      "  Asks the guest to suspend with Xen's protocol (control/shutdown =\n"
      "  \"suspend\"; the guest acknowledges by clearing it and calls\n"
      "  SCHEDOP_shutdown(SHUTDOWN_suspend)), then has its tandem-vmm write FILE:\n"
      "  a device-tree header (configuration, vCPU and device state, one section\n"
      "  per subsystem) and the guest's memory (docs/save-restore.md). The file\n"
      "  is written beside FILE and renamed into place; the domain then ends.\n"
      "  A guest that does not suspend within the timeout keeps running (the\n"
      "  request is withdrawn); a failed write resumes it (its SCHEDOP_shutdown\n"
      "  returns 1). Plain cpu-mode only: a PVM guest's vCPU state is refused.\n"
      "OPTIONS\n"
      "  -t  seconds the guest may take to suspend (default 30)\n"
      "EXIT STATUS\n"
      "  0 saved, 1 not saved (no such domain, or it carries on), 2 usage.\n"
      "EXAMPLE\n"
      "  tandem save web /var/lib/tandem/web.save\n" },
    { "restore", "restore [-c] [-p] FILE", "start a domain from a saved file",
      "DESCRIPTION\n"
      "  Checks the whole file first (magic, versions, sizes, both checksums): a\n"
      "  truncated or corrupted file is refused and nothing is started. Then\n"
      "  creates the domain as create does, with the configuration saved in the\n"
      "  file, under a new domid: its devices' xenstore directories are written\n"
      "  for the new domid, backends started, and the guest carries on where it\n"
      "  was (its SCHEDOP_shutdown returns 0; it reconnects its devices).\n"
      "OPTIONS\n"
      "  -c  attach to the console once the domain runs\n"
      "  -p  leave it paused ('tandem unpause DOM' resumes it)\n"
      "EXIT STATUS\n"
      "  0 restored, 1 it did not start (see the log), 2 bad file or usage.\n"
      "EXAMPLE\n"
      "  tandem restore /var/lib/tandem/web.save\n" },
    { "help", "help [VERB]", "this text, or a verb's manual",
      "EXAMPLE\n  tandem help create      (also: tandem create --help)\n" },
};

#define NPAGES (sizeof(pages) / sizeof(pages[0]))

int help_page(FILE *f, const char *verb)
{
    for (size_t i = 0; i < NPAGES; i++) {
        if (strcmp(pages[i].verb, verb))
            continue;
        fprintf(f, "NAME\n  tandem %s - %s\nSYNOPSIS\n  tandem %s\n%s", pages[i].verb,
                pages[i].summary, pages[i].synopsis, pages[i].body);
        fprintf(f, "ENVIRONMENT\n  TANDEM_RUNDIR (default /run/tandem), TANDEM_VMM, TANDEM_XENSTORED,\n"
                   "  TANDEM_CONSOLED, TANDEM_BLKBACK, TANDEM_NETBACK. DOM is a domain name or a\n  domid.\n"
                   "SEE ALSO\n  docs/cli.md\n");
        return 0;
    }
    return -1;
}

void help_overview(FILE *f)
{
    fprintf(f, "usage: tandem VERB [ARGS]\n\nverbs:\n");
    for (size_t i = 0; i < NPAGES; i++)
        fprintf(f, "  %-54s %s\n", pages[i].synopsis, pages[i].summary);
    fprintf(f, "\nDOM is a domain name or a domid. 'tandem help VERB' or 'tandem VERB --help'\n"
               "shows a verb's manual. Environment: TANDEM_RUNDIR (default /run/tandem),\n"
               "TANDEM_VMM, TANDEM_XENSTORED. See docs/cli.md.\n");
}

int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        help_overview(stdout);
        return 0;
    }
    if (help_page(stdout, argv[1]) < 0) {
        msg("no verb '%s' (try 'tandem help')", argv[1]);
        return EXIT_BADINPUT;
    }
    return 0;
}

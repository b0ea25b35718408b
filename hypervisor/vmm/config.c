/*
 * Command-line parsing for tandem-vmm: every option is parsed and checked
 * here; the rest of the VMM trusts struct vmm_config.
 */
#include <ctype.h>
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pc.h"
#include "errmsg.h"
#include "public/tandem.h"
#include "public/xen.h"

#define MAX_CMDLINE (TANDEM_CMDLINE_MAX - 1)

const char *config_usage(void)
{
    return "usage: tandem-vmm --kernel ELF|bzImage [--ramdisk FILE] [--memory MiB] [--vcpus N]\n"
           "         [--cmdline STR] [--name NAME] [--domid N] [--uuid UUID] [--xenstore SOCKET]\n"
           "         [--console stdio|pty|file:PATH] [--run-dir DIR]\n"
           "         [--cpu-mode auto|pvm|plain] [--grant-frames N] [--mem-path DIR]\n"
           "         [--platform auto|tandem|xen] [--stats] [--console-daemon] [--paused]\n"
           "       tandem-vmm --firmware ROM [--boot-menu] [--disk PATH[,ro]]... [--memory MiB] [--vcpus N]\n"
           "         [--name NAME]\n"
           "       tandem-vmm --machine pc --kernel bzImage [--ramdisk FILE] [--cmdline STR]\n"
           "         [--disk PATH[,ro]]... [--memory MiB] [--vcpus N] [--name NAME]\n"
           "       (the PC, either way: [--nic tap=NAME[,bridge=BR][,mac=MAC]]...)\n"
           "         [--domid N] [--console stdio|pty|file:PATH] [--run-dir DIR] [--stats] [--paused]\n"
           "       tandem-vmm --check --kernel ELF|bzImage [--ramdisk FILE] [--memory MiB]\n"
           "       tandem-vmm --restore FILE [--name NAME] [--domid N] [--uuid UUID] ...\n";
}

/* Whole-string unsigned decimal in [min, max]. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int valid_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    }
    return 1;
}

/* An interface name: 1..15 bytes of [A-Za-z0-9._-]. */
static bool ifname_ok(const char *s, size_t n)
{
    if (n == 0 || n > 15)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
            return false;
    return true;
}

static int parse_mac(const char *s, size_t n, uint8_t mac[6])
{
    if (n != 17)
        return -1;
    for (int i = 0; i < 6; i++) {
        char hex[3] = { s[3 * i], s[3 * i + 1], 0 };
        if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]) ||
            (i < 5 && s[3 * i + 2] != ':'))
            return -1;
        mac[i] = (uint8_t)strtoul(hex, NULL, 16);
    }
    return (mac[0] & 1) ? -1 : 0;   /* a multicast address is no NIC's */
}

/* tap=NAME[,bridge=BR][,mac=XX:XX:XX:XX:XX:XX] */
static int parse_nic(struct vmm_nic *nic, const char *v, unsigned idx, char *err, size_t errlen)
{
    memset(nic, 0, sizeof(*nic));
    bool mac_set = false;
    for (const char *p = v; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return vmm_fail(err, errlen, "--nic '%s': '%.*s' is not key=value", v, (int)len, p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *val = eq + 1;
        if (klen == 3 && !strncmp(p, "tap", 3) && ifname_ok(val, vlen)) {
            memcpy(nic->tap, val, vlen);
        } else if (klen == 6 && !strncmp(p, "bridge", 6) && ifname_ok(val, vlen)) {
            memcpy(nic->bridge, val, vlen);
        } else if (klen == 3 && !strncmp(p, "mac", 3) && parse_mac(val, vlen, nic->mac) == 0) {
            mac_set = true;
        } else {
            return vmm_fail(err, errlen, "--nic '%s': bad '%.*s' (tap=NAME, bridge=NAME: 1-15 of "
                            "[A-Za-z0-9._-]; mac=XX:XX:XX:XX:XX:XX, unicast)", v, (int)len, p);
        }
        p += len + (end ? 1 : 0);
    }
    if (!nic->tap[0])
        return vmm_fail(err, errlen, "--nic '%s': tap=NAME is required", v);
    if (!mac_set) {   /* Xen's range, 00:16:3e, then the NIC's index and random bytes */
        uint8_t r[2] = { 0, 0 };
        if (getrandom(r, sizeof(r), 0) != sizeof(r))
            r[0] = (uint8_t)getpid(), r[1] = (uint8_t)(getpid() >> 8);
        uint8_t m[6] = { 0x00, 0x16, 0x3e, (uint8_t)(0x40 | idx), r[0], r[1] };
        memcpy(nic->mac, m, 6);
    }
    return 0;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '/')
            return 0;
    return 1;
}

static void default_uuid(struct vmm_config *cfg)
{
    /* A stable per-domid uuid keeps runs reproducible; --uuid overrides. */
    snprintf(cfg->uuid, sizeof(cfg->uuid), "00000000-0000-4000-8000-%012x", cfg->domid);
}

enum { OPT_KERNEL = 256, OPT_MEMORY, OPT_VCPUS, OPT_CMDLINE, OPT_NAME, OPT_DOMID, OPT_UUID,
       OPT_XENSTORE, OPT_CONSOLE, OPT_RUNDIR, OPT_CPUMODE, OPT_STATS, OPT_GNTFRAMES, OPT_MEMPATH, OPT_CONSDAEMON,
       OPT_PAUSED, OPT_RESTORE, OPT_RAMDISK, OPT_CHECK, OPT_PLATFORM, OPT_FIRMWARE, OPT_BOOTMENU, OPT_DISK, OPT_MACHINE, OPT_NIC, OPT_HELP };

static const struct option options[] = {
    { "kernel", required_argument, 0, OPT_KERNEL },
    { "firmware", required_argument, 0, OPT_FIRMWARE },
    { "boot-menu", no_argument, 0, OPT_BOOTMENU },
    { "disk", required_argument, 0, OPT_DISK },
    { "machine", required_argument, 0, OPT_MACHINE },
    { "nic", required_argument, 0, OPT_NIC },
    { "memory", required_argument, 0, OPT_MEMORY },
    { "vcpus", required_argument, 0, OPT_VCPUS },
    { "cmdline", required_argument, 0, OPT_CMDLINE },
    { "name", required_argument, 0, OPT_NAME },
    { "domid", required_argument, 0, OPT_DOMID },
    { "uuid", required_argument, 0, OPT_UUID },
    { "xenstore", required_argument, 0, OPT_XENSTORE },
    { "console", required_argument, 0, OPT_CONSOLE },
    { "run-dir", required_argument, 0, OPT_RUNDIR },
    { "cpu-mode", required_argument, 0, OPT_CPUMODE },
    { "stats", no_argument, 0, OPT_STATS },
    { "grant-frames", required_argument, 0, OPT_GNTFRAMES },
    { "mem-path", required_argument, 0, OPT_MEMPATH },
    { "console-daemon", no_argument, 0, OPT_CONSDAEMON },
    { "paused", no_argument, 0, OPT_PAUSED },
    { "restore", required_argument, 0, OPT_RESTORE },
    { "platform", required_argument, 0, OPT_PLATFORM },
    { "ramdisk", required_argument, 0, OPT_RAMDISK },
    { "check", no_argument, 0, OPT_CHECK },
    { "help", no_argument, 0, OPT_HELP },
    { 0, 0, 0, 0 },
};

static int parse_console(struct vmm_config *cfg, const char *v, char *err, size_t errlen)
{
    if (!strcmp(v, "stdio")) {
        cfg->console = CONSOLE_STDIO;
    } else if (!strcmp(v, "pty")) {
        cfg->console = CONSOLE_PTY;
    } else if (!strncmp(v, "file:", 5) && v[5]) {
        cfg->console = CONSOLE_FILE;
        cfg->console_path = v + 5;
    } else {
        return vmm_fail(err, errlen, "--console '%s': expected stdio, pty or file:PATH", v);
    }
    return 0;
}

static int parse_one(struct vmm_config *cfg, int opt, const char *v, uint64_t host_mem,
                     int *uuid_set, char *err, size_t errlen)
{
    uint64_t n;
    switch (opt) {
    case OPT_KERNEL:
        cfg->kernel = v;
        return 0;
    case OPT_MEMORY: {
        /* A PVH domain's bound (TANDEM_MAX_MEMORY) is checked once the
         * machine is known; the PC's is PC_RAM_MAX. */
        uint64_t max = PC_RAM_MAX;
        if (parse_uint(v, 1, max, &n))
            return vmm_fail(err, errlen, "--memory '%s': expected MiB in 1..%llu", v,
                            (unsigned long long)max);
        if (host_mem && (n << 20) > host_mem)
            return vmm_fail(err, errlen, "--memory %llu MiB: larger than the host's %llu MiB",
                            (unsigned long long)n, (unsigned long long)(host_mem >> 20));
        cfg->memory_mib = n;
        return 0;
    }
    case OPT_VCPUS:
        if (parse_uint(v, 1, TANDEM_MAX_VCPUS, &n))
            return vmm_fail(err, errlen, "--vcpus '%s': expected 1..%d", v, TANDEM_MAX_VCPUS);
        cfg->vcpus = (unsigned int)n;
        return 0;
    case OPT_CMDLINE:
        if (strlen(v) > MAX_CMDLINE)
            return vmm_fail(err, errlen, "--cmdline: longer than %d bytes", MAX_CMDLINE);
        cfg->cmdline = v;
        return 0;
    case OPT_NAME:
        if (!valid_name(v))
            return vmm_fail(err, errlen, "--name '%s': 1-64 printable characters, no '/' or space", v);
        cfg->name = v;
        return 0;
    case OPT_DOMID:
        if (parse_uint(v, 1, DOMID_FIRST_RESERVED - 1, &n))
            return vmm_fail(err, errlen, "--domid '%s': expected 1..%u", v, DOMID_FIRST_RESERVED - 1);
        cfg->domid = (unsigned int)n;
        return 0;
    case OPT_UUID:
        if (!valid_uuid(v))
            return vmm_fail(err, errlen, "--uuid '%s': expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", v);
        snprintf(cfg->uuid, sizeof(cfg->uuid), "%s", v);
        for (char *p = cfg->uuid; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
        *uuid_set = 1;
        return 0;
    case OPT_XENSTORE:
        if (!*v)
            return vmm_fail(err, errlen, "--xenstore: empty socket path");
        cfg->xenstore = v;
        return 0;
    case OPT_CONSOLE:
        return parse_console(cfg, v, err, errlen);
    case OPT_RUNDIR:
        if (!*v)
            return vmm_fail(err, errlen, "--run-dir: empty path");
        cfg->run_dir = v;
        return 0;
    case OPT_CPUMODE:
        if (!strcmp(v, "auto"))
            cfg->cpu_mode = CPU_MODE_AUTO;
        else if (!strcmp(v, "pvm"))
            cfg->cpu_mode = CPU_MODE_PVM;
        else if (!strcmp(v, "plain"))
            cfg->cpu_mode = CPU_MODE_PLAIN;
        else
            return vmm_fail(err, errlen, "--cpu-mode '%s': expected auto, pvm or plain", v);
        return 0;
    case OPT_PLATFORM:
        if (!strcmp(v, "auto"))
            cfg->platform = PLATFORM_AUTO;
        else if (!strcmp(v, "tandem"))
            cfg->platform = PLATFORM_TANDEM;
        else if (!strcmp(v, "xen"))
            cfg->platform = PLATFORM_XEN;
        else
            return vmm_fail(err, errlen, "--platform '%s': expected auto, tandem or xen", v);
        return 0;
    case OPT_STATS:
        cfg->stats = true;
        return 0;
    case OPT_CONSDAEMON:
        cfg->console_daemon = true;
        return 0;
    case OPT_RESTORE:
        if (!*v)
            return vmm_fail(err, errlen, "--restore: empty path");
        cfg->restore = v;
        return 0;
    case OPT_PAUSED:
        cfg->start_paused = true;
        return 0;
    case OPT_RAMDISK:
        if (!*v)
            return vmm_fail(err, errlen, "--ramdisk: empty path");
        cfg->ramdisk = v;
        return 0;
    case OPT_CHECK:
        cfg->check_only = true;
        return 0;
    case OPT_FIRMWARE:
        if (!*v)
            return vmm_fail(err, errlen, "--firmware: empty path");
        cfg->firmware = v;
        return 0;
    case OPT_BOOTMENU:
        cfg->boot_menu = true;
        return 0;
    case OPT_NIC:
        if (cfg->nr_nics == VMM_MAX_NICS)
            return vmm_fail(err, errlen, "--nic: at most %d", VMM_MAX_NICS);
        if (parse_nic(&cfg->nics[cfg->nr_nics], v, cfg->nr_nics, err, errlen))
            return -1;
        cfg->nr_nics++;
        return 0;
    case OPT_MACHINE:
        if (!strcmp(v, "pc"))
            cfg->pc = true;
        else if (!strcmp(v, "pvh"))
            cfg->pc = false;
        else
            return vmm_fail(err, errlen, "--machine '%s': expected pvh or pc", v);
        return 0;
    case OPT_DISK: {
        /* PATH or PATH,ro (PATH,rw too): the path is everything before the
         * last comma when what follows is a mode. */
        if (cfg->nr_disks == VMM_MAX_DISKS)
            return vmm_fail(err, errlen, "--disk: at most %d disks", VMM_MAX_DISKS);
        struct vmm_disk *d = &cfg->disks[cfg->nr_disks];
        char *comma = strrchr(v, ',');
        if (comma && (!strcmp(comma, ",ro") || !strcmp(comma, ",rw"))) {
            d->readonly = comma[1] == 'r' && comma[2] == 'o';
            *comma = '\0';
        }
        if (!*v)
            return vmm_fail(err, errlen, "--disk: empty path");
        d->path = v;
        cfg->nr_disks++;
        return 0;
    }
    case OPT_GNTFRAMES:
        if (parse_uint(v, 1, TANDEM_MAX_GRANT_FRAMES, &n))
            return vmm_fail(err, errlen, "--grant-frames '%s': expected 1..%d", v,
                            TANDEM_MAX_GRANT_FRAMES);
        cfg->grant_frames = (unsigned int)n;
        return 0;
    case OPT_MEMPATH:
        if (!*v)
            return vmm_fail(err, errlen, "--mem-path: empty path");
        cfg->mem_path = v;
        return 0;
    }
    return vmm_fail(err, errlen, "unknown option");
}

int config_parse(struct vmm_config *cfg, int argc, char **argv, uint64_t host_mem,
                 char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory_mib = 128;
    cfg->vcpus = 1;
    cfg->grant_frames = TANDEM_DEFAULT_GRANT_FRAMES;
    cfg->cmdline = "";
    cfg->name = NULL;
    cfg->domid = 1;
    const char *env_run = getenv("TANDEM_RUNDIR"); /* as the tandem CLI */
    cfg->run_dir = env_run && *env_run ? env_run : "/run/tandem";
    int uuid_set = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = 0;
        int opt = getopt_long(argc, argv, "", options, &idx);
        if (opt == -1)
            break;
        if (opt == OPT_HELP)
            return 1;
        if (opt == '?' || opt == ':') {
            const char *bad = argv[optind - 1] ? argv[optind - 1] : "?";
            return vmm_fail(err, errlen, "bad option '%s' (see --help)", bad);
        }
        if (parse_one(cfg, opt, optarg ? optarg : "", host_mem, &uuid_set, err, errlen))
            return -1;
    }
    if (optind < argc)
        return vmm_fail(err, errlen, "unexpected argument '%s'", argv[optind]);
    if (cfg->firmware)
        cfg->pc = true;
    if (cfg->pc) {
        /* The PC (docs/hvm.md): its firmware, or a bzImage booted directly.
         * What it does not have yet is refused, not ignored. */
        if (!cfg->kernel && (cfg->ramdisk || cfg->cmdline[0]))
            return vmm_fail(err, errlen, "--ramdisk and --cmdline go with --kernel");
        if (!cfg->firmware && !cfg->kernel)
            return vmm_fail(err, errlen, "--machine pc needs --firmware ROM or --kernel bzImage");
        if (!cfg->firmware && cfg->boot_menu)
            return vmm_fail(err, errlen, "--boot-menu is the PC's firmware's: it needs --firmware");
        if (cfg->restore || cfg->check_only)
            return vmm_fail(err, errlen, "the PC has no --restore or --check yet");
        if (cfg->console_daemon || cfg->mem_path || cfg->cpu_mode == CPU_MODE_PVM)
            return vmm_fail(err, errlen, "the PC has no console daemon (COM1 is --console), "
                            "--mem-path or pvm mode yet");
        if (cfg->memory_mib < PC_RAM_MIN)
            return vmm_fail(err, errlen, "the PC: --memory %llu: it takes %u..%u MiB",
                            (unsigned long long)cfg->memory_mib, PC_RAM_MIN, PC_RAM_MAX);
    } else if (cfg->memory_mib > (TANDEM_MAX_MEMORY >> 20)) {
        return vmm_fail(err, errlen, "--memory '%llu': expected MiB in 1..%llu",
                        (unsigned long long)cfg->memory_mib,
                        (unsigned long long)(TANDEM_MAX_MEMORY >> 20));
    } else if (cfg->boot_menu) {
        return vmm_fail(err, errlen, "--boot-menu is the PC's firmware's: it needs --firmware");
    } else if (cfg->nr_disks || cfg->nr_nics) {
        return vmm_fail(err, errlen, "%s is the PC's (%s): it needs --machine pc or --firmware; "
                        "a PV domain's are tandem-%s's", cfg->nr_disks ? "--disk" : "--nic",
                        cfg->nr_disks ? "NVMe" : "e1000", cfg->nr_disks ? "blkback" : "netback");
    } else if (!cfg->kernel && !cfg->restore)
        return vmm_fail(err, errlen, "missing --kernel, --firmware or --restore");
    if (cfg->check_only && (!cfg->kernel || cfg->restore))
        return vmm_fail(err, errlen, "--check needs --kernel (and no --restore)");
    if (cfg->restore)   /* the saved memory holds kernel and ramdisk already */
        cfg->ramdisk = NULL;
    if (!uuid_set)
        default_uuid(cfg);
    if (!cfg->name) {
        snprintf(cfg->name_buf, sizeof(cfg->name_buf), "dom%u", cfg->domid);
        cfg->name = cfg->name_buf;
    }
    return 0;
}

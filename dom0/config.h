/* Domain configuration: the xl.cfg-style file plus command-line overrides,
 * parsed and checked in one place (config.c, cfgparse.c). Everything after
 * config_finish() may trust these values. */
#ifndef TANDEM_DOM0_CONFIG_H
#define TANDEM_DOM0_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

#include "disk.h"
#include "vif.h"

#define CFG_NAME_MAX      64
#define CFG_STRING_MAX    4095      /* longest string value (the cmdline page is 4 KiB) */
#define CFG_LIST_MAX      64        /* most items in one list */
#define CFG_FILE_MAX      (1 << 20) /* largest config file we read */
#define CFG_MEMORY_MAX_MIB 3072     /* docs/abi.md: a PVH domain's RAM ends below 3 GiB */
#define CFG_PC_MEMORY_MAX_MIB 1048576 /* type = "hvm": 3 GiB below the PCI hole, the rest at 4 GiB */
#define CFG_VCPUS_MAX     1024      /* KVM's limit on these hosts */
#define CFG_GRANT_FRAMES_MAX 64     /* tandem-vmm --grant-frames limit */
#define CFG_GRANT_FRAMES_DEFAULT 32
#define CFG_ERR_MAX       512

/* What to do when the domain powers off, reboots or crashes (xl.cfg). */
enum cfg_action { ACTION_DESTROY, ACTION_RESTART, ACTION_PRESERVE, ACTION_RENAME_RESTART };
enum cfg_cpu_mode { CPU_MODE_AUTO, CPU_MODE_PVM, CPU_MODE_PLAIN };

/* Where a key's value came from, so later errors can name file and line. */
struct cfg_origin {
    const char *source; /* file name or "command line" (not owned) */
    int line;           /* 0 = no line (command-line override) or unset */
};

struct cfg_strlist {
    char **items;
    size_t n;
};

enum cfg_key {
    KEY_NAME, KEY_TYPE, KEY_KERNEL, KEY_MEMORY, KEY_VCPUS, KEY_CMDLINE,
    KEY_EXTRA, KEY_UUID, KEY_CPU_MODE, KEY_ON_POWEROFF, KEY_ON_REBOOT,
    KEY_ON_CRASH, KEY_DISK, KEY_VIF, KEY_MAX_GRANT_FRAMES, KEY_MEM_PATH,
    KEY_RAMDISK, KEY_ROOT, KEY_MAXMEM, KEY_MAXVCPUS, KEY_FIRMWARE, KEY_SERIAL, KEY_COUNT
};

struct tandem_config {
    char *name;
    char *type;                 /* "pvh", or "hvm": the full-emulation PC */
    char *kernel;               /* as written; see config_file_path() */
    char *firmware;             /* hvm: "seabios" or a ROM file (as written) */
    char *serial;               /* hvm: COM1 on "pty" (NULL: the default), "stdio" or "file:PATH" */
    char *ramdisk;              /* as written, NULL if none */
    long memory_mib;
    long maxmem_mib;            /* >= memory_mib; 0 until config_finish fills it */
    long vcpus;
    long maxvcpus;              /* >= vcpus; 0 until config_finish fills it */
    long max_grant_frames;      /* grant-table frames (xl's max_grant_frames) */
    char *mem_path;             /* guest memory in this tmpfs directory (QEMU's -mem-path) */
    char *cmdline;
    char *extra;
    char *root;                 /* xl: "root=ROOT" goes first on the command line */
    char *cmdline_final;        /* built by config_finish from cmdline or root + extra */
    char *uuid;                 /* NULL: run generates one */
    enum cfg_cpu_mode cpu_mode;
    enum cfg_action on_poweroff, on_reboot, on_crash;
    struct cfg_strlist disk, vif; /* as written */
    struct disk_spec *disks;    /* disk[] parsed by config_finish (disk.h) */
    size_t ndisks;
    struct vif_spec *vifs;      /* vif[] parsed by config_finish (vif.h) */
    size_t nvifs;

    struct cfg_origin origin[KEY_COUNT];
    char *file;                 /* the config file path (owned), NULL if none */
};

void config_init(struct tandem_config *c);
void config_free(struct tandem_config *c);
/* Empties a list (an "as written" disk[] or vif[] whose parsed devices
 * are edited instead: config_print prints the parsed ones). */
void config_strlist_free(struct cfg_strlist *l);

/* Parses a whole file. Returns 0, or -1 with "FILE:LINE: message" in err. */
int config_parse_file(struct tandem_config *c, const char *path,
                      char *err, size_t errlen);

/* Parses text named `source` (used by the file parser and the unit tests).
 * Keys already set by this same source are an error (duplicate key). */
int config_parse_text(struct tandem_config *c, const char *text, size_t len,
                      const char *source, char *err, size_t errlen);

/* One `key=value` command-line override (same syntax as a config line); it
 * replaces whatever the file said. */
int config_apply_override(struct tandem_config *c, const char *arg,
                          char *err, size_t errlen);

/* Fills defaults and checks the keys against each other (required keys,
 * cmdline vs extra, unsupported devices). */
int config_finish(struct tandem_config *c, char *err, size_t errlen);

/* type = "hvm". */
bool config_is_hvm(const struct tandem_config *c);
/* type = "hvm": COM1 is on a pty (serial = "pty", or not set). */
bool config_serial_is_pty(const struct tandem_config *c);

/* The path of a file key (KEY_KERNEL, KEY_RAMDISK, KEY_FIRMWARE) as the VMM should open
 * it: relative paths from the config file are taken relative to the file's
 * directory, from an override relative to the current directory (left
 * relative). NULL if the key is unset or on no memory. Caller frees. */
char *config_file_path(const struct tandem_config *c, enum cfg_key k);

/* Checks that kernel (and ramdisk, if set; hvm: the firmware, "seabios"
 * found as build/firmware/bios-256k.bin beside the tandem binary's
 * directory, else Debian's /usr/share/seabios/bios-256k.bin) are readable
 * regular files and replaces them by their absolute paths, so the config
 * no longer depends on where the file was. -1 with "FILE:LINE: ..." in err. */
int config_check_files(struct tandem_config *c, char *err, size_t errlen);

/* The guest command line (after config_finish: cmdline, or root= and
 * extra); never NULL. */
const char *config_cmdline(const struct tandem_config *c);

/* Prints the configuration in xl.cfg syntax, one `key = value` per key
 * (lists as one key, strings escaped), so that parsing the output gives the
 * same configuration back. After config_finish (defaults filled). */
void config_print(FILE *f, const struct tandem_config *c);

/* Writes s into buf (always NUL-terminated, cut short if it does not fit)
 * with every control character escaped as the config syntax reads it
 * (\n, \t, \r, \xHH). in_string: also escape '\' and '"', for the inside
 * of a "..." string; otherwise (messages) backslashes stay as they are.
 * Returns buf. */
char *cfg_escape(const char *s, bool in_string, char *buf, size_t len);

/* "file:line: " prefix for an error about key k (empty when unknown). */
void config_where(const struct tandem_config *c, enum cfg_key k,
                  char *buf, size_t len);

/* The rules for `name` (also for `tandem rename`). 0, or -1 with msg. */
int config_check_name(const char *name, char *msg, size_t len);

const char *config_action_name(enum cfg_action a);
const char *config_cpu_mode_name(enum cfg_cpu_mode m);

#endif

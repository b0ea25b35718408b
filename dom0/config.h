/* Domain configuration: the xl.cfg-style file plus command-line overrides,
 * parsed and checked in one place (config.c, cfgparse.c). Everything after
 * config_finish() may trust these values. */
#ifndef TANDEM_DOM0_CONFIG_H
#define TANDEM_DOM0_CONFIG_H

#include <stddef.h>
#include <stdbool.h>

#include "disk.h"
#include "vif.h"

#define CFG_NAME_MAX      64
#define CFG_STRING_MAX    4095      /* longest string value (the cmdline page is 4 KiB) */
#define CFG_LIST_MAX      64        /* most items in one list */
#define CFG_FILE_MAX      (1 << 20) /* largest config file we read */
#define CFG_MEMORY_MAX_MIB 3072     /* docs/abi.md: RAM ends below 3 GiB */
#define CFG_VCPUS_MAX     1024      /* KVM's limit on these hosts */
#define CFG_GRANT_FRAMES_MAX 64     /* tandem-vmm --grant-frames limit */
#define CFG_GRANT_FRAMES_DEFAULT 32
#define CFG_ERR_MAX       512

enum cfg_action { ACTION_DESTROY, ACTION_RESTART };
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
    KEY_ON_CRASH, KEY_DISK, KEY_VIF, KEY_MAX_GRANT_FRAMES, KEY_MEM_PATH, KEY_COUNT
};

struct tandem_config {
    char *name;
    char *type;                 /* only "pvh" today */
    char *kernel;               /* as written; see config_kernel_path() */
    long memory_mib;
    long vcpus;
    long max_grant_frames;      /* grant-table frames (xl's max_grant_frames) */
    char *mem_path;             /* guest memory in this tmpfs directory (QEMU's -mem-path) */
    char *cmdline;
    char *extra;
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

/* The kernel path to hand to the VMM: relative paths from the config file
 * are taken relative to the file's directory. Caller frees. */
char *config_kernel_path(const struct tandem_config *c);

/* The guest command line (cmdline, or extra); never NULL. */
const char *config_cmdline(const struct tandem_config *c);

/* "file:line: " prefix for an error about key k (empty when unknown). */
void config_where(const struct tandem_config *c, enum cfg_key k,
                  char *buf, size_t len);

const char *config_action_name(enum cfg_action a);
const char *config_cpu_mode_name(enum cfg_cpu_mode m);

#endif

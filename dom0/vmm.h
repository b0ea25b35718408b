/* Starting tandem-vmm for a domain and decoding how it ended. */
#ifndef TANDEM_DOM0_VMM_H
#define TANDEM_DOM0_VMM_H

#include <stdbool.h>
#include <sys/types.h>

struct tandem_config;

/* docs/abi.md: the VMM's exit status is the domain's. */
enum vmm_status {
    VMM_POWEROFF = 0, VMM_FAILED = 1, VMM_BADINPUT = 2, VMM_REBOOT = 3,
    VMM_SUSPEND = 4, VMM_CRASH = 5, VMM_WATCHDOG = 6, VMM_GUEST_FAILURE = 7,
    VMM_DESTROYED = 8,
};

struct vmm_launch {
    const struct tandem_config *cfg;
    const char *kernel;      /* resolved path */
    unsigned domid;
    const char *uuid;
    const char *xenstore;    /* socket path, NULL: no xenstore */
    const char *console;     /* --console: "stdio" (NULL) or "file:PATH" (console_io, 0xE9) */
    bool paused;             /* --paused: vCPUs wait for unpause */
    const char *restore;     /* --restore FILE: the domain comes from a save file */
};

/* The argument vector (NULL-terminated; free with vmm_argv_free). */
char **vmm_argv(const struct vmm_launch *l);
void vmm_argv_free(char **argv);

/* fork + exec with the signal mask and dispositions reset. Returns the pid
 * or -1 (message printed). */
pid_t vmm_spawn(char **argv);

/* A short word for a status ("poweroff", "crash", ...). */
const char *vmm_status_name(int status);

#endif

/* The platform device tree handed to the guest as its first PVH module. */
#ifndef TANDEM_VMM_FDT_BUILD_H
#define TANDEM_VMM_FDT_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct fdt_params {
    uint64_t ram_size;
    unsigned int vcpus;
    const char *cmdline;
    unsigned int domid;
    const char *uuid;
    const char *cpu_mode;  /* "pvm" | "plain" */
    uint32_t tsc_khz;
    unsigned int grant_frames; /* 0: TANDEM_DEFAULT_GRANT_FRAMES */
};

/* Returns a negative libfdt result from the enclosing function. */
#define FDT_TRY(x)         \
    do {                   \
        int _r = (x);      \
        if (_r < 0)        \
            return _r;     \
    } while (0)

/* Builds the tree of docs/abi.md into buf (size bytes). Returns 0 or a
 * negative libfdt error code (-FDT_ERR_NOSPACE when buf is too small). */
int fdt_build(void *buf, size_t size, const struct fdt_params *p);

#endif

/* tandem-vmm --restore (restore.c). */
#ifndef TANDEM_VMM_RESTORE_H
#define TANDEM_VMM_RESTORE_H

#include <stddef.h>

#include "savefile.h"

struct vm;
struct vmm_config;

struct restore {
    int fd;
    struct save_header h;
    void *hdr;
};

/* Opens and checks cfg->restore's header; sets the machine's shape in cfg
 * (memory, vCPUs, grant frames, command line, cpu mode). 0 or -1 + err. */
int restore_open(struct restore *rs, struct vmm_config *cfg, char *err, size_t errlen);
void restore_close(struct restore *rs);
/* Guest memory from the file, checksum compared. */
int restore_memory(struct restore *rs, struct vm *vm, char *err, size_t errlen);
/* Clock, placements, vectors, vCPU registers. */
int restore_state(struct restore *rs, struct vm *vm, char *err, size_t errlen);
int restore_start_vcpus(struct vm *vm);

#endif

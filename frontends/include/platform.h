/*
 * What the VMM tells the guest at boot (the device tree, first PVH module,
 * and hvm_start_info), parsed and checked once by platform_parse(); the
 * rest of the kernel reads this struct.
 */
#ifndef TANDEM_GUEST_PLATFORM_H
#define TANDEM_GUEST_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#define PLATFORM_MAX_MEM_RANGES 16
#define PLATFORM_MAX_MODULES 8

struct mem_range {
    uint64_t start, end; /* [start, end) */
};

struct platform {
    uint32_t domid;
    uint32_t version;   /* Xen interface version, 0x00040011 */
    char uuid[40];
    char cpu_mode[8];   /* "pvm" | "plain" */
    uint32_t nr_cpus;
    uint32_t tsc_khz;   /* 0 if not given */
    uint64_t memory;    /* bytes of RAM (the memory node) */
    struct mem_range ram[PLATFORM_MAX_MEM_RANGES];
    unsigned int nr_ram;
    uint64_t hypercall_page;
    uint16_t hypercall_port, doorbell_port;
    uint64_t physmap_base, physmap_size;
    uint32_t grant_frames;
    uint64_t lapic;
    bool has_xenstore, has_console;
    uint64_t xenstore_ring, console_ring;
    uint32_t xenstore_port, console_port;
    const char *bootargs; /* points into the FDT, may be NULL */
    /* start_info's modules in order (0 = the FDT; a ramdisk follows),
     * each inside RAM; nr_modules counts only those */
    struct mem_range modules[PLATFORM_MAX_MODULES];
    unsigned int nr_modules;
};

extern struct platform platform;

struct hvm_start_info;

/* Checks start_info and the FDT and fills `platform`.  Returns 0, or -1
 * after printing what is wrong. */
int platform_parse(const struct hvm_start_info *si, const void *fdt);

#endif

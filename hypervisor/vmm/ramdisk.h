/*
 * --ramdisk: an initial ramdisk, checked and placed before the VM exists,
 * read straight into guest RAM after (docs/abi.md "Boot").
 */
#ifndef TANDEM_VMM_RAMDISK_H
#define TANDEM_VMM_RAMDISK_H

#include <stddef.h>
#include <stdint.h>

struct ramdisk {
    int fd;                 /* open until ramdisk_load, -1 after */
    uint64_t size, gpa;
};

/*
 * Where a ramdisk of size bytes goes: page-aligned, as high as fits below
 * the end of RAM (and 4 GiB), never below kernel_end (the end of the
 * kernel's segments, which lie above the fixed low boot data). Returns 0,
 * or -1 with a one-line reason in err.
 */
int ramdisk_place(uint64_t ram_size, uint64_t kernel_end, uint64_t size, uint64_t *gpa,
                  char *err, size_t errlen);

/* Opens path (a non-empty regular file) and places it. */
int ramdisk_open(const char *path, uint64_t ram_size, uint64_t kernel_end, struct ramdisk *rd,
                 char *err, size_t errlen);

/* Reads the whole file to ram + rd->gpa and closes it. */
int ramdisk_load(struct ramdisk *rd, uint8_t *ram, char *err, size_t errlen);

void ramdisk_close(struct ramdisk *rd);

#endif

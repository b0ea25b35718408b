/* The block engine's backing store (blkeng.h): a raw file or a block
 * device, opened with O_DIRECT when that works and buffered otherwise,
 * with what it can do. Opened once per virtual disk; every engine (queue)
 * of that disk does its I/O on the same fd. */
#ifndef TANDEM_ENGINE_BLKENG_BACKING_H
#define TANDEM_ENGINE_BLKENG_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blkeng_backing {
    int fd;
    bool readonly;
    bool direct;                   /* opened O_DIRECT */
    bool blockdev;
    uint64_t sectors;              /* 512-byte sectors (a partial last one is not offered) */
    unsigned sector_size;          /* logical: 512, the unit of every offset and length */
    unsigned physical_sector_size; /* BLKPBSZGET, or 4096/512 from st_blksize for a file */
    bool can_discard;              /* writable: PUNCH_HOLE on a file, discard on a device */
    bool can_flush;                /* fdatasync (always; also on a read-only store) */
    unsigned discard_granularity;
};

/* Opens `path`. allow_direct: try O_DIRECT first; it is kept only if an
 * aligned 512-byte read at offset 0 works (the file system accepts
 * O_DIRECT with 512-byte alignment), otherwise the file is reopened
 * buffered. 0, or -1 with a message in err. */
int blkeng_backing_open(const char *path, bool readonly, bool allow_direct,
                        struct blkeng_backing *b, char *err, size_t errlen);
void blkeng_backing_close(struct blkeng_backing *b);

#endif

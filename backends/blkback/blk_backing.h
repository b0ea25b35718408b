/* The backing store of a virtual block device: a raw file or a block
 * device, opened with O_DIRECT when that works and buffered otherwise. */
#ifndef TANDEM_BLKBACK_BACKING_H
#define TANDEM_BLKBACK_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_backing {
    int fd;
    bool readonly;
    bool direct;                   /* opened O_DIRECT */
    bool blockdev;
    uint64_t sectors;              /* 512-byte sectors */
    unsigned physical_sector_size;
    unsigned discard_granularity;
};

/* Opens `path`. allow_direct: try O_DIRECT first; it is kept only if an
 * aligned 512-byte read at offset 0 works (the file system accepts
 * O_DIRECT with 512-byte alignment), otherwise the file is reopened
 * buffered. 0, or -1 with a message in err. */
int blk_backing_open(const char *path, bool readonly, bool allow_direct,
                     struct blk_backing *b, char *err, size_t errlen);
void blk_backing_close(struct blk_backing *b);

#endif

/* The block engine's backing store (see blkeng_backing.h). */
#include "blkeng_backing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* O_DIRECT is accepted by open() on file systems that then fail every
 * I/O, and needs logical-block alignment; one real read tells. */
static bool direct_read_works(int fd)
{
    void *buf;
    bool ok;

    if (posix_memalign(&buf, 4096, 4096) != 0)
        return false;
    ok = pread(fd, (char *)buf + 512, 512, 0) >= 0;
    free(buf);
    return ok;
}

static int open_fd(const char *path, bool readonly, bool allow_direct, bool *direct)
{
    int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int fd;

    if (allow_direct) {
        fd = open(path, flags | O_DIRECT);
        if (fd >= 0 && direct_read_works(fd)) {
            *direct = true;
            return fd;
        }
        if (fd >= 0)
            close(fd);
    }
    *direct = false;
    return open(path, flags);
}

static int size_of(struct blkeng_backing *b, const struct stat *st, char *err, size_t errlen)
{
    uint64_t bytes;

    if (S_ISBLK(st->st_mode)) {
        unsigned pbs = 512;

        b->blockdev = true;
        if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0) {
            snprintf(err, errlen, "BLKGETSIZE64: %s", strerror(errno));
            return -1;
        }
        if (ioctl(b->fd, BLKPBSZGET, &pbs) == 0 && pbs >= 512 && pbs <= 65536)
            b->physical_sector_size = pbs;
    } else if (S_ISREG(st->st_mode)) {
        bytes = (uint64_t)st->st_size;
        b->physical_sector_size = st->st_blksize >= 4096 ? 4096 : 512;
    } else {
        snprintf(err, errlen, "neither a regular file nor a block device");
        return -1;
    }
    b->sectors = bytes / 512;      /* a partial last sector is not offered */
    b->discard_granularity = b->physical_sector_size;
    return 0;
}

int blkeng_backing_open(const char *path, bool readonly, bool allow_direct,
                        struct blkeng_backing *b, char *err, size_t errlen)
{
    struct stat st;

    memset(b, 0, sizeof(*b));
    err[0] = '\0';
    b->readonly = readonly;
    b->sector_size = 512;
    b->physical_sector_size = 512;
    b->can_discard = !readonly;
    b->can_flush = true;
    b->fd = open_fd(path, readonly, allow_direct, &b->direct);
    if (b->fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(b->fd, &st) < 0 || size_of(b, &st, err, errlen) < 0) {
        if (!err[0])
            snprintf(err, errlen, "fstat %s: %s", path, strerror(errno));
        close(b->fd);
        b->fd = -1;
        return -1;
    }
    return 0;
}

void blkeng_backing_close(struct blkeng_backing *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}

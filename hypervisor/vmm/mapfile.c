/* mapfile.h: one way to read the boot files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapfile.h"

int mapped_file_open(const char *path, const char *what, uint64_t min, uint64_t max,
                     uint64_t multiple, struct mapped_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    int r = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        snprintf(err, errlen, "%s %s: not a regular file", what, path);
    else if (multiple && ((uint64_t)st.st_size < min || (uint64_t)st.st_size > max ||
                          st.st_size % (off_t)multiple))
        snprintf(err, errlen, "%s %s: size %lld is not a multiple of %llu in %llu..%llu bytes",
                 what, path, (long long)st.st_size, (unsigned long long)multiple,
                 (unsigned long long)min, (unsigned long long)max);
    else if ((uint64_t)st.st_size < min || (uint64_t)st.st_size > max)
        snprintf(err, errlen, "%s %s: size %lld is not in %llu..%llu bytes", what, path,
                 (long long)st.st_size, (unsigned long long)min, (unsigned long long)max);
    else {
        f->len = (size_t)st.st_size;
        f->data = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (f->data == MAP_FAILED) {
            f->data = NULL;
            snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        } else {
            r = 0;
        }
    }
    close(fd);
    return r;
}

void mapped_file_close(struct mapped_file *f)
{
    if (f->data)
        munmap(f->data, f->len);
    f->data = NULL;
    f->len = 0;
}

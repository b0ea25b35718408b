/* A boot file (kernel, firmware ROM) mapped whole and private, checked
 * before any VM exists (mapfile.c). */
#ifndef TANDEM_VMM_MAPFILE_H
#define TANDEM_VMM_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

struct mapped_file {
    uint8_t *data;
    size_t len;
};

/* Maps path (a regular file of min..max bytes, a multiple of `multiple`
 * bytes if that is not 0) copy-on-write: the VMM may patch its copy, the
 * file never changes. 0, or -1 with "WHAT PATH: why" in err. */
int mapped_file_open(const char *path, const char *what, uint64_t min, uint64_t max,
                     uint64_t multiple, struct mapped_file *f, char *err, size_t errlen);
void mapped_file_close(struct mapped_file *f);

#endif

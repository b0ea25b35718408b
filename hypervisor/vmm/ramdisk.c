/*
 * Initial ramdisk: placement is decided here from the sizes alone, so it
 * is checked (status 2) before /dev/kvm is opened; the file is read into
 * guest memory only once the VM exists, never copied through the VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "public/tandem.h"
#include "public/xen.h"
#include "ramdisk.h"

#define FOUR_GIB (4ULL << 30)

static uint64_t page_down(uint64_t a)
{
    return a & ~(uint64_t)(XEN_PAGE_SIZE - 1);
}

int ramdisk_place(uint64_t ram_size, uint64_t kernel_end, uint64_t size, uint64_t *gpa,
                  char *err, size_t errlen)
{
    uint64_t top = page_down(ram_size < FOUR_GIB ? ram_size : FOUR_GIB);
    uint64_t low = kernel_end > TANDEM_KERNEL_MIN_GPA ? kernel_end : TANDEM_KERNEL_MIN_GPA;
    /* top is page-aligned, so rounding up anything below it stays <= top */
    low = low >= top ? top : page_down(low + XEN_PAGE_SIZE - 1);
    if (size == 0)
        return vmm_fail(err, errlen, "is empty");
    if (size > top - low)
        return vmm_fail(err, errlen, "%llu bytes do not fit between the kernel's end %#llx and "
                        "the end of RAM %#llx (%llu bytes free)", (unsigned long long)size,
                        (unsigned long long)kernel_end, (unsigned long long)top,
                        (unsigned long long)(top - low));
    *gpa = page_down(top - size);
    return 0;
}

int ramdisk_open(const char *path, uint64_t ram_size, uint64_t kernel_end, struct ramdisk *rd,
                 char *err, size_t errlen)
{
    rd->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd->fd < 0)
        return vmm_fail(err, errlen, "%s", strerror(errno));
    struct stat st;
    if (fstat(rd->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ramdisk_close(rd);
        return vmm_fail(err, errlen, "not a regular file");
    }
    rd->size = (uint64_t)st.st_size;
    if (ramdisk_place(ram_size, kernel_end, rd->size, &rd->gpa, err, errlen)) {
        ramdisk_close(rd);
        return -1;
    }
    return 0;
}

int ramdisk_load(struct ramdisk *rd, uint8_t *ram, char *err, size_t errlen)
{
    uint64_t done = 0;
    while (done < rd->size) {
        ssize_t n = pread(rd->fd, ram + rd->gpa + done, rd->size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            ramdisk_close(rd);
            return vmm_fail(err, errlen, "read at %llu of %llu bytes: %s",
                            (unsigned long long)done, (unsigned long long)rd->size,
                            e ? strerror(e) : "the file shrank");
        }
        done += (uint64_t)n;
    }
    ramdisk_close(rd);
    return 0;
}

void ramdisk_close(struct ramdisk *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
}

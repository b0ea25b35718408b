/* libFuzzer target for the kernel file path of tandem-vmm: the input is a
 * whole --kernel file (ELF or bzImage) through kernel_image_unwrap
 * (hypervisor/vmm/kernel_image.c), elf_parse (elf_load.c) and the ramdisk
 * placement (ramdisk.c). Checks: no crash or sanitizer report; a refusal
 * always carries a message; what is accepted lies inside the file, the
 * unpacked buffer and guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_load.h"
#include "kernel_image.h"
#include "public/tandem.h"
#include "ramdisk.h"

#define FUZZ_RAM (64ULL << 20)
#define FUZZ_MAX_UNPACKED (64ULL << 20)

static void check_image(const struct kernel_payload *kp, const struct elf_image *img)
{
    if (img->nsegs == 0 || img->nsegs > ELF_MAX_SEGMENTS)
        abort();
    for (unsigned int i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->segs[i];
        if (s->paddr < TANDEM_KERNEL_MIN_GPA || s->paddr + s->memsz > FUZZ_RAM ||
            s->filesz > s->memsz || s->offset + s->filesz > kp->elf_len)
            abort();
        if (s->paddr < img->low || s->paddr + s->memsz > img->high)
            abort();
    }
    if (img->entry < img->low || img->entry >= img->high)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    /* the parsers read only from buf; a private copy catches writes */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct kernel_payload kp;
    if (kernel_image_unwrap(buf, size, FUZZ_MAX_UNPACKED, &kp, err, sizeof(err))) {
        if (!err[0] || kp.buf)
            abort();
        free(buf);
        return 0;
    }
    if (kp.elf_len > (kp.buf ? FUZZ_MAX_UNPACKED : size))
        abort();
    if ((kp.comp == KCOMP_NONE) != (kp.buf == NULL) || (!kp.buf && kp.elf != buf))
        abort();
    struct elf_image img;
    err[0] = '\0';
    if (elf_parse(kp.elf, kp.elf_len, FUZZ_RAM, &img, err, sizeof(err)) == 0) {
        check_image(&kp, &img);
        /* a ramdisk as large as the input says, placed above this kernel */
        uint64_t want = size >= 4 ? (uint64_t)data[size - 1] << 20 | data[size - 2] << 12 : 1;
        uint64_t gpa;
        if (ramdisk_place(FUZZ_RAM, img.high, want, &gpa, err, sizeof(err)) == 0) {
            if (gpa % 4096 || gpa < img.high || gpa + want > FUZZ_RAM)
                abort();
        } else if (!err[0]) {
            abort();
        }
    } else if (!err[0]) {
        abort();
    }
    kernel_payload_release(&kp);
    free(buf);
    return 0;
}

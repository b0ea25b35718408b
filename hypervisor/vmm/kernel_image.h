/*
 * The --kernel file: a PVH ELF as it is, or a Linux bzImage whose
 * compressed payload is the PVH ELF. kernel_image_unwrap finds the ELF; the
 * ELF itself is then checked by elf_parse (elf_load.h).
 */
#ifndef TANDEM_VMM_KERNEL_IMAGE_H
#define TANDEM_VMM_KERNEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The largest ELF a bzImage may unpack to (its trailer is checked
 * against this before anything is allocated). */
#define KERNEL_UNPACKED_MAX (512ULL << 20)

enum kernel_compression {
    KCOMP_NONE,   /* the file is the ELF */
    KCOMP_GZIP, KCOMP_BZIP2, KCOMP_LZMA, KCOMP_XZ, KCOMP_LZO, KCOMP_LZ4, KCOMP_ZSTD,
};

struct kernel_payload {
    const uint8_t *elf;      /* the ELF: inside the file, or in buf */
    size_t elf_len;
    uint16_t boot_version;   /* bzImage boot protocol (0x20f = 2.15), 0 for an ELF */
    enum kernel_compression comp;
    uint8_t *buf;            /* the unpacked ELF (anonymous mapping), NULL for an ELF */
    size_t buf_len;
};

/*
 * Looks at file[0, len): an ELF is returned as it is; a bzImage's setup
 * header is checked and its payload unpacked into a new buffer of exactly
 * the size its trailer gives (at most max_unpacked bytes; a stream that
 * ends early or runs past it is refused). Returns 0, or -1 with a one-line
 * reason in err (nothing to release then). Never reads outside file.
 */
int kernel_image_unwrap(const uint8_t *file, size_t len, uint64_t max_unpacked,
                        struct kernel_payload *out, char *err, size_t errlen);

/* Frees the unpacked buffer, if any. */
void kernel_payload_release(struct kernel_payload *p);

/* "ELF", "gzip", "xz", ... */
const char *kernel_compression_name(enum kernel_compression c);

#endif

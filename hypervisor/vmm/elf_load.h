/*
 * PVH kernel loader: checks an ELF image (ELF32 or ELF64, x86) held in
 * memory, finds its XEN_ELFNOTE_PHYS32_ENTRY note and copies its PT_LOAD
 * segments to their physical addresses in guest RAM.
 */
#ifndef TANDEM_VMM_ELF_LOAD_H
#define TANDEM_VMM_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t paddr, offset, filesz, memsz;
};

struct elf_image {
    uint32_t entry;          /* PHYS32 entry point */
    char guest_os[16];       /* XEN_ELFNOTE_GUEST_OS ("linux", "Tandem"), "" if none */
    uint64_t low, high;      /* physical range covered by PT_LOAD segments */
    unsigned int nsegs;
    struct elf_segment segs[ELF_MAX_SEGMENTS];
};

/* Validates buf[0, len) against guest RAM of ram_size bytes. Returns 0, or
 * -1 with a one-line reason in err. Never reads outside buf. */
int elf_parse(const uint8_t *buf, size_t len, uint64_t ram_size, struct elf_image *img,
              char *err, size_t errlen);

/* Copies the segments (filesz bytes each) into ram; the rest of each
 * segment must already be zero (fresh guest RAM is). */
void elf_load(const uint8_t *buf, const struct elf_image *img, uint8_t *ram);

#endif

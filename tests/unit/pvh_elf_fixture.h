/* Building blocks of the small PVH ELF images the VMM's loader tests make
 * (vmm_elf.c, vmm_kernel_image.c). */
#ifndef TANDEM_TEST_PVH_ELF_FIXTURE_H
#define TANDEM_TEST_PVH_ELF_FIXTURE_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "public/elfnote.h"

/* An x86-64 ET_EXEC header at buf with phnum program headers right after
 * it (zeroed); returns them. */
static inline Elf64_Phdr *fixture_elf64(uint8_t *buf, unsigned int phnum)
{
    Elf64_Ehdr *e = (Elf64_Ehdr *)buf;
    memset(e, 0, sizeof(*e) + phnum * sizeof(Elf64_Phdr));
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_type = ET_EXEC;
    e->e_machine = EM_X86_64;
    e->e_phoff = sizeof(*e);
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = (uint16_t)phnum;
    return (Elf64_Phdr *)(buf + sizeof(*e));
}

/* The 20-byte "Xen" XEN_ELFNOTE_PHYS32_ENTRY note at `at`. */
static inline void fixture_pvh_note(uint8_t *at, uint32_t entry)
{
    uint32_t note[5] = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY, 0, entry };
    memcpy(&note[3], "Xen", 4);
    memcpy(at, note, sizeof(note));
}

#endif

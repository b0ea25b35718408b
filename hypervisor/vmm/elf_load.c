/*
 * ELF/PVH loader. Only the fields needed to place the image are read, and
 * every offset and size is checked against the file and guest RAM first.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "elf_load.h"
#include "errmsg.h"
#include "public/elfnote.h"
#include "public/tandem.h"

/* The program headers normalised to one shape for ELF32 and ELF64. */
struct phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

struct ehdr_info {
    int is64;
    uint64_t phoff;
    unsigned int phnum, phentsize;
};

static int read_ehdr(const uint8_t *buf, size_t len, struct ehdr_info *e, char *err, size_t errlen)
{
    if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
        return vmm_fail(err, errlen, "not an ELF file");
    if (buf[EI_DATA] != ELFDATA2LSB)
        return vmm_fail(err, errlen, "ELF is not little-endian");
    if (buf[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr h;
        if (len < sizeof(h))
            return vmm_fail(err, errlen, "ELF header truncated");
        memcpy(&h, buf, sizeof(h));
        if (h.e_machine != EM_X86_64)
            return vmm_fail(err, errlen, "ELF machine %u is not x86-64", h.e_machine);
        if (h.e_type != ET_EXEC)
            return vmm_fail(err, errlen, "ELF type %u is not an executable", h.e_type);
        e->is64 = 1;
        e->phoff = h.e_phoff;
        e->phnum = h.e_phnum;
        e->phentsize = h.e_phentsize;
        if (e->phentsize != sizeof(Elf64_Phdr))
            return vmm_fail(err, errlen, "bad ELF program header size %u", e->phentsize);
    } else if (buf[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr h;
        if (len < sizeof(h))
            return vmm_fail(err, errlen, "ELF header truncated");
        memcpy(&h, buf, sizeof(h));
        if (h.e_machine != EM_386 && h.e_machine != EM_X86_64)
            return vmm_fail(err, errlen, "ELF machine %u is not x86", h.e_machine);
        if (h.e_type != ET_EXEC)
            return vmm_fail(err, errlen, "ELF type %u is not an executable", h.e_type);
        e->is64 = 0;
        e->phoff = h.e_phoff;
        e->phnum = h.e_phnum;
        e->phentsize = h.e_phentsize;
        if (e->phentsize != sizeof(Elf32_Phdr))
            return vmm_fail(err, errlen, "bad ELF program header size %u", e->phentsize);
    } else {
        return vmm_fail(err, errlen, "unknown ELF class %u", buf[EI_CLASS]);
    }
    if (e->phnum == 0 || e->phnum > 64)
        return vmm_fail(err, errlen, "ELF has %u program headers", e->phnum);
    if (e->phoff > len || (uint64_t)e->phnum * e->phentsize > len - e->phoff)
        return vmm_fail(err, errlen, "ELF program headers lie outside the file");
    return 0;
}

static void get_phdr(const uint8_t *buf, const struct ehdr_info *e, unsigned int i, struct phdr *p)
{
    const uint8_t *at = buf + e->phoff + (uint64_t)i * e->phentsize;
    if (e->is64) {
        Elf64_Phdr h;
        memcpy(&h, at, sizeof(h));
        *p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
    } else {
        Elf32_Phdr h;
        memcpy(&h, at, sizeof(h));
        *p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
    }
}

/* Walks the notes of one PT_NOTE segment: PHYS32_ENTRY (returns 1 when
 * found) and GUEST_OS. */
static int scan_notes(const uint8_t *buf, const struct phdr *p, struct elf_image *img,
                      int have_entry)
{
    uint64_t off = p->offset, end = p->offset + p->filesz;
    int found = have_entry;
    while (end - off >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, buf + off, 4);
        memcpy(&descsz, buf + off + 4, 4);
        memcpy(&type, buf + off + 8, 4);
        uint64_t name_off = off + 12;
        uint64_t desc_off = name_off + ((namesz + 3ULL) & ~3ULL);
        uint64_t next = desc_off + ((descsz + 3ULL) & ~3ULL);
        if (next > end || next <= off)
            break;
        if (namesz == 4 && !memcmp(buf + name_off, XEN_ELFNOTE_NAME, 4)) {
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8) && !found) {
                memcpy(&img->entry, buf + desc_off, 4);
                found = 1;
            } else if (type == XEN_ELFNOTE_GUEST_OS && descsz > 0 && !img->guest_os[0]) {
                size_t n = descsz < sizeof(img->guest_os) - 1 ? descsz : sizeof(img->guest_os) - 1;
                memcpy(img->guest_os, buf + desc_off, n);
                img->guest_os[n] = 0;   /* the note's own NUL, or cut short */
                for (size_t i = 0; img->guest_os[i]; i++)
                    if ((unsigned char)img->guest_os[i] < 0x20 || (unsigned char)img->guest_os[i] > 0x7e)
                        img->guest_os[i] = '?';
            }
        }
        off = next;
    }
    return found;
}

static int add_load(struct elf_image *img, const struct phdr *p, size_t len, uint64_t ram_size,
                    char *err, size_t errlen)
{
    if (p->memsz == 0)
        return 0;
    if (img->nsegs == ELF_MAX_SEGMENTS)
        return vmm_fail(err, errlen, "ELF has more than %d loadable segments", ELF_MAX_SEGMENTS);
    if (p->filesz > p->memsz)
        return vmm_fail(err, errlen, "ELF segment file size exceeds its memory size");
    if (p->offset > len || p->filesz > len - p->offset)
        return vmm_fail(err, errlen, "ELF segment lies outside the file");
    if (p->paddr < TANDEM_KERNEL_MIN_GPA)
        return vmm_fail(err, errlen, "ELF segment at %#llx is below 1 MiB",
                        (unsigned long long)p->paddr);
    if (p->paddr > ram_size || p->memsz > ram_size - p->paddr)
        return vmm_fail(err, errlen, "ELF segment %#llx+%#llx does not fit in %llu MiB of RAM",
                        (unsigned long long)p->paddr, (unsigned long long)p->memsz,
                        (unsigned long long)(ram_size >> 20));
    img->segs[img->nsegs++] = (struct elf_segment){ p->paddr, p->offset, p->filesz, p->memsz };
    if (img->nsegs == 1 || p->paddr < img->low)
        img->low = p->paddr;
    if (p->paddr + p->memsz > img->high)
        img->high = p->paddr + p->memsz;
    return 0;
}

int elf_parse(const uint8_t *buf, size_t len, uint64_t ram_size, struct elf_image *img,
              char *err, size_t errlen)
{
    struct ehdr_info e = { 0 };
    memset(img, 0, sizeof(*img));
    if (read_ehdr(buf, len, &e, err, errlen))
        return -1;
    int have_entry = 0;
    for (unsigned int i = 0; i < e.phnum; i++) {
        struct phdr p;
        get_phdr(buf, &e, i, &p);
        if (p.type == PT_LOAD) {
            if (add_load(img, &p, len, ram_size, err, errlen))
                return -1;
        } else if (p.type == PT_NOTE) {
            if (p.offset > len || p.filesz > len - p.offset)
                return vmm_fail(err, errlen, "ELF note segment lies outside the file");
            have_entry = scan_notes(buf, &p, img, have_entry);
        }
    }
    if (!have_entry)
        return vmm_fail(err, errlen, "ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    if (img->nsegs == 0)
        return vmm_fail(err, errlen, "ELF has no loadable segment");
    if (img->entry < img->low || img->entry >= img->high)
        return vmm_fail(err, errlen, "PVH entry %#x lies outside the loaded image", img->entry);
    return 0;
}

void elf_load(const uint8_t *buf, const struct elf_image *img, uint8_t *ram)
{
    for (unsigned int i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->segs[i];
        memcpy(ram + s->paddr, buf + s->offset, s->filesz);
    }
}

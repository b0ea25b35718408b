/* Check suite for tandem-vmm's ELF/PVH loader (hypervisor/vmm/elf_load.c):
 * valid ELF64/ELF32 images load, and every malformed header, segment or
 * note is refused with a reason, without reading outside the buffer. */
#include <check.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "elf_load.h"
#include "public/elfnote.h"
#include "pvh_elf_fixture.h"

#define RAM (4u << 20)
#define PAYLOAD_OFF 0x200
#define NOTE_OFF 0x100

static uint8_t img[0x400];
static size_t img_len;
static char err[256];
static struct elf_image out;

/* A 64-bit image: one PT_LOAD of 16 bytes at 1 MiB (memsz 64 KiB), one
 * PT_NOTE with the PHYS32 entry = 1 MiB + 4. */
static void make64(void)
{
    memset(img, 0, sizeof(img));
    Elf64_Phdr *p = fixture_elf64(img, 2);
    p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = PAYLOAD_OFF, .p_paddr = 0x100000,
                         .p_filesz = 16, .p_memsz = 0x10000 };
    p[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20 };
    fixture_pvh_note(img + NOTE_OFF, 0x100004);
    for (int i = 0; i < 16; i++)
        img[PAYLOAD_OFF + i] = (uint8_t)(0xa0 + i);
    img_len = PAYLOAD_OFF + 16;
}

static Elf64_Phdr *ph64(int i)
{
    return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

static int parse(void)
{
    return elf_parse(img, img_len, RAM, &out, err, sizeof(err));
}

static void expect_fail(const char *what)
{
    ck_assert_int_eq(parse(), -1);
    ck_assert_msg(strstr(err, what), "error '%s' lacks '%s'", err, what);
}

START_TEST(valid64_loads)
{
    make64();
    ck_assert_int_eq(parse(), 0);
    ck_assert_uint_eq(out.entry, 0x100004);
    ck_assert_uint_eq(out.nsegs, 1);
    ck_assert_uint_eq(out.low, 0x100000);
    ck_assert_uint_eq(out.high, 0x110000);
    uint8_t *ram = calloc(1, RAM);
    elf_load(img, &out, ram);
    ck_assert_int_eq(memcmp(ram + 0x100000, img + PAYLOAD_OFF, 16), 0);
    ck_assert_int_eq(ram[0x100010], 0);
    free(ram);
}
END_TEST

START_TEST(valid32_loads)
{
    memset(img, 0, sizeof(img));
    Elf32_Ehdr *e = (Elf32_Ehdr *)img;
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS32;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_type = ET_EXEC;
    e->e_machine = EM_386;
    e->e_phoff = sizeof(*e);
    e->e_phentsize = sizeof(Elf32_Phdr);
    e->e_phnum = 2;
    Elf32_Phdr *p = (Elf32_Phdr *)(img + sizeof(*e));
    p[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = PAYLOAD_OFF, .p_paddr = 0x200000,
                         .p_filesz = 8, .p_memsz = 8 };
    p[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20 };
    fixture_pvh_note(img + NOTE_OFF, 0x200000);
    img_len = PAYLOAD_OFF + 8;
    ck_assert_int_eq(parse(), 0);
    ck_assert_uint_eq(out.entry, 0x200000);
}
END_TEST

START_TEST(not_elf)
{
    make64();
    img[1] = 'X';
    expect_fail("not an ELF");
    img_len = 3;
    expect_fail("not an ELF");
}
END_TEST

START_TEST(truncated_header)
{
    make64();
    img_len = sizeof(Elf64_Ehdr) - 1;
    expect_fail("truncated");
}
END_TEST

START_TEST(big_endian)
{
    make64();
    img[EI_DATA] = ELFDATA2MSB;
    expect_fail("little-endian");
}
END_TEST

START_TEST(wrong_machine_and_type)
{
    make64();
    ((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
    expect_fail("machine");
    make64();
    ((Elf64_Ehdr *)img)->e_type = ET_DYN;
    expect_fail("not an executable");
}
END_TEST

START_TEST(program_headers_outside_file)
{
    make64();
    ((Elf64_Ehdr *)img)->e_phoff = img_len - 10;
    expect_fail("outside the file");
    make64();
    ((Elf64_Ehdr *)img)->e_phoff = ~0ULL - 8;
    expect_fail("outside the file");
    make64();
    ((Elf64_Ehdr *)img)->e_phnum = 0;
    expect_fail("program headers");
}
END_TEST

START_TEST(segment_outside_file)
{
    make64();
    ph64(0)->p_filesz = 0x1000;
    expect_fail("outside the file");
    make64();
    ph64(0)->p_offset = ~0ULL;
    expect_fail("outside the file");
}
END_TEST

START_TEST(segment_placement)
{
    make64();
    ph64(0)->p_paddr = 0x1000;
    expect_fail("below 1 MiB");
    make64();
    ph64(0)->p_memsz = RAM;
    expect_fail("does not fit");
    make64();
    ph64(0)->p_paddr = ~0ULL - 0x10;  /* paddr + memsz wraps */
    expect_fail("does not fit");
    make64();
    ph64(0)->p_filesz = 32;
    ph64(0)->p_memsz = 16;
    expect_fail("exceeds its memory size");
}
END_TEST

START_TEST(note_problems)
{
    make64();
    ph64(1)->p_type = PT_NULL;
    expect_fail("no PVH entry note");
    make64();
    memcpy(img + NOTE_OFF + 12, "Xyz", 4);
    expect_fail("no PVH entry note");
    make64();
    uint32_t huge = 0xfffffff0;
    memcpy(img + NOTE_OFF + 4, &huge, 4); /* descsz runs off the note */
    expect_fail("no PVH entry note");
    make64();
    ph64(1)->p_filesz = 0x1000;
    expect_fail("outside the file");
}
END_TEST

START_TEST(entry_outside_image)
{
    make64();
    uint32_t entry = 0x300000;
    memcpy(img + NOTE_OFF + 16, &entry, 4);
    expect_fail("outside the loaded image");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_elf");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, valid64_loads);
    tcase_add_test(tc, valid32_loads);
    tcase_add_test(tc, not_elf);
    tcase_add_test(tc, truncated_header);
    tcase_add_test(tc, big_endian);
    tcase_add_test(tc, wrong_machine_and_type);
    tcase_add_test(tc, program_headers_outside_file);
    tcase_add_test(tc, segment_outside_file);
    tcase_add_test(tc, segment_placement);
    tcase_add_test(tc, note_problems);
    tcase_add_test(tc, entry_outside_image);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

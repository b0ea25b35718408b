/* Check suite for tandem-vmm's kernel file layer (hypervisor/vmm/
 * kernel_image.c) and ramdisk placement (ramdisk.c): a small PVH ELF is
 * compressed here by each library, wrapped in a minimal bzImage setup
 * header, unwrapped and parsed; every malformed header, payload, stream and
 * trailer is refused with its reason. */
#include <bzlib.h>
#include <check.h>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "elf_load.h"
#include "kernel_image.h"
#include "public/elfnote.h"
#include "pvh_elf_fixture.h"
#include "ramdisk.h"

#define RAM (64u << 20)
#define KPADDR 0x1000000u          /* Linux links at 16 MiB */
#define TEXT_LEN 0x6000u
#define DATA_LEN 0x1000u
#define ELF_LEN (0x1000u + TEXT_LEN + DATA_LEN)
#define PAYLOAD_OFF 0x40u          /* inside the protected-mode code */
#define MAX_FILE (ELF_LEN * 2 + 0x4000)

static uint8_t elf[ELF_LEN];
static uint8_t file[MAX_FILE];
static size_t file_len;
static char err[256];
static struct kernel_payload kp;

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Like Linux's vmlinux: PT_LOADs at 16 MiB with kernel virtual addresses
 * (one at vaddr 0, as .data..percpu), the last with a bss (memsz > filesz),
 * and a PT_NOTE with the PHYS32 entry. Contents are a pattern that
 * compresses but is not trivial. */
static void make_elf(void)
{
    memset(elf, 0, sizeof(elf));
    Elf64_Phdr *p = fixture_elf64(elf, 3);
    p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0xffffffff81000000ull,
                         .p_paddr = KPADDR, .p_filesz = TEXT_LEN, .p_memsz = TEXT_LEN };
    p[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000 + TEXT_LEN, .p_vaddr = 0,
                         .p_paddr = KPADDR + 0x200000, .p_filesz = DATA_LEN,
                         .p_memsz = 0x400000 };
    p[2] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = 20 };
    fixture_pvh_note(elf + 0x800, KPADDR + 0x850);
    uint32_t x = 12345;
    for (size_t i = 0x1000; i < ELF_LEN; i++) {
        x = x * 1103515245u + 12345u;
        elf[i] = (uint8_t)(i % 97 < 60 ? i % 13 : x >> 24);
    }
}

/* Each compressor writes the stream to out and returns its length (the
 * size trailer is added by wrap). */
static size_t comp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static size_t comp_bzip2(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    unsigned int len = (unsigned int)cap;
    ck_assert_int_eq(BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)in, (unsigned int)n, 9,
                                              0, 0), BZ_OK);
    return len;
}

/* xz as Linux makes it: the x86 BCJ filter, then LZMA2, crc32. */
static size_t comp_xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    lzma_options_lzma opt;
    ck_assert(!lzma_lzma_preset(&opt, 6));
    lzma_filter f[] = { { LZMA_FILTER_X86, NULL }, { LZMA_FILTER_LZMA2, &opt },
                        { LZMA_VLI_UNKNOWN, NULL } };
    size_t pos = 0;
    ck_assert_int_eq(lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, in, n, out, &pos, cap),
                     LZMA_OK);
    return pos;
}

static size_t comp_lzma(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    lzma_options_lzma opt;
    ck_assert(!lzma_lzma_preset(&opt, 6));
    lzma_stream s = LZMA_STREAM_INIT;
    ck_assert_int_eq(lzma_alone_encoder(&s, &opt), LZMA_OK);
    s.next_in = in;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = cap;
    ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    size_t len = s.total_out;
    lzma_end(&s);
    return len;
}

/* lz4 -l: the legacy magic, then (size, block) pairs; two blocks here. */
static size_t comp_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    put32(out, 0x184c2102u);
    size_t pos = 4, half = n / 2;
    for (int i = 0; i < 2; i++) {
        const uint8_t *src = in + (i ? half : 0);
        int len = (int)(i ? n - half : half);
        int c = LZ4_compress_default((const char *)src, (char *)out + pos + 4, len,
                                     (int)(cap - pos - 4));
        ck_assert_int_gt(c, 0);
        put32(out + pos, (uint32_t)c);
        pos += 4 + (size_t)c;
    }
    return pos;
}

static size_t comp_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t r = ZSTD_compress(out, cap, in, n, 19);
    ck_assert(!ZSTD_isError(r));
    return r;
}

static const struct {
    enum kernel_compression comp;
    size_t (*fn)(const uint8_t *, size_t, uint8_t *, size_t);
} formats[] = {
    { KCOMP_GZIP, comp_gzip }, { KCOMP_BZIP2, comp_bzip2 }, { KCOMP_LZMA, comp_lzma },
    { KCOMP_XZ, comp_xz },     { KCOMP_LZ4, comp_lz4 },     { KCOMP_ZSTD, comp_zstd },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static size_t pm_start(uint8_t setup_sects)
{
    return (size_t)((setup_sects ? setup_sects : 4) + 1) * 512;
}

/* A bzImage around stream[0, slen) + trailer: boot flag, "HdrS", version
 * 2.15, setup_sects, payload offset/length; 16 bytes of code after it. */
static void wrap(const uint8_t *stream, size_t slen, uint32_t trailer, uint8_t setup_sects)
{
    memset(file, 0, sizeof(file));
    file[0] = 'M';
    file[1] = 'Z';
    file[0x1f1] = setup_sects;
    file[0x1fe] = 0x55;
    file[0x1ff] = 0xaa;
    memcpy(file + 0x202, "HdrS", 4);
    file[0x206] = 0x0f;
    file[0x207] = 0x02;
    size_t pm = pm_start(setup_sects);
    ck_assert_uint_le(pm + PAYLOAD_OFF + slen + 4 + 16, sizeof(file));
    put32(file + 0x248, PAYLOAD_OFF);
    put32(file + 0x24c, (uint32_t)(slen + 4));
    memcpy(file + pm + PAYLOAD_OFF, stream, slen);
    put32(file + pm + PAYLOAD_OFF + slen, trailer);
    file_len = pm + PAYLOAD_OFF + slen + 4 + 16;
}

/* gzip's own ISIZE is Linux's trailer: the stream already ends with it. */
static void wrap_format(size_t i, const uint8_t *data, size_t n, uint32_t trailer)
{
    static uint8_t stream[MAX_FILE];
    size_t slen = formats[i].fn(data, n, stream, sizeof(stream));
    if (formats[i].comp == KCOMP_GZIP) {
        ck_assert_uint_ge(slen, 8);
        slen -= 4;
    }
    wrap(stream, slen, trailer, 1);
}

/* The test ELF as a zstd bzImage; returns the stream's length. */
static size_t make_zstd_bzimage(uint8_t setup_sects)
{
    static uint8_t stream[MAX_FILE];
    make_elf();
    size_t slen = comp_zstd(elf, ELF_LEN, stream, sizeof(stream));
    wrap(stream, slen, ELF_LEN, setup_sects);
    return slen;
}

static uint8_t *payload(void)
{
    return file + pm_start(file[0x1f1]) + PAYLOAD_OFF;
}

static uint32_t payload_len(void)
{
    uint32_t v;
    memcpy(&v, file + 0x24c, 4);
    return v;
}

static int unwrap(void)
{
    err[0] = '\0';
    return kernel_image_unwrap(file, file_len, KERNEL_UNPACKED_MAX, &kp, err, sizeof(err));
}

static void expect_fail(const char *what)
{
    ck_assert_int_eq(unwrap(), -1);
    ck_assert_msg(strstr(err, what), "error '%s' lacks '%s'", err, what);
    ck_assert_ptr_null(kp.buf);
}

START_TEST(every_format_unpacks_and_loads)
{
    make_elf();
    for (size_t i = 0; i < NFORMATS; i++) {
        wrap_format(i, elf, ELF_LEN, ELF_LEN);
        ck_assert_msg(unwrap() == 0, "%s: %s", kernel_compression_name(formats[i].comp), err);
        ck_assert_int_eq(kp.comp, formats[i].comp);
        ck_assert_uint_eq(kp.boot_version, 0x20f);
        ck_assert_uint_eq(kp.elf_len, ELF_LEN);
        ck_assert_int_eq(memcmp(kp.elf, elf, ELF_LEN), 0);
        struct elf_image img;
        ck_assert_msg(elf_parse(kp.elf, kp.elf_len, RAM, &img, err, sizeof(err)) == 0, "%s", err);
        ck_assert_uint_eq(img.entry, KPADDR + 0x850);
        ck_assert_uint_eq(img.nsegs, 2);
        ck_assert_uint_eq(img.low, KPADDR);
        ck_assert_uint_eq(img.high, KPADDR + 0x200000 + 0x400000);
        kernel_payload_release(&kp);
        ck_assert_ptr_null(kp.buf);
    }
}
END_TEST

/* Segments land at p_paddr (never the kernel virtual address), the bss
 * stays zero. */
START_TEST(linux_layout_loads_at_paddr)
{
    make_elf();
    struct elf_image img;
    ck_assert_int_eq(elf_parse(elf, ELF_LEN, RAM, &img, err, sizeof(err)), 0);
    uint8_t *ram = calloc(1, RAM);
    elf_load(elf, &img, ram);
    ck_assert_int_eq(memcmp(ram + KPADDR, elf + 0x1000, TEXT_LEN), 0);
    ck_assert_int_eq(memcmp(ram + KPADDR + 0x200000, elf + 0x1000 + TEXT_LEN, DATA_LEN), 0);
    for (size_t i = DATA_LEN; i < 0x400000; i += 0x1000)
        ck_assert_uint_eq(ram[KPADDR + 0x200000 + i], 0);
    free(ram);
    /* 16 MiB of RAM cannot hold a kernel at 16 MiB */
    ck_assert_int_eq(elf_parse(elf, ELF_LEN, 16u << 20, &img, err, sizeof(err)), -1);
    ck_assert(strstr(err, "does not fit"));
}
END_TEST

START_TEST(plain_elf_passes_through)
{
    make_elf();
    ck_assert_int_eq(kernel_image_unwrap(elf, ELF_LEN, KERNEL_UNPACKED_MAX, &kp, err, sizeof(err)), 0);
    ck_assert_ptr_eq(kp.elf, elf);
    ck_assert_uint_eq(kp.elf_len, ELF_LEN);
    ck_assert_int_eq(kp.comp, KCOMP_NONE);
    ck_assert_ptr_null(kp.buf);
    kernel_payload_release(&kp);
}
END_TEST

START_TEST(setup_sects_zero_means_four)
{
    make_zstd_bzimage(0);
    ck_assert_msg(unwrap() == 0, "%s", err);
    kernel_payload_release(&kp);
    file[0x1f1] = 1;   /* now the payload offset points at zeros */
    expect_fail("unknown compression");
}
END_TEST

START_TEST(neither_elf_nor_bzimage)
{
    memset(file, 'x', 0x300);
    file_len = 0x300;
    expect_fail("not an ELF file or a bzImage");
    file_len = 3;
    expect_fail("not an ELF file or a bzImage");
}
END_TEST

START_TEST(bad_setup_header)
{
    make_zstd_bzimage(1);
    size_t good_len = file_len;
    file_len = 0x24f;
    expect_fail("setup header truncated");
    file_len = good_len;
    file[0x206] = 0x07;              /* 2.07: no payload fields */
    expect_fail("older than 2.08");
    file[0x206] = 0x0f;
    file[0x1fe] = 0;
    expect_fail("boot flag");
    file[0x1fe] = 0x55;
    file[0x1f1] = 0xff;              /* setup longer than the file */
    expect_fail("ends past the file");
    file[0x1f1] = 1;
    ck_assert_int_eq(unwrap(), 0);
    kernel_payload_release(&kp);
}
END_TEST

START_TEST(payload_outside_file)
{
    size_t slen = make_zstd_bzimage(1);
    put32(file + 0x248, 0xffffffffu);           /* offset past the end */
    expect_fail("lies outside the file");
    put32(file + 0x248, PAYLOAD_OFF);
    put32(file + 0x24c, 0xfffffff0u);           /* length past the end (and wrapping) */
    expect_fail("lies outside the file");
    put32(file + 0x24c, (uint32_t)(file_len - 1024 - PAYLOAD_OFF + 1));
    expect_fail("lies outside the file");
    put32(file + 0x24c, 7);
    expect_fail("too short");
    put32(file + 0x24c, (uint32_t)slen + 4);
    file_len = 1024 + PAYLOAD_OFF + slen;       /* the file cut inside the payload */
    expect_fail("lies outside the file");
}
END_TEST

START_TEST(unsupported_and_unknown_compression)
{
    make_elf();
    static const uint8_t lzo[9] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a };
    static uint8_t stream[64];
    memcpy(stream, lzo, sizeof(lzo));
    wrap(stream, sizeof(stream), ELF_LEN, 1);
    expect_fail("compressed with lzo, which tandem-vmm does not support");
    payload()[0] = 0x42;
    expect_fail("unknown compression (magic 42 4c 5a 4f)");
}
END_TEST

/* The trailer is the only size the buffer has: one that is too small,
 * too large, zero or beyond the cap is refused for every format. */
START_TEST(lying_trailer)
{
    make_elf();
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *name = kernel_compression_name(formats[i].comp);
        int gzip = formats[i].comp == KCOMP_GZIP;  /* zlib checks its ISIZE (our trailer) too */
        wrap_format(i, elf, ELF_LEN, ELF_LEN - 1);
        ck_assert_msg(unwrap() == -1, "%s: a trailer one byte short was accepted", name);
        ck_assert_msg(strstr(err, "but its trailer says") || (gzip && strstr(err, "corrupt")),
                      "%s: %s", name, err);
        wrap_format(i, elf, ELF_LEN, ELF_LEN / 2);
        ck_assert_msg(unwrap() == -1, "%s: a short trailer was accepted", name);
        ck_assert_msg(strstr(err, "more than the") || strstr(err, "longer than the trailer"),
                      "%s: %s", name, err);
        wrap_format(i, elf, ELF_LEN, ELF_LEN + 4096);
        ck_assert_msg(unwrap() == -1, "%s: a long trailer was accepted", name);
        ck_assert_msg(strstr(err, "but its trailer says") ||
                      (gzip && strstr(err, "incorrect length check")), "%s: %s", name, err);
        wrap_format(i, elf, ELF_LEN, 0);
        expect_fail("its trailer says it unpacks to 0 bytes");
        wrap_format(i, elf, ELF_LEN, 0xffffffffu);
        expect_fail("not in 64..");
    }
    /* the cap is the caller's */
    wrap_format(0, elf, ELF_LEN, ELF_LEN);
    ck_assert_int_eq(kernel_image_unwrap(file, file_len, ELF_LEN - 1, &kp, err, sizeof(err)), -1);
    ck_assert(strstr(err, "not in 64.."));
}
END_TEST

/* lzma (alone) and lz4's legacy frame carry no checksum: flipped bytes
 * there may unpack, but never to the original. */
static int has_checksum(enum kernel_compression c)
{
    return c != KCOMP_LZMA && c != KCOMP_LZ4;
}

START_TEST(corrupt_and_truncated_streams)
{
    make_elf();
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *name = kernel_compression_name(formats[i].comp);
        wrap_format(i, elf, ELF_LEN, ELF_LEN);
        uint32_t plen = payload_len();
        for (uint32_t at = 8; at < plen - 8; at += plen / 7)
            payload()[at] ^= 0x5a;
        if (unwrap() == 0) {
            ck_assert_msg(!has_checksum(formats[i].comp), "%s: a corrupt stream was accepted", name);
            ck_assert_msg(memcmp(kp.elf, elf, ELF_LEN) != 0, "%s: corruption had no effect", name);
            kernel_payload_release(&kp);
        } else {
            ck_assert_msg(strstr(err, "bzImage payload"), "%s: %s", name, err);
        }
        /* the first half of the stream, then the trailer */
        wrap_format(i, elf, ELF_LEN, ELF_LEN);
        uint32_t half = (plen - 4) / 2;
        memmove(payload() + half, payload() + plen - 4, 4);
        put32(file + 0x24c, half + 4);
        ck_assert_msg(unwrap() == -1, "%s: a truncated stream was accepted", name);
        ck_assert_msg(strstr(err, "truncated") || strstr(err, "corrupt") ||
                      strstr(err, "but its trailer says"), "%s: %s", name, err);
    }
    /* lz4: a block size beyond any 8 MiB block's bound */
    wrap_format(4, elf, ELF_LEN, ELF_LEN);
    put32(payload() + 4, 0x7fffffffu);
    expect_fail("block size");
}
END_TEST

START_TEST(payload_elf_checked)
{
    make_elf();
    elf[0x808] = 0;   /* the note's type: no PHYS32 entry any more */
    wrap_format(3, elf, ELF_LEN, ELF_LEN);
    ck_assert_int_eq(unwrap(), 0);
    struct elf_image img;
    ck_assert_int_eq(elf_parse(kp.elf, kp.elf_len, RAM, &img, err, sizeof(err)), -1);
    ck_assert(strstr(err, "no PVH entry note"));
    kernel_payload_release(&kp);
}
END_TEST

START_TEST(ramdisk_goes_high_above_the_kernel)
{
    uint64_t gpa = 0;
    ck_assert_int_eq(ramdisk_place(RAM, KPADDR + 0x600000, 10000, &gpa, err, sizeof(err)), 0);
    ck_assert_uint_eq(gpa % 4096, 0);
    ck_assert_uint_le(gpa + 10000, RAM);
    ck_assert_uint_gt(gpa + 10000 + 4096, RAM);          /* as high as fits */
    /* exactly the room between the kernel's (rounded up) end and RAM's end */
    uint64_t room = RAM - (KPADDR + 0x601000);
    ck_assert_int_eq(ramdisk_place(RAM, KPADDR + 0x600001, room, &gpa, err, sizeof(err)), 0);
    ck_assert_uint_eq(gpa, KPADDR + 0x601000);
    ck_assert_int_eq(ramdisk_place(RAM, KPADDR + 0x600001, room + 1, &gpa, err, sizeof(err)), -1);
    ck_assert(strstr(err, "do not fit"));
    ck_assert_int_eq(ramdisk_place(RAM, KPADDR, 0, &gpa, err, sizeof(err)), -1);
    ck_assert(strstr(err, "empty"));
    /* a RAM size that is not page-aligned, a kernel at its very end */
    ck_assert_int_eq(ramdisk_place(RAM + 100, KPADDR, 4096, &gpa, err, sizeof(err)), 0);
    ck_assert_uint_eq(gpa, RAM - 4096);
    ck_assert_int_eq(ramdisk_place(RAM, RAM, 1, &gpa, err, sizeof(err)), -1);
    ck_assert_int_eq(ramdisk_place(RAM, UINT64_MAX, 1, &gpa, err, sizeof(err)), -1);
    /* never into the low boot data, even for a kernel that ends low */
    ck_assert_int_eq(ramdisk_place(2u << 20, 0, (1u << 20) + 1, &gpa, err, sizeof(err)), -1);
    ck_assert_int_eq(ramdisk_place(2u << 20, 0, 1u << 20, &gpa, err, sizeof(err)), 0);
    ck_assert_uint_eq(gpa, 1u << 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_kernel_image");
    TCase *tc = tcase_create("kernel_image");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_format_unpacks_and_loads);
    tcase_add_test(tc, linux_layout_loads_at_paddr);
    tcase_add_test(tc, plain_elf_passes_through);
    tcase_add_test(tc, setup_sects_zero_means_four);
    tcase_add_test(tc, neither_elf_nor_bzimage);
    tcase_add_test(tc, bad_setup_header);
    tcase_add_test(tc, payload_outside_file);
    tcase_add_test(tc, unsupported_and_unknown_compression);
    tcase_add_test(tc, lying_trailer);
    tcase_add_test(tc, corrupt_and_truncated_streams);
    tcase_add_test(tc, payload_elf_checked);
    tcase_add_test(tc, ramdisk_goes_high_above_the_kernel);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/*
 * The kernel file's outer layer. A Linux bzImage (boot protocol 2.08+,
 * Documentation/x86/boot.rst) carries the kernel ELF compressed after its
 * real-mode setup: setup_sects (0x1f1) gives the size of the setup, the
 * protected-mode code starts at (setup_sects + 1) * 512, and payload_offset
 * / payload_length (0x248 / 0x24c) place the compressed ELF inside that
 * code. The payload's last 4 bytes are the unpacked size (little-endian) in
 * every format. Everything is checked here before anything is unpacked;
 * each decompressor writes only into a buffer of that size plus one byte,
 * so a stream longer than its trailer says is caught, never followed.
 */
#include <bzlib.h>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "errmsg.h"
#include "kernel_image.h"

/* Setup header offsets (boot.rst "The Real-Mode Kernel Header"). */
#define BZ_SETUP_SECTS    0x1f1
#define BZ_BOOT_FLAG      0x1fe
#define BZ_HEADER_MAGIC   0x202
#define BZ_VERSION        0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_HEADER_END     0x250   /* we read nothing beyond payload_length */

#define BZ_MIN_VERSION    0x208   /* payload_offset/length appeared in 2.08 */
#define BZ_BOOT_FLAG_VAL  0xaa55
#define BZ_SECTOR         512
#define BZ_DEFAULT_SECTS  4       /* setup_sects 0 means 4 */

/* liblzma may not allocate more than this for one kernel (xz and lzma
 * kernels use a 32-64 MiB dictionary). */
#define LZMA_MEMLIMIT     (256ULL << 20)

/* lz4 -l (the legacy frame Linux uses): this magic, then blocks of
 * (4-byte compressed size, data), each unpacking to at most 8 MiB. */
#define LZ4_LEGACY_MAGIC  0x184c2102u
#define LZ4_LEGACY_BLOCK  (8u << 20)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

const char *kernel_compression_name(enum kernel_compression c)
{
    switch (c) {
    case KCOMP_NONE: return "ELF";
    case KCOMP_GZIP: return "gzip";
    case KCOMP_BZIP2: return "bzip2";
    case KCOMP_LZMA: return "lzma";
    case KCOMP_XZ: return "xz";
    case KCOMP_LZO: return "lzo";
    case KCOMP_LZ4: return "lz4";
    case KCOMP_ZSTD: return "zstd";
    }
    return "?";
}

/* The magics Linux's decompressors recognise (lib/decompress.c's table). */
static int detect_compression(const uint8_t *p, size_t len, enum kernel_compression *c)
{
    static const struct {
        enum kernel_compression c;
        uint8_t n, magic[6];
    } tab[] = {
        { KCOMP_GZIP, 2, { 0x1f, 0x8b } },
        { KCOMP_GZIP, 2, { 0x1f, 0x9e } },
        { KCOMP_BZIP2, 3, { 'B', 'Z', 'h' } },
        { KCOMP_LZMA, 3, { 0x5d, 0x00, 0x00 } },
        { KCOMP_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
        { KCOMP_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
        { KCOMP_LZ4, 4, { 0x02, 0x21, 0x4c, 0x18 } },
        { KCOMP_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (len >= tab[i].n && !memcmp(p, tab[i].magic, tab[i].n)) {
            *c = tab[i].c;
            return 0;
        }
    return -1;
}

/* What a decompressor saw; the messages are made in one place (unpack). */
enum unpack_result { UNPACK_DONE, UNPACK_TOO_LONG, UNPACK_TRUNCATED, UNPACK_CORRUPT,
                     UNPACK_NOMEM };

struct unpack {
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t out_cap;          /* trailer size + 1 */
    size_t got;              /* bytes written when UNPACK_DONE */
    char detail[128];        /* the library's word for a corrupt stream */
};

static enum unpack_result by_room(size_t in_left, size_t out_left)
{
    if (out_left == 0)
        return UNPACK_TOO_LONG;
    if (in_left == 0)
        return UNPACK_TRUNCATED;
    return UNPACK_CORRUPT;
}

static enum unpack_result unpack_gzip(struct unpack *u)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)   /* 16: gzip wrapper only */
        return UNPACK_NOMEM;
    z.next_in = (Bytef *)u->in;
    z.avail_in = (uInt)u->in_len;
    z.next_out = u->out;
    z.avail_out = (uInt)u->out_cap;
    int r;
    do
        r = inflate(&z, Z_NO_FLUSH);
    while (r == Z_OK && z.avail_in && z.avail_out);
    enum unpack_result res;
    if (r == Z_STREAM_END) {
        u->got = z.total_out;
        res = UNPACK_DONE;
    } else if (r == Z_MEM_ERROR) {
        res = UNPACK_NOMEM;
    } else {
        res = r == Z_DATA_ERROR ? UNPACK_CORRUPT : by_room(z.avail_in, z.avail_out);
        snprintf(u->detail, sizeof(u->detail), "zlib: %s", z.msg ? z.msg : "bad data");
    }
    inflateEnd(&z);
    return res;
}

static enum unpack_result unpack_bzip2(struct unpack *u)
{
    bz_stream b;
    memset(&b, 0, sizeof(b));
    if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
        return UNPACK_NOMEM;
    b.next_in = (char *)u->in;
    b.avail_in = (unsigned int)u->in_len;
    b.next_out = (char *)u->out;
    b.avail_out = (unsigned int)u->out_cap;
    int r;
    do
        r = BZ2_bzDecompress(&b);
    while (r == BZ_OK && b.avail_in && b.avail_out);
    enum unpack_result res;
    if (r == BZ_STREAM_END) {
        u->got = (size_t)b.total_out_lo32 | (size_t)b.total_out_hi32 << 32;
        res = UNPACK_DONE;
    } else if (r == BZ_MEM_ERROR) {
        res = UNPACK_NOMEM;
    } else {
        res = r == BZ_OK ? by_room(b.avail_in, b.avail_out) : UNPACK_CORRUPT;
        snprintf(u->detail, sizeof(u->detail), "libbz2: error %d", r);
    }
    BZ2_bzDecompressEnd(&b);
    return res;
}

/* xz and the older .lzma ("alone") format, both liblzma. */
static enum unpack_result unpack_lzma(struct unpack *u, int xz)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r = xz ? lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0)
                    : lzma_alone_decoder(&s, LZMA_MEMLIMIT);
    if (r != LZMA_OK)
        return UNPACK_NOMEM;
    s.next_in = u->in;
    s.avail_in = u->in_len;
    s.next_out = u->out;
    s.avail_out = u->out_cap;
    do
        r = lzma_code(&s, LZMA_RUN);
    while (r == LZMA_OK && s.avail_in && s.avail_out);
    enum unpack_result res;
    if (r == LZMA_STREAM_END) {
        u->got = s.total_out;
        res = UNPACK_DONE;
    } else if (r == LZMA_MEM_ERROR) {
        res = UNPACK_NOMEM;
    } else {
        res = r == LZMA_OK || r == LZMA_BUF_ERROR ? by_room(s.avail_in, s.avail_out)
                                                  : UNPACK_CORRUPT;
        snprintf(u->detail, sizeof(u->detail), "liblzma: %s",
                 r == LZMA_MEMLIMIT_ERROR ? "needs more than 256 MiB of decoder memory"
                 : r == LZMA_FORMAT_ERROR ? "not a valid header"
                 : r == LZMA_OPTIONS_ERROR ? "unsupported options"
                 : "bad data");
    }
    lzma_end(&s);
    return res;
}

/* One zstd frame, decoded in one call straight into the buffer. */
static enum unpack_result unpack_zstd(struct unpack *u)
{
    size_t frame = ZSTD_findFrameCompressedSize(u->in, u->in_len);
    size_t r = ZSTD_isError(frame) ? frame : ZSTD_decompress(u->out, u->out_cap, u->in, frame);
    if (!ZSTD_isError(r)) {
        u->got = r;
        return UNPACK_DONE;
    }
    snprintf(u->detail, sizeof(u->detail), "libzstd: %s", ZSTD_getErrorName(r));
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_dstSize_tooSmall:
        return UNPACK_TOO_LONG;
    case ZSTD_error_srcSize_wrong:
        return UNPACK_TRUNCATED;
    case ZSTD_error_memory_allocation:
        return UNPACK_NOMEM;
    default:
        return UNPACK_CORRUPT;
    }
}

/* The legacy lz4 frame ends where its input ends: in_len excludes the
 * size trailer. */
static enum unpack_result unpack_lz4(struct unpack *u)
{
    size_t pos = 4, done = 0;   /* past the magic */
    while (pos < u->in_len) {
        if (u->in_len - pos < 4)
            return UNPACK_TRUNCATED;
        uint32_t csz = le32(u->in + pos);
        pos += 4;
        if (csz == LZ4_LEGACY_MAGIC)   /* concatenated frames */
            continue;
        if (csz == 0 || csz > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
            snprintf(u->detail, sizeof(u->detail), "block size %u", csz);
            return UNPACK_CORRUPT;
        }
        if (csz > u->in_len - pos)
            return UNPACK_TRUNCATED;
        size_t room = u->out_cap - done;
        if (room == 0)
            return UNPACK_TOO_LONG;
        int cap = room < LZ4_LEGACY_BLOCK ? (int)room : (int)LZ4_LEGACY_BLOCK;
        int n = LZ4_decompress_safe((const char *)u->in + pos, (char *)u->out + done, (int)csz, cap);
        if (n < 0) {
            /* liblz4 does not tell a full buffer from bad data */
            snprintf(u->detail, sizeof(u->detail), "liblz4: bad block at payload offset %zu%s",
                     pos - 4, room < LZ4_LEGACY_BLOCK ? " (or longer than the trailer says)" : "");
            return UNPACK_CORRUPT;
        }
        done += (size_t)n;
        pos += csz;
    }
    u->got = done;
    return UNPACK_DONE;
}

static void *map_buffer(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int unpack(const uint8_t *payload, size_t plen, enum kernel_compression comp,
                  uint64_t max_unpacked, struct kernel_payload *out, char *err, size_t errlen)
{
    const char *name = kernel_compression_name(comp);
    uint32_t size = le32(payload + plen - 4);
    if (comp == KCOMP_LZO)
        return vmm_fail(err, errlen, "bzImage payload is compressed with lzo, which tandem-vmm "
                        "does not support (gzip, bzip2, lzma, xz, lz4 and zstd are)");
    if (size < sizeof(Elf64_Ehdr) || size > max_unpacked)
        return vmm_fail(err, errlen, "bzImage payload (%s): its trailer says it unpacks to %u "
                        "bytes, not in %zu..%llu", name, size, sizeof(Elf64_Ehdr),
                        (unsigned long long)max_unpacked);
    struct unpack u = { .in = payload, .in_len = comp == KCOMP_LZ4 ? plen - 4 : plen,
                        .out_cap = (size_t)size + 1 };
    u.out = map_buffer(u.out_cap);
    if (!u.out)
        return vmm_fail(err, errlen, "bzImage payload (%s): cannot allocate %u bytes", name, size);
    enum unpack_result r;
    switch (comp) {
    case KCOMP_GZIP: r = unpack_gzip(&u); break;
    case KCOMP_BZIP2: r = unpack_bzip2(&u); break;
    case KCOMP_LZMA: r = unpack_lzma(&u, 0); break;
    case KCOMP_XZ: r = unpack_lzma(&u, 1); break;
    case KCOMP_LZ4: r = unpack_lz4(&u); break;
    default: r = unpack_zstd(&u); break;
    }
    if (r == UNPACK_DONE && u.got == size) {
        *out = (struct kernel_payload){ .elf = u.out, .elf_len = size, .comp = comp,
                                        .buf = u.out, .buf_len = u.out_cap };
        return 0;
    }
    munmap(u.out, u.out_cap);
    switch (r) {
    case UNPACK_DONE:
        return vmm_fail(err, errlen, "bzImage payload (%s) unpacks to %zu bytes, but its trailer "
                        "says %u", name, u.got, size);
    case UNPACK_TOO_LONG:
        return vmm_fail(err, errlen, "bzImage payload (%s) unpacks to more than the %u bytes its "
                        "trailer says", name, size);
    case UNPACK_TRUNCATED:
        return vmm_fail(err, errlen, "bzImage payload (%s) is truncated (the stream ends before "
                        "its end marker)", name);
    case UNPACK_NOMEM:
        return vmm_fail(err, errlen, "bzImage payload (%s): out of memory", name);
    default:
        return vmm_fail(err, errlen, "bzImage payload (%s) is corrupt (%s)", name,
                        u.detail[0] ? u.detail : "bad data");
    }
}

static int unwrap_bzimage(const uint8_t *file, size_t len, uint64_t max_unpacked,
                          struct kernel_payload *out, char *err, size_t errlen)
{
    if (len < BZ_HEADER_END)
        return vmm_fail(err, errlen, "bzImage setup header truncated (%zu bytes)", len);
    uint16_t version = le16(file + BZ_VERSION);
    if (version < BZ_MIN_VERSION)
        return vmm_fail(err, errlen, "bzImage boot protocol %u.%02u is older than 2.08 (no "
                        "payload fields)", version >> 8, version & 0xff);
    uint16_t flag = le16(file + BZ_BOOT_FLAG);
    if (flag != BZ_BOOT_FLAG_VAL)
        return vmm_fail(err, errlen, "bzImage boot flag %#x is not 0xaa55", flag);
    unsigned int sects = file[BZ_SETUP_SECTS] ? file[BZ_SETUP_SECTS] : BZ_DEFAULT_SECTS;
    size_t pm = (size_t)(sects + 1) * BZ_SECTOR;
    if (pm >= len)
        return vmm_fail(err, errlen, "bzImage setup (%u sectors) ends past the file's %zu bytes",
                        sects, len);
    uint32_t poff = le32(file + BZ_PAYLOAD_OFFSET), plen = le32(file + BZ_PAYLOAD_LENGTH);
    if (poff > len - pm || plen > len - pm - poff)
        return vmm_fail(err, errlen, "bzImage payload %#x+%#x lies outside the file (protected-"
                        "mode code at %#zx, file %zu bytes)", poff, plen, pm, len);
    if (plen < 8)
        return vmm_fail(err, errlen, "bzImage payload of %u bytes is too short", plen);
    const uint8_t *payload = file + pm + poff;
    enum kernel_compression comp;
    if (detect_compression(payload, plen, &comp))
        return vmm_fail(err, errlen, "bzImage payload has an unknown compression (magic %02x %02x "
                        "%02x %02x)", payload[0], payload[1], payload[2], payload[3]);
    if (unpack(payload, plen, comp, max_unpacked, out, err, errlen))
        return -1;
    out->boot_version = version;
    return 0;
}

int kernel_image_unwrap(const uint8_t *file, size_t len, uint64_t max_unpacked,
                        struct kernel_payload *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (len >= SELFMAG && !memcmp(file, ELFMAG, SELFMAG)) {
        *out = (struct kernel_payload){ .elf = file, .elf_len = len, .comp = KCOMP_NONE };
        return 0;
    }
    if (len >= BZ_HEADER_MAGIC + 4 && !memcmp(file + BZ_HEADER_MAGIC, "HdrS", 4))
        return unwrap_bzimage(file, len, max_unpacked, out, err, errlen);
    return vmm_fail(err, errlen, "not an ELF file or a bzImage (no ELF magic, no \"HdrS\" at 0x202)");
}

void kernel_payload_release(struct kernel_payload *p)
{
    if (p->buf)
        munmap(p->buf, p->buf_len);
    p->buf = NULL;
    p->elf = NULL;
}

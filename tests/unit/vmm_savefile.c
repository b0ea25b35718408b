/* Check suite for the save file format (hypervisor/vmm/savefile.c): a
 * header built and parsed back, and every way a file can be wrong —
 * truncated, trailing bytes, bad magic, corrupted header or memory, a
 * format or section version this reader does not know, sizes and ranges
 * that do not add up — refused with a message that says which. */
#include <check.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "public/tandem.h"
#include "savefile.h"

#define MEM_MIB 4
#define RAM (MEM_MIB << 20)

static char dir[64];
static char path[128];
static uint8_t regs[144], sregs[312], xsave[4096], xcrs[392], lapic[1024], mp[4], events[64];
static uint8_t data[3 * 4096];
static struct save_extent extents[2] = { { 0, 2 * 4096 }, { RAM + 0x1000, 4096 } };
static struct save_port ports[3] = {
    { 1, 2, 0, 0, 0, 1 }, { 2, 2, 0, 0, 0, 2 }, { 3, 3, 0, 0, 0, 0 },
};

static const struct save_expect expect = {
    sizeof(regs), sizeof(sregs), sizeof(xcrs), sizeof(lapic), sizeof(mp), sizeof(events),
    sizeof(xsave),
};

static void sample(struct save_header *h)
{
    memset(h, 0, sizeof(*h));
    h->memory_mib = MEM_MIB;
    h->vcpus = 2;
    h->grant_frames = 32;
    h->domid = 7;
    h->name = "saved-guest";
    h->uuid = "12345678-1234-4234-8234-123456789abc";
    h->cmdline = "app=blkverify n=3";
    h->cpu_mode = "plain";
    h->kernel = "/boot/tandem.elf";
    h->toolstack = "name = \"saved-guest\"\nmemory = 4\n";
    h->tsc_khz = 2600000;
    h->tsc_mul = 0x6270000;
    h->tsc_shift = -1;
    h->ref_tsc = 1000;
    h->ref_ns = 0;
    h->saved_ns = 123456789;
    h->shared_info_gpa = TANDEM_PHYSMAP_GPA;
    h->callback_irq = (2ULL << 56) | 0xf3;
    h->gnttab_version = 1;
    h->gnttab_max_frames = 32;
    h->gnttab_nr_frames = 2;
    h->gnttab_frames[0] = TANDEM_PHYSMAP_GPA + 0x1000;
    h->gnttab_frames[1] = TANDEM_PHYSMAP_GPA + 0x2000;
    h->nr_ports = 3;
    h->ports = ports;
    h->xenstore_ring = TANDEM_XENSTORE_RING_GPA;
    h->xenstore_port = TANDEM_XENSTORE_PORT;
    h->console_ring = TANDEM_CONSOLE_RING_GPA;
    h->console_port = TANDEM_CONSOLE_PORT;
    for (unsigned int i = 0; i < 2; i++) {
        struct save_vcpu *c = &h->cpu[i];
        c->initialised = c->up = i == 0;
        c->vcpu_info_gpa = i == 0 ? 0x200040 : 0;
        c->regs = (struct save_blob){ regs, sizeof(regs) };
        c->sregs = (struct save_blob){ sregs, sizeof(sregs) };
        c->xsave = (struct save_blob){ xsave, sizeof(xsave) };
        c->xcrs = (struct save_blob){ xcrs, sizeof(xcrs) };
        c->lapic = (struct save_blob){ lapic, sizeof(lapic) };
        c->mp_state = (struct save_blob){ mp, sizeof(mp) };
        c->events = (struct save_blob){ events, sizeof(events) };
        c->nr_msrs = 2;
        c->msrs[0] = (struct save_msr){ 0xc0000082, 0xffffffff81000000ULL };
        c->msrs[1] = (struct save_msr){ 0x277, 0x0007040600070406ULL };
    }
    h->ram_size = RAM;
    h->mem_size = RAM + TANDEM_REGION_SIZE;
    h->nr_extents = 2;
    h->extents = extents;
}

/* The whole file in memory: header, padding, data. */
static uint8_t *make_file(struct save_header *h, size_t *len)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    h->mem_checksum = save_checksum(SAVE_CHECKSUM_INIT, data, sizeof(data));
    void *blob;
    size_t blen;
    char err[256];
    ck_assert_msg(save_header_build(h, &blob, &blen, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(h->data_len, sizeof(data));
    ck_assert_uint_eq(h->data_offset % SAVE_DATA_ALIGN, 0);
    *len = h->data_offset + h->data_len;
    uint8_t *f = calloc(1, *len);
    memcpy(f, blob, blen);
    memcpy(f + h->data_offset, data, sizeof(data));
    free(blob);
    return f;
}

static void write_file(const uint8_t *f, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, f, len), (ssize_t)len);
    close(fd);
}

/* Opens path: "" on success (fields checked by the caller), else the message. */
static const char *open_msg(bool verify, struct save_header *out)
{
    static char err[512];
    struct save_header h;
    void *hdr;
    int fd = save_file_open(path, &expect, verify, &h, &hdr, err, sizeof(err));
    if (fd < 0)
        return err;
    if (out)
        *out = h, out->ports = NULL, out->extents = NULL;
    save_file_close(fd, &h, hdr);
    err[0] = '\0';
    return err;
}

static void refused(const char *want)
{
    const char *m = open_msg(true, NULL);
    ck_assert_msg(*m, "accepted; expected '%s'", want);
    ck_assert_msg(strstr(m, want), "message '%s' lacks '%s'", m, want);
    ck_assert_msg(strstr(m, path) == m, "message '%s' does not start with the file", m);
}

/* Rewrites a property in place and seals the header checksum again, as a
 * writer of a different version would have. */
static void reseal(uint8_t *f)
{
    int len;
    uint8_t *p = fdt_getprop_w(f, 0, "header-checksum", &len);
    ck_assert_ptr_nonnull(p);
    memset(p, 0, 8);
    fdt64_t sum = cpu_to_fdt64(save_checksum(SAVE_CHECKSUM_INIT, f, fdt_totalsize(f)));
    memcpy(p, &sum, 8);
}

static void set_u32(uint8_t *f, const char *node, const char *prop, uint32_t v)
{
    int n = fdt_path_offset(f, node);
    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(fdt_setprop_inplace_u32(f, n, prop, v), 0);
    reseal(f);
}

static void set_u64(uint8_t *f, const char *node, const char *prop, uint64_t v)
{
    int n = fdt_path_offset(f, node);
    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(fdt_setprop_inplace_u64(f, n, prop, v), 0);
    reseal(f);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tandem-savefile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/guest.save", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

START_TEST(round_trip)
{
    struct save_header h, back;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    write_file(f, len);
    ck_assert_str_eq(open_msg(true, &back), "");
    ck_assert_uint_eq(back.memory_mib, MEM_MIB);
    ck_assert_uint_eq(back.vcpus, 2);
    ck_assert_uint_eq(back.domid, 7);
    ck_assert_uint_eq(back.gnttab_nr_frames, 2);
    ck_assert_uint_eq(back.gnttab_frames[1], TANDEM_PHYSMAP_GPA + 0x2000);
    ck_assert_uint_eq(back.nr_ports, 3);
    ck_assert_uint_eq(back.nr_extents, 2);
    ck_assert_uint_eq(back.data_len, sizeof(data));
    ck_assert_uint_eq(back.cpu[0].nr_msrs, 2);
    ck_assert_uint_eq(back.cpu[0].msrs[0].value, 0xffffffff81000000ULL);
    ck_assert(back.cpu[0].up && !back.cpu[1].up);
    ck_assert_uint_eq(back.callback_irq, (2ULL << 56) | 0xf3);
    ck_assert_int_eq(back.tsc_shift, -1);
    ck_assert_uint_eq(back.saved_ns, 123456789);
    free(f);
}
END_TEST

START_TEST(strings_come_back)
{
    struct save_header h, back;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    static uint8_t keep[65536];
    memcpy(keep, f, h.data_offset);
    char err[256];
    ck_assert_msg(save_header_parse(keep, h.data_offset, len, &expect, &back, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_str_eq(back.name, "saved-guest");
    ck_assert_str_eq(back.cmdline, "app=blkverify n=3");
    ck_assert_str_eq(back.toolstack, "name = \"saved-guest\"\nmemory = 4\n");
    ck_assert_str_eq(back.cpu_mode, "plain");
    ck_assert_uint_eq(back.ports[2].state, 3);
    ck_assert_uint_eq(back.extents[1].offset, RAM + 0x1000);
    save_header_free(&back);
    free(f);
}
END_TEST

START_TEST(truncated_anywhere)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    size_t cuts[] = { 0, 10, 39, 100, h.data_offset - 1, h.data_offset, len - 4096, len - 1 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        write_file(f, cuts[i]);
        refused("truncated");
    }
    free(f);
}
END_TEST

START_TEST(trailing_bytes)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    uint8_t *g = calloc(1, len + 5);
    memcpy(g, f, len);
    write_file(g, len + 5);
    refused("5 bytes after the end");
    free(f);
    free(g);
}
END_TEST

START_TEST(bad_magic)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    f[0] = 'X';
    write_file(f, len);
    refused("bad magic");
    free(f);
}
END_TEST

START_TEST(corrupted_header)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    /* a byte of the toolstack text: still a valid tree, wrong checksum */
    uint8_t *p = memmem(f, h.data_offset, "memory = 4", 10);
    ck_assert_ptr_nonnull(p);
    p[9] = '5';
    write_file(f, len);
    refused("header checksum mismatch");
    free(f);
}
END_TEST

START_TEST(corrupted_memory)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    f[h.data_offset + 4097] ^= 0x40;
    write_file(f, len);
    ck_assert_str_eq(open_msg(false, NULL), "");   /* the header alone is fine */
    refused("guest memory checksum mismatch");
    free(f);
}
END_TEST

START_TEST(newer_format_version)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    set_u32(f, "/", "format-version", 2);
    write_file(f, len);
    refused("format version 2; this tandem reads version 1");
    free(f);
}
END_TEST

START_TEST(newer_section_version)
{
    static const char *const sections[] = { "/config", "/clock", "/cpus", "/physmap", "/gnttab",
                                            "/evtchn", "/xenstore", "/console", "/memory" };
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        struct save_header h;
        size_t len;
        sample(&h);
        uint8_t *f = make_file(&h, &len);
        set_u32(f, sections[i], "version", 9);
        write_file(f, len);
        char want[64];
        snprintf(want, sizeof(want), "section %s: version 9", sections[i] + 1);
        refused(want);
        free(f);
    }
}
END_TEST

START_TEST(sizes_that_do_not_add_up)
{
    struct save_header h;
    size_t len;
    sample(&h);
    uint8_t *f = make_file(&h, &len);
    set_u64(f, "/memory", "ram-size", RAM * 2ULL);
    write_file(f, len);
    refused("section memory: ram-size");
    free(f);

    sample(&h);
    f = make_file(&h, &len);
    set_u32(f, "/config", "vcpus", 3);
    write_file(f, len);
    refused("section cpus: 2 vCPUs, config says 3");
    free(f);

    sample(&h);
    f = make_file(&h, &len);
    set_u64(f, "/physmap", "shared-info-gpa", 0x1000);
    write_file(f, len);
    refused("shared-info-gpa 0x1000 is not a page of the physmap window");
    free(f);
}
END_TEST

START_TEST(extents_outside_memory_or_overlapping)
{
    struct save_header h;
    size_t len;
    sample(&h);
    struct save_extent bad[2] = { { 0, 2 * 4096 }, { 4096, 4096 } };
    h.extents = bad;
    uint8_t *f = make_file(&h, &len);
    write_file(f, len);
    refused("extent 1");
    free(f);

    sample(&h);
    struct save_extent beyond[2] = { { 0, 2 * 4096 }, { RAM + TANDEM_REGION_SIZE, 4096 } };
    h.extents = beyond;
    f = make_file(&h, &len);
    write_file(f, len);
    refused("extent 1");
    free(f);
}
END_TEST

START_TEST(kvm_blob_of_another_size)
{
    struct save_header h;
    size_t len;
    sample(&h);
    h.cpu[1].regs.len = sizeof(regs) - 8;
    uint8_t *f = make_file(&h, &len);
    write_file(f, len);
    refused("section cpus/cpu@1: kvm-regs is 136 bytes, this tandem-vmm expects 144");
    free(f);
}
END_TEST

START_TEST(bad_strings)
{
    struct save_header h;
    size_t len;
    sample(&h);
    h.name = "has space";
    uint8_t *f = make_file(&h, &len);
    write_file(f, len);
    refused("section config: name is not a domain name");
    free(f);

    sample(&h);
    h.cpu_mode = "hvm";
    f = make_file(&h, &len);
    write_file(f, len);
    refused("cpu-mode 'hvm'");
    free(f);
}
END_TEST

START_TEST(not_a_file)
{
    char err[256];
    struct save_header h;
    void *hdr;
    ck_assert_int_lt(save_file_open(dir, &expect, true, &h, &hdr, err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
    ck_assert_int_lt(save_file_open("/nonexistent/x.save", &expect, true, &h, &hdr, err,
                                    sizeof(err)), 0);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_savefile");
    TCase *tc = tcase_create("savefile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, strings_come_back);
    tcase_add_test(tc, truncated_anywhere);
    tcase_add_test(tc, trailing_bytes);
    tcase_add_test(tc, bad_magic);
    tcase_add_test(tc, corrupted_header);
    tcase_add_test(tc, corrupted_memory);
    tcase_add_test(tc, newer_format_version);
    tcase_add_test(tc, newer_section_version);
    tcase_add_test(tc, sizes_that_do_not_add_up);
    tcase_add_test(tc, extents_outside_memory_or_overlapping);
    tcase_add_test(tc, kvm_blob_of_another_size);
    tcase_add_test(tc, bad_strings);
    tcase_add_test(tc, not_a_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

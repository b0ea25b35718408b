/*
 * Host tests of the guest's boot-information parser
 * (frontends/kernel/platform.c): device trees built here with libfdt, good
 * and bad, and start_info memory maps.  printk is captured so that each
 * rejection is checked for a message naming the problem.
 */
#include <check.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>

#include "platform.h"
#include "public/hvm/start_info.h"
#include "public/tandem.h"

static char logbuf[4096];

int printk(const char *fmt, ...)
{
    va_list ap;
    size_t used = strlen(logbuf);
    va_start(ap, fmt);
    int n = vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
    va_end(ap);
    return n;
}

static char fdt[8192];

struct tree_opts {
    uint64_t mem;
    int cpus;
    bool no_hv, no_physmap, bad_ring, no_console;
    uint64_t domid;
};

static void u64_prop(const char *name, uint64_t v)
{
    fdt32_t cells[2] = { cpu_to_fdt32((uint32_t)(v >> 32)), cpu_to_fdt32((uint32_t)v) };
    ck_assert_int_eq(fdt_property(fdt, name, cells, sizeof(cells)), 0);
}

static void pair_prop(const char *name, uint64_t a, uint64_t b)
{
    fdt32_t cells[4] = { cpu_to_fdt32((uint32_t)(a >> 32)), cpu_to_fdt32((uint32_t)a),
                         cpu_to_fdt32((uint32_t)(b >> 32)), cpu_to_fdt32((uint32_t)b) };
    ck_assert_int_eq(fdt_property(fdt, name, cells, sizeof(cells)), 0);
}

static void ring_node(const char *name, uint64_t ring, uint32_t port)
{
    fdt_begin_node(fdt, name);
    u64_prop("ring", ring);
    fdt_property_u32(fdt, "evtchn", port);
    fdt_end_node(fdt);
}

static void hv_node(const struct tree_opts *o)
{
    fdt_begin_node(fdt, "hypervisor");
    fdt_property_string(fdt, "compatible", "tandem,hypervisor");
    fdt_property_u32(fdt, "version", 0x00040011);
    fdt_property_u32(fdt, "domid", (uint32_t)o->domid);
    fdt_property_string(fdt, "uuid", "6a1d5c3e-7f00-4d2b-9c1a-000000000001");
    fdt_property_string(fdt, "cpu-mode", "pvm");
    fdt_property_u32(fdt, "tsc-khz", 2596124);
    u64_prop("hypercall-page", TANDEM_HYPERCALL_PAGE_GPA);
    fdt_property_u32(fdt, "hypercall-port", 0xb0);
    fdt_property_u32(fdt, "doorbell-port", 0xb4);
    if (!o->no_physmap)
        pair_prop("physmap-window", TANDEM_PHYSMAP_GPA, TANDEM_PHYSMAP_SIZE);
    fdt_property_u32(fdt, "grant-frames", 32);
    ring_node("xenstore", o->bad_ring ? 0x100000 : TANDEM_XENSTORE_RING_GPA, 1);
    if (!o->no_console)
        ring_node("console", TANDEM_CONSOLE_RING_GPA, 2);
    fdt_end_node(fdt);
}

static void build_tree(const struct tree_opts *o)
{
    ck_assert_int_eq(fdt_create(fdt, sizeof(fdt)), 0);
    fdt_finish_reservemap(fdt);
    fdt_begin_node(fdt, "");
    fdt_property_string(fdt, "compatible", "tandem,pvh");
    fdt_property_u32(fdt, "#address-cells", 2);
    fdt_property_u32(fdt, "#size-cells", 2);
    if (!o->no_hv)
        hv_node(o);
    fdt_begin_node(fdt, "chosen");
    fdt_property_string(fdt, "bootargs", "app=hello");
    fdt_end_node(fdt);
    fdt_begin_node(fdt, "memory@0");
    fdt_property_string(fdt, "device_type", "memory");
    pair_prop("reg", 0, o->mem);
    fdt_end_node(fdt);
    fdt_begin_node(fdt, "cpus");
    for (int i = 0; i < o->cpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu@%d", i);
        fdt_begin_node(fdt, name);
        fdt_property_string(fdt, "device_type", "cpu");
        fdt_property_u32(fdt, "reg", (uint32_t)i);
        fdt_end_node(fdt);
    }
    fdt_end_node(fdt);
    fdt_end_node(fdt);
    ck_assert_int_eq(fdt_finish(fdt), 0);
}

static struct hvm_start_info si;
static struct hvm_memmap_table_entry memmap[4];

static int parse(const struct tree_opts *o)
{
    logbuf[0] = '\0';
    build_tree(o);
    si = (struct hvm_start_info){ .magic = XEN_HVM_START_MAGIC_VALUE, .version = 1 };
    return platform_parse(&si, fdt);
}

static const struct tree_opts good = { .mem = 64ULL << 20, .cpus = 2, .domid = 3 };

START_TEST(test_good_tree)
{
    ck_assert_int_eq(parse(&good), 0);
    ck_assert_uint_eq(platform.domid, 3);
    ck_assert_uint_eq(platform.memory, 64ULL << 20);
    ck_assert_uint_eq(platform.nr_cpus, 2);
    ck_assert_uint_eq(platform.tsc_khz, 2596124);
    ck_assert_str_eq(platform.cpu_mode, "pvm");
    ck_assert_uint_eq(platform.physmap_base, TANDEM_PHYSMAP_GPA);
    ck_assert(platform.has_xenstore && platform.has_console);
    ck_assert_uint_eq(platform.xenstore_ring, TANDEM_XENSTORE_RING_GPA);
    ck_assert_uint_eq(platform.console_port, 2);
    ck_assert_uint_eq(platform.doorbell_port, 0xb4);
    ck_assert_str_eq(platform.bootargs, "app=hello");
    ck_assert_uint_eq(platform.nr_ram, 1); /* no memmap: the memory node */
    ck_assert_uint_eq(platform.ram[0].end, 64ULL << 20);
}
END_TEST

START_TEST(test_memmap_clipped_and_sorted)
{
    build_tree(&good);
    memmap[0] = (struct hvm_memmap_table_entry){ .addr = 0x100000, .size = 128ULL << 20,
                                                 .type = XEN_HVM_MEMMAP_TYPE_RAM };
    memmap[1] = (struct hvm_memmap_table_entry){ .addr = TANDEM_REGION_GPA,
                                                 .size = TANDEM_REGION_SIZE,
                                                 .type = XEN_HVM_MEMMAP_TYPE_RESERVED };
    memmap[2] = (struct hvm_memmap_table_entry){ .addr = 0, .size = 0x9f000,
                                                 .type = XEN_HVM_MEMMAP_TYPE_RAM };
    si = (struct hvm_start_info){ .magic = XEN_HVM_START_MAGIC_VALUE, .version = 1,
                                  .memmap_paddr = (uintptr_t)memmap, .memmap_entries = 3 };
    ck_assert_int_eq(platform_parse(&si, fdt), 0);
    ck_assert_uint_eq(platform.nr_ram, 2);
    ck_assert_uint_eq(platform.ram[0].start, 0);
    ck_assert_uint_eq(platform.ram[0].end, 0x9f000);
    ck_assert_uint_eq(platform.ram[1].start, 0x100000);
    ck_assert_uint_eq(platform.ram[1].end, 64ULL << 20); /* clipped to the memory node */
}
END_TEST

START_TEST(test_rejections)
{
    struct tree_opts o = good;
    o.no_hv = true;
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "/hypervisor"));
    o = good;
    o.no_physmap = true;
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "physmap-window"));
    o = good;
    o.bad_ring = true;
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "xenstore ring"));
    o = good;
    o.cpus = 0;
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "cpus"));
    o = good;
    o.mem = 4ULL << 30;
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "memory"));
    o = good;
    o.domid = 0x7ff0; /* DOMID_SELF is no domain id */
    ck_assert_int_eq(parse(&o), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "domid"));
}
END_TEST

START_TEST(test_optional_parts_and_garbage)
{
    struct tree_opts o = good;
    o.no_console = true;
    ck_assert_int_eq(parse(&o), 0);
    ck_assert(!platform.has_console && platform.has_xenstore);
    /* bad start_info magic, then a corrupt FDT header */
    build_tree(&good);
    si = (struct hvm_start_info){ .magic = 0x12345678 };
    logbuf[0] = '\0';
    ck_assert_int_eq(platform_parse(&si, fdt), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "magic"));
    si.magic = XEN_HVM_START_MAGIC_VALUE;
    memset(fdt, 0xa5, 64);
    logbuf[0] = '\0';
    ck_assert_int_eq(platform_parse(&si, fdt), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "device tree"));
    ck_assert_int_eq(platform_parse(&si, NULL), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_platform");
    TCase *tc = tcase_create("platform");
    tcase_add_test(tc, test_good_tree);
    tcase_add_test(tc, test_memmap_clipped_and_sorted);
    tcase_add_test(tc, test_rejections);
    tcase_add_test(tc, test_optional_parts_and_garbage);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

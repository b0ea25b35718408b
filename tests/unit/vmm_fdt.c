/* Check suite for tandem-vmm's device-tree builder (hypervisor/vmm/
 * fdt_build.c): the tree of docs/abi.md, read back with libfdt. */
#include <check.h>
#include <libfdt.h>
#include <string.h>

#include "fdt_build.h"
#include "public/tandem.h"

static char buf[TANDEM_FDT_MAX];

static const struct fdt_params params = {
    .ram_size = 256ULL << 20,
    .vcpus = 3,
    .cmdline = "app=hello n=5",
    .domid = 42,
    .uuid = "12345678-1234-1234-1234-123456789abc",
    .cpu_mode = "pvm",
    .tsc_khz = 2600000,
};

static int node(const char *path)
{
    int n = fdt_path_offset(buf, path);
    ck_assert_msg(n >= 0, "node %s missing (%d)", path, n);
    return n;
}

static uint32_t u32(int n, const char *name)
{
    int len;
    const fdt32_t *p = fdt_getprop(buf, n, name, &len);
    ck_assert_msg(p && len == 4, "%s: u32 property missing", name);
    return fdt32_to_cpu(*p);
}

static uint64_t u64(int n, const char *name, int idx)
{
    int len;
    const char *p = fdt_getprop(buf, n, name, &len);
    ck_assert_msg(p && len >= 8 * (idx + 1), "%s: 64-bit cell %d missing", name, idx);
    fdt64_t v; /* properties are only 4-byte aligned */
    memcpy(&v, p + 8 * idx, sizeof(v));
    return fdt64_to_cpu(v);
}

static const char *str(int n, const char *name)
{
    const char *s = fdt_getprop(buf, n, name, NULL);
    ck_assert_msg(s != NULL, "%s missing", name);
    return s;
}

static void build(void)
{
    ck_assert_int_eq(fdt_build(buf, sizeof(buf), &params), 0);
    ck_assert_int_eq(fdt_check_header(buf), 0);
}

START_TEST(root_and_chosen)
{
    build();
    ck_assert_str_eq(str(0, "compatible"), TANDEM_FDT_COMPATIBLE);
    ck_assert_uint_eq(u32(0, "#address-cells"), 2);
    ck_assert_str_eq(str(node("/chosen"), "bootargs"), "app=hello n=5");
    int m = node("/memory@0");
    ck_assert_str_eq(str(m, "device_type"), "memory");
    ck_assert_uint_eq(u64(m, "reg", 0), 0);
    ck_assert_uint_eq(u64(m, "reg", 1), 256ULL << 20);
}
END_TEST

START_TEST(hypervisor_node)
{
    build();
    int h = node(TANDEM_FDT_HV_NODE);
    /* first child of the root: the guest finds it fastest while emulated */
    ck_assert_int_eq(fdt_first_subnode(buf, 0), h);
    ck_assert_str_eq(str(h, "compatible"), TANDEM_FDT_HV_COMPATIBLE);
    ck_assert_str_eq(str(h, TANDEM_FDT_PROP_CPU_MODE), "pvm");
    ck_assert_str_eq(str(h, TANDEM_FDT_PROP_UUID), params.uuid);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_VERSION), 0x00040011);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_DOMID), 42);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_TSC_KHZ), 2600000);
    ck_assert_uint_eq(u64(h, TANDEM_FDT_PROP_HCALL_PAGE, 0), 0xFC000000);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_HCALL_PORT), 0xb0);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_DOORBELL), 0xb4);
    ck_assert_uint_eq(u64(h, TANDEM_FDT_PROP_PHYSMAP, 0), 0xFC100000);
    ck_assert_uint_eq(u64(h, TANDEM_FDT_PROP_PHYSMAP, 1), 0x100000);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_GNT_FRAMES), 32);
    ck_assert_uint_eq(u64(h, TANDEM_FDT_PROP_LAPIC, 0), 0xFEE00000);
    ck_assert_uint_eq(u32(h, TANDEM_FDT_PROP_UPCALL_VEC), 0xf3);
    int xs = node(TANDEM_FDT_XENSTORE_NODE), con = node(TANDEM_FDT_CONSOLE_NODE);
    ck_assert_uint_eq(u64(xs, TANDEM_FDT_PROP_RING, 0), 0xFC001000);
    ck_assert_uint_eq(u32(xs, TANDEM_FDT_PROP_EVTCHN), 1);
    ck_assert_uint_eq(u64(con, TANDEM_FDT_PROP_RING, 0), 0xFC002000);
    ck_assert_uint_eq(u32(con, TANDEM_FDT_PROP_EVTCHN), 2);
}
END_TEST

START_TEST(cpus)
{
    build();
    int cpus = node("/cpus");
    int count = 0, child;
    fdt_for_each_subnode(child, buf, cpus) {
        ck_assert_str_eq(str(child, "device_type"), "cpu");
        ck_assert_uint_eq(u32(child, "reg"), (uint32_t)count);
        count++;
    }
    ck_assert_int_eq(count, 3);
    node("/cpus/cpu@2");
}
END_TEST

START_TEST(too_small_buffer)
{
    ck_assert_int_eq(fdt_build(buf, 128, &params), -FDT_ERR_NOSPACE);
}
END_TEST

START_TEST(plain_mode_and_empty_cmdline)
{
    struct fdt_params p = params;
    p.cpu_mode = "plain";
    p.cmdline = NULL;
    ck_assert_int_eq(fdt_build(buf, sizeof(buf), &p), 0);
    ck_assert_str_eq(str(node(TANDEM_FDT_HV_NODE), TANDEM_FDT_PROP_CPU_MODE), "plain");
    ck_assert_str_eq(str(node("/chosen"), "bootargs"), "");
}
END_TEST

START_TEST(grant_frames_follow_the_option)
{
    struct fdt_params p = params;
    p.grant_frames = 8;
    ck_assert_int_eq(fdt_build(buf, sizeof(buf), &p), 0);
    ck_assert_uint_eq(u32(node(TANDEM_FDT_HV_NODE), TANDEM_FDT_PROP_GNT_FRAMES), 8);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_fdt");
    TCase *tc = tcase_create("fdt");
    tcase_add_test(tc, root_and_chosen);
    tcase_add_test(tc, hypervisor_node);
    tcase_add_test(tc, cpus);
    tcase_add_test(tc, too_small_buffer);
    tcase_add_test(tc, plain_mode_and_empty_cmdline);
    tcase_add_test(tc, grant_frames_follow_the_option);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

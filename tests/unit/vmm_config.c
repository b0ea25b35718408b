/* Check suite for tandem-vmm's command line (hypervisor/vmm/config.c):
 * defaults, every option, and every refusal with its message. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static struct vmm_config cfg;
static char err[256];

#define ARGV(...) ((char *[]){ "tandem-vmm", __VA_ARGS__, NULL })
#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static int parse_host(char **argv, int argc, uint64_t host)
{
    err[0] = 0;
    return config_parse(&cfg, argc, argv, host, err, sizeof(err));
}

#define PARSE(...) ({ char **a_ = ARGV(__VA_ARGS__); parse_host(a_, ARGC(ARGV(__VA_ARGS__)), 0); })

static void refused(int r, const char *what)
{
    ck_assert_int_eq(r, -1);
    ck_assert_msg(strstr(err, what), "error '%s' lacks '%s'", err, what);
}

START_TEST(defaults)
{
    unsetenv("TANDEM_RUNDIR");
    ck_assert_int_eq(PARSE("--kernel", "k.elf"), 0);
    ck_assert_str_eq(cfg.kernel, "k.elf");
    ck_assert_uint_eq(cfg.memory_mib, 128);
    ck_assert_uint_eq(cfg.vcpus, 1);
    ck_assert_uint_eq(cfg.domid, 1);
    ck_assert_str_eq(cfg.name, "dom1");
    ck_assert_str_eq(cfg.uuid, "00000000-0000-4000-8000-000000000001");
    ck_assert_str_eq(cfg.cmdline, "");
    ck_assert_ptr_null(cfg.xenstore);
    ck_assert_int_eq(cfg.console, CONSOLE_STDIO);
    ck_assert_int_eq(cfg.cpu_mode, CPU_MODE_AUTO);
    ck_assert_str_eq(cfg.run_dir, "/run/tandem");
    ck_assert(!cfg.stats);
    ck_assert_ptr_null(cfg.mem_path);
    setenv("TANDEM_RUNDIR", "/tmp/rd", 1);
    ck_assert_int_eq(PARSE("--kernel", "k.elf"), 0);
    ck_assert_str_eq(cfg.run_dir, "/tmp/rd");
    unsetenv("TANDEM_RUNDIR");
}
END_TEST

START_TEST(all_options)
{
    ck_assert_int_eq(PARSE("--kernel", "k", "--memory", "3072", "--vcpus", "32", "--cmdline",
                           "app=hello n=3", "--name", "web-1", "--domid", "32751", "--uuid",
                           "ABCDEF01-2345-6789-abcd-ef0123456789", "--xenstore", "/s",
                           "--console", "file:/tmp/c.log", "--run-dir", "/r",
                           "--cpu-mode=plain", "--stats"), 0);
    ck_assert_uint_eq(cfg.memory_mib, 3072);
    ck_assert_uint_eq(cfg.vcpus, 32);
    ck_assert_str_eq(cfg.cmdline, "app=hello n=3");
    ck_assert_str_eq(cfg.name, "web-1");
    ck_assert_uint_eq(cfg.domid, 32751);
    ck_assert_str_eq(cfg.uuid, "abcdef01-2345-6789-abcd-ef0123456789");
    ck_assert_str_eq(cfg.xenstore, "/s");
    ck_assert_int_eq(cfg.console, CONSOLE_FILE);
    ck_assert_str_eq(cfg.console_path, "/tmp/c.log");
    ck_assert_str_eq(cfg.run_dir, "/r");
    ck_assert_int_eq(cfg.cpu_mode, CPU_MODE_PLAIN);
    ck_assert(cfg.stats);
    ck_assert_int_eq(PARSE("--kernel", "k", "--console", "pty", "--cpu-mode", "pvm"), 0);
    ck_assert_int_eq(cfg.console, CONSOLE_PTY);
    ck_assert_int_eq(cfg.cpu_mode, CPU_MODE_PVM);
    ck_assert_ptr_null(cfg.mem_path);
}
END_TEST

START_TEST(mem_path)
{
    /* Kept as given; whether it is a tmpfs is checked when memory is made. */
    ck_assert_int_eq(PARSE("--kernel", "k", "--mem-path", "/dev/shm/tandem"), 0);
    ck_assert_str_eq(cfg.mem_path, "/dev/shm/tandem");
    ck_assert_int_eq(PARSE("--kernel", "k", "--mem-path=/mnt/huge"), 0);
    ck_assert_str_eq(cfg.mem_path, "/mnt/huge");
    /* The last one wins, as for every other option. */
    ck_assert_int_eq(PARSE("--kernel", "k", "--mem-path", "/a", "--mem-path", "/b"), 0);
    ck_assert_str_eq(cfg.mem_path, "/b");
    /* Not given: NULL (guest memory in a memfd). */
    ck_assert_int_eq(PARSE("--kernel", "k"), 0);
    ck_assert_ptr_null(cfg.mem_path);
    refused(PARSE("--kernel", "k", "--mem-path", ""), "--mem-path");
    ck_assert_str_eq(err, "--mem-path: empty path");
    refused(PARSE("--kernel", "k", "--mem-path="), "--mem-path");
    refused(PARSE("--kernel", "k", "--mem-path"), "bad option");
    ck_assert_ptr_nonnull(strstr(config_usage(), "--mem-path DIR"));
}
END_TEST

START_TEST(refusals)
{
    refused(PARSE("--memory", "64"), "missing --kernel");
    refused(PARSE("--kernel", "k", "--memory", "0"), "--memory");
    refused(PARSE("--kernel", "k", "--memory", "3073"), "--memory");
    refused(PARSE("--kernel", "k", "--memory", "-5"), "--memory");
    refused(PARSE("--kernel", "k", "--memory", "12M"), "--memory");
    refused(PARSE("--kernel", "k", "--memory", ""), "--memory");
    refused(PARSE("--kernel", "k", "--memory", "99999999999999999999999"), "--memory");
    refused(PARSE("--kernel", "k", "--vcpus", "0"), "--vcpus");
    refused(PARSE("--kernel", "k", "--vcpus", "33"), "--vcpus");
    refused(PARSE("--kernel", "k", "--domid", "0"), "--domid");
    refused(PARSE("--kernel", "k", "--domid", "32752"), "--domid");
    refused(PARSE("--kernel", "k", "--name", "a b"), "--name");
    refused(PARSE("--kernel", "k", "--name", "a/b"), "--name");
    refused(PARSE("--kernel", "k", "--name", ""), "--name");
    refused(PARSE("--kernel", "k", "--uuid", "1234"), "--uuid");
    refused(PARSE("--kernel", "k", "--uuid", "g2345678-1234-1234-1234-123456789abc"), "--uuid");
    refused(PARSE("--kernel", "k", "--console", "file:"), "--console");
    refused(PARSE("--kernel", "k", "--console", "serial"), "--console");
    refused(PARSE("--kernel", "k", "--cpu-mode", "fast"), "--cpu-mode");
    refused(PARSE("--kernel", "k", "--xenstore", ""), "--xenstore");
    refused(PARSE("--kernel", "k", "--bogus"), "bad option");
    refused(PARSE("--kernel", "k", "extra"), "unexpected argument");
    refused(PARSE("--kernel"), "bad option");
    char *long_cmd = malloc(5000);
    memset(long_cmd, 'a', 4999);
    long_cmd[4999] = 0;
    refused(PARSE("--kernel", "k", "--cmdline", long_cmd), "--cmdline");
    free(long_cmd);
}
END_TEST

START_TEST(ramdisk_and_check)
{
    ck_assert_int_eq(PARSE("--kernel", "k"), 0);
    ck_assert_ptr_null(cfg.ramdisk);
    ck_assert(!cfg.check_only);
    ck_assert_int_eq(PARSE("--kernel", "k", "--ramdisk", "initrd", "--check"), 0);
    ck_assert_str_eq(cfg.ramdisk, "initrd");
    ck_assert(cfg.check_only);
    refused(PARSE("--kernel", "k", "--ramdisk", ""), "--ramdisk: empty path");
    refused(PARSE("--check"), "missing --kernel");
    refused(PARSE("--check", "--kernel", "k", "--restore", "f"), "--check needs --kernel (and no --restore)");
    /* a restored domain's memory holds the ramdisk: the option is dropped */
    ck_assert_int_eq(PARSE("--restore", "f", "--ramdisk", "initrd"), 0);
    ck_assert_ptr_null(cfg.ramdisk);
}
END_TEST

START_TEST(host_memory_bound)
{
    char **a = ARGV("--kernel", "k", "--memory", "512");
    ck_assert_int_eq(parse_host(a, 5, 1024ULL << 20), 0);
    ck_assert_int_eq(parse_host(a, 5, 256ULL << 20), -1);
    ck_assert_msg(strstr(err, "larger than the host"), "%s", err);
}
END_TEST

START_TEST(help)
{
    ck_assert_int_eq(PARSE("--help"), 1);
    ck_assert_ptr_nonnull(strstr(config_usage(), "--kernel"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, all_options);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, mem_path);
    tcase_add_test(tc, ramdisk_and_check);
    tcase_add_test(tc, host_memory_bound);
    tcase_add_test(tc, help);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

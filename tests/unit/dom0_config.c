/* Check suite for the tandem config parser (dom0/cfgparse.c, dom0/config.c):
 * every syntax case and every error message with its line number. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "config.h"

static struct tandem_config cfg;
static char err[1024];

static void setup(void)
{
    config_init(&cfg);
    err[0] = '\0';
}

static void teardown(void)
{
    config_free(&cfg);
}

static int parse(const char *text)
{
    return config_parse_text(&cfg, text, strlen(text), "t.cfg", err, sizeof(err));
}

/* Parses text that must fail and checks the whole message. */
#define PARSE_FAILS(text, expected) do {                                   \
        ck_assert_int_eq(parse(text), -1);                                 \
        ck_assert_str_eq(err, expected);                                   \
    } while (0)

START_TEST(test_full_example)
{
    const char *text =
        "# example\n"
        "name = \"hello\"\n"
        "type = 'pvh'\n"
        "kernel = \"/boot/guest.elf\"   # trailing comment\n"
        "memory = 128\n"
        "vcpus = 2\n"
        "cmdline = \"app=hello n=3\"\n"
        "uuid = \"12345678-9abc-def0-1234-56789abcdef0\"\n"
        "cpu_mode = \"plain\"\n"
        "on_poweroff = \"destroy\"\n"
        "on_reboot = \"destroy\"\n"
        "on_crash = \"restart\"\n";
    ck_assert_int_eq(parse(text), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.name, "hello");
    ck_assert_str_eq(cfg.type, "pvh");
    ck_assert_str_eq(cfg.kernel, "/boot/guest.elf");
    ck_assert_int_eq(cfg.memory_mib, 128);
    ck_assert_int_eq(cfg.vcpus, 2);
    ck_assert_str_eq(config_cmdline(&cfg), "app=hello n=3");
    ck_assert_str_eq(cfg.uuid, "12345678-9abc-def0-1234-56789abcdef0");
    ck_assert_int_eq(cfg.cpu_mode, CPU_MODE_PLAIN);
    ck_assert_int_eq(cfg.on_poweroff, ACTION_DESTROY);
    ck_assert_int_eq(cfg.on_reboot, ACTION_DESTROY);
    ck_assert_int_eq(cfg.on_crash, ACTION_RESTART);
    ck_assert_int_eq(cfg.origin[KEY_MEMORY].line, 5);
}
END_TEST

START_TEST(test_max_grant_frames)
{
    ck_assert_int_eq(parse("name = 'a'\nmax_grant_frames = 8\n"), 0);
    ck_assert_int_eq(cfg.max_grant_frames, 8);
}
END_TEST

START_TEST(test_max_grant_frames_range)
{
    PARSE_FAILS("name = 'a'\nmax_grant_frames = 65\n",
                "t.cfg:2: max_grant_frames must be between 1 and 64, not 65");
}
END_TEST

START_TEST(test_defaults)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.type, "pvh");
    ck_assert_int_eq(cfg.memory_mib, 64);
    ck_assert_int_eq(cfg.vcpus, 1);
    ck_assert_int_eq(cfg.max_grant_frames, 32);
    ck_assert_int_eq(cfg.cpu_mode, CPU_MODE_AUTO);
    ck_assert_int_eq(cfg.on_poweroff, ACTION_DESTROY);
    ck_assert_int_eq(cfg.on_reboot, ACTION_RESTART);
    ck_assert_int_eq(cfg.on_crash, ACTION_DESTROY);
    ck_assert_str_eq(config_cmdline(&cfg), "");
    ck_assert_ptr_null(cfg.uuid);
}
END_TEST

START_TEST(test_whitespace_semicolons_no_final_newline)
{
    ck_assert_int_eq(parse("  name='a' ; memory=32;vcpus=3\r\n\n\t kernel =\t'k'"), 0);
    ck_assert_str_eq(cfg.name, "a");
    ck_assert_int_eq(cfg.memory_mib, 32);
    ck_assert_int_eq(cfg.vcpus, 3);
    ck_assert_str_eq(cfg.kernel, "k");
}
END_TEST

START_TEST(test_empty_and_comments_only)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_int_eq(parse("# nothing\n\n   # more\n"), 0);
}
END_TEST

START_TEST(test_string_escapes)
{
    ck_assert_int_eq(parse("cmdline = \"a\\\"b\\\\c\\td\\n\"\nextra='it\\'s # not a comment'\n"), 0);
    ck_assert_str_eq(cfg.cmdline, "a\"b\\c\td\n");
    ck_assert_str_eq(cfg.extra, "it's # not a comment");
}
END_TEST

START_TEST(test_quotes_inside_other_quotes)
{
    ck_assert_int_eq(parse("cmdline = 'say \"hi\"'\n"), 0);
    ck_assert_str_eq(cfg.cmdline, "say \"hi\"");
}
END_TEST

START_TEST(test_integers)
{
    ck_assert_int_eq(parse("memory = 0x40\n"), 0);
    ck_assert_int_eq(cfg.memory_mib, 64);
    config_free(&cfg);
    config_init(&cfg);
    ck_assert_int_eq(parse("memory = 010\n"), 0);   /* decimal, not octal */
    ck_assert_int_eq(cfg.memory_mib, 10);
    config_free(&cfg);
    config_init(&cfg);
    ck_assert_int_eq(parse("memory = \"256\"\n"), 0); /* quoted, as xl allows */
    ck_assert_int_eq(cfg.memory_mib, 256);
}
END_TEST

START_TEST(test_lists_multiline_trailing_comma)
{
    const char *text =
        "name = 'a'\n"
        "disk = [ 'file:/a.img,xvda,w',   # first\n"
        "         \"file:/b.img,xvdb,r\",\n"
        "       ]\n"
        "vif = []\n";
    ck_assert_int_eq(parse(text), 0);
    ck_assert_uint_eq(cfg.disk.n, 2);
    ck_assert_str_eq(cfg.disk.items[0], "file:/a.img,xvda,w");
    ck_assert_str_eq(cfg.disk.items[1], "file:/b.img,xvdb,r");
    ck_assert_uint_eq(cfg.vif.n, 0);
    ck_assert_int_eq(cfg.origin[KEY_DISK].line, 2);
}
END_TEST

START_TEST(test_line_continuation)
{
    ck_assert_int_eq(parse("cmdline = \\\n 'x'\nbogus = 1\n"), -1);
    ck_assert_str_eq(err, "t.cfg:3: unknown key 'bogus'");
    ck_assert_str_eq(cfg.cmdline, "x");
}
END_TEST

START_TEST(test_unknown_key)
{
    PARSE_FAILS("name = 'a'\n\n\nmemroy = 64\n",
                "t.cfg:4: unknown key 'memroy' (did you mean 'memory'?)");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("kernell = 'k'\n", "t.cfg:1: unknown key 'kernell' (did you mean 'kernel'?)");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("zzzzzz = 1\n", "t.cfg:1: unknown key 'zzzzzz'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("bootloader = 'pygrub'\n",
                "t.cfg:1: key 'bootloader' is xl's but Tandem does not support it");
}
END_TEST

START_TEST(test_missing_equals)
{
    PARSE_FAILS("name 'a'\n", "t.cfg:1: expected '=' after 'name'");
}
END_TEST

START_TEST(test_missing_value)
{
    PARSE_FAILS("\nname =\n", "t.cfg:2: expected a value after 'name ='");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = ", "t.cfg:1: expected a value after 'name ='");
}
END_TEST

START_TEST(test_bare_word)
{
    PARSE_FAILS("name = hello\n", "t.cfg:1: value of 'name' must be quoted, a number or a list");
}
END_TEST

START_TEST(test_unterminated_string)
{
    PARSE_FAILS("name = 'a'\ncmdline = \"abc\nmemory = 3\n", "t.cfg:2: unterminated string");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = 'abc", "t.cfg:1: unterminated string");
}
END_TEST

START_TEST(test_bad_escape)
{
    PARSE_FAILS("\ncmdline = 'a\\qb'\n", "t.cfg:2: unknown escape '\\q' in string");
}
END_TEST

START_TEST(test_unterminated_list)
{
    PARSE_FAILS("name='a'\ndisk = [ 'x',\n 'y'\n", "t.cfg:2: unterminated list (missing ']')");
}
END_TEST

START_TEST(test_list_missing_comma)
{
    PARSE_FAILS("disk = [ 'x'\n  'y' ]\n", "t.cfg:2: expected ',' or ']' in the list");
}
END_TEST

START_TEST(test_nested_list)
{
    PARSE_FAILS("disk = [ 'x',\n [ 'y' ] ]\n", "t.cfg:2: nested lists are not supported");
}
END_TEST

START_TEST(test_list_item_not_string)
{
    PARSE_FAILS("disk = [ 'x',\n 3 ]\n", "t.cfg:2: items of 'disk' must be quoted strings");
}
END_TEST

START_TEST(test_list_too_long)
{
    char text[2048] = "disk = [";
    for (int i = 0; i < CFG_LIST_MAX + 1; i++)
        strcat(text, "'x',");
    strcat(text, "]\n");
    PARSE_FAILS(text, "t.cfg:1: list longer than 64 items");
}
END_TEST

START_TEST(test_string_too_long)
{
    size_t n = CFG_STRING_MAX + 20;
    char *text = malloc(n + 32);
    strcpy(text, "cmdline = '");
    memset(text + strlen(text), 'a', CFG_STRING_MAX + 1);
    strcpy(text + 11 + CFG_STRING_MAX + 1, "'\n");
    ck_assert_int_eq(parse(text), -1);
    ck_assert_str_eq(err, "t.cfg:1: string longer than 4095 bytes");
    free(text);
}
END_TEST

START_TEST(test_type_errors)
{
    PARSE_FAILS("memory = 'lots'\n", "t.cfg:1: 'memory' must be an integer");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = 5\n", "t.cfg:1: 'name' must be a quoted string");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("disk = 'x'\n", "t.cfg:1: 'disk' must be a list, e.g. disk = [ '...' ]");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("memory = [ 1 ]\n", "t.cfg:1: 'memory' must be an integer");
}
END_TEST

START_TEST(test_bad_numbers)
{
    PARSE_FAILS("memory = 64M\n", "t.cfg:1: invalid number '64M'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("memory = 99999999999999999999\n", "t.cfg:1: number '99999999999999999999' out of range");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("memory = 0x\n", "t.cfg:1: invalid number '0x'");
}
END_TEST

START_TEST(test_memory_range)
{
    PARSE_FAILS("memory = 0\n", "t.cfg:1: memory must be at least 1 (MiB), not 0");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("memory = -4\n", "t.cfg:1: memory must be at least 1 (MiB), not -4");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("memory = 2000000\n", "t.cfg:1: memory 2000000 MiB is above the limit of 1048576 MiB");
    config_free(&cfg); config_init(&cfg);
    /* A PVH domain's RAM ends below 3 GiB (said at its line); the PC's
     * goes on at 4 GiB. */
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmemory = 4096\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: memory 4096 MiB is above the limit of 3072 MiB");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\ntype='hvm'\nmemory = 4096\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_vcpus_range)
{
    PARSE_FAILS("vcpus = 0\n", "t.cfg:1: vcpus must be between 1 and 1024, not 0");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("vcpus = 2000\n", "t.cfg:1: vcpus must be between 1 and 1024, not 2000");
}
END_TEST

START_TEST(test_names)
{
    PARSE_FAILS("name = ''\n", "t.cfg:1: name must be 1 to 64 characters");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = 'a b'\n", "t.cfg:1: name 'a b' may only contain letters, digits, '-', '_' and '.'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = '-x'\n", "t.cfg:1: name '-x' must start with a letter or digit");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = '42'\n", "t.cfg:1: name '42' must not be all digits (it would read as a domid)");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name = 'web-1.test_x'\n"), 0);
}
END_TEST

START_TEST(test_enums)
{
    PARSE_FAILS("type = 'pv'\n", "t.cfg:1: type 'pv' is not supported (Tandem boots PV kernels "
                "as 'pvh')");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("type = 'xyz'\n", "t.cfg:1: unknown type 'xyz' ('pvh' or 'hvm')");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("cpu_mode = 'fast'\n", "t.cfg:1: cpu_mode must be 'auto', 'pvm' or 'plain', not 'fast'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("on_crash = 'explode'\n", "t.cfg:1: on_crash must be destroy, restart, "
                "preserve or rename-restart, not 'explode'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("on_reboot = 'soft-reset'\n", "t.cfg:1: on_reboot = 'soft-reset' is not "
                "supported (use destroy, restart, preserve or rename-restart)");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("on_crash = 'preserve'\non_reboot = 'rename-restart'\n"), 0);
    ck_assert_int_eq(cfg.on_crash, ACTION_PRESERVE);
    ck_assert_int_eq(cfg.on_reboot, ACTION_RENAME_RESTART);
}
END_TEST

START_TEST(test_uuid)
{
    PARSE_FAILS("uuid = '1234'\n",
                "t.cfg:1: uuid '1234' is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("uuid = '12345678-9abc-def0-1234-56789abcdefg'\n",
                "t.cfg:1: uuid '12345678-9abc-def0-1234-56789abcdefg' is not of the form "
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
}
END_TEST

START_TEST(test_duplicate_key)
{
    PARSE_FAILS("memory = 1\nname='x'\nmemory = 2\n", "t.cfg:3: duplicate key 'memory' (first set at line 1)");
}
END_TEST

START_TEST(test_unexpected_characters)
{
    PARSE_FAILS("name = 'a' 'b'\n", "t.cfg:1: unexpected text after the value of 'name'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("\n\n@name = 'a'\n", "t.cfg:3: unexpected character '@'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("= 3\n", "t.cfg:1: expected a key at the start of a statement");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name = 'a' += 'b'\n", "t.cfg:1: unexpected character '+'");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(config_parse_text(&cfg, "name='a'\0x", 10, "t.cfg", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg: contains a NUL byte (not a text file?)");
}
END_TEST

START_TEST(test_finish_required)
{
    ck_assert_int_eq(parse("kernel='k'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "missing 'name' (e.g. name = \"guest\")");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='k'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "missing 'kernel' (the guest ELF)");
}
END_TEST

/* type = "hvm": no kernel needed, firmware defaults to SeaBIOS, and what
 * the PC does not have yet is refused at its line. */
START_TEST(test_finish_hvm)
{
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nmemory=64\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert(config_is_hvm(&cfg));
    ck_assert_str_eq(cfg.firmware, "seabios");
    ck_assert_ptr_null(cfg.kernel);
    config_free(&cfg); config_init(&cfg);
    /* A kernel booted directly: no firmware then. */
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nkernel='/boot/vmlinuz'\nextra='console=ttyS0'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_ptr_null(cfg.firmware);
    ck_assert_str_eq(cfg.kernel, "/boot/vmlinuz");
    config_free(&cfg); config_init(&cfg);
    /* Both: the firmware loads the kernel. */
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nkernel='/boot/vmlinuz'\nfirmware='seabios'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.firmware, "seabios");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nextra='quiet'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: extra: is for a kernel booted directly (kernel = ...); the "
                     "firmware boots from the disk");
    config_free(&cfg); config_init(&cfg);
    /* Disks are NVMe namespaces, in order; no blkback device for them. */
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\ndisk=['/x.img,raw,xvda,rw', "
                           "'/y.img,raw,xvdb,r']\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.ndisks, 2);
    ck_assert_str_eq(cfg.disks[1].target, "/y.img");
    ck_assert(cfg.disks[1].readonly);
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\ndisk=['/x.img,raw,xvda,rw', "
                           "'/y.img,raw,xvda,rw']\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);   /* one vdev twice */
    config_free(&cfg); config_init(&cfg);
    /* vifs are e1000s (at most 4). */
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nvif=['bridge=br0,mac=00:16:3e:00:00:01']\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.nvifs, 1);
    ck_assert_str_eq(cfg.vifs[0].bridge, "br0");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nvif=['','','','','']\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: type = \"hvm\" takes at most 4 vifs (its e1000s)");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\ncpu_mode='pvm'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nmemory=1\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: type = \"hvm\" takes 2..1048576 MiB (above 3 GiB, the rest is "
                     "at 4 GiB)");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nfirmware='seabios'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: firmware is for type = \"hvm\"");
    config_free(&cfg); config_init(&cfg);
    /* serial = ...: where COM1 goes, pty by default. */
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.serial, "pty");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nserial='stdio'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.serial, "stdio");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='pc'\ntype='hvm'\nserial='file:/var/log/pc.log'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.serial, "file:/var/log/pc.log");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("serial = 'vc'\n", "t.cfg:1: serial 'vc': expected \"pty\", \"stdio\" or \"file:PATH\"");
    PARSE_FAILS("serial = 'file:pc.log'\n", "t.cfg:1: serial 'file:pc.log': file: takes an absolute path");
    PARSE_FAILS("serial = 'file:'\n", "t.cfg:1: serial 'file:': file: takes an absolute path");
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nserial='pty'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: serial is for type = \"hvm\" (COM1 of the PC; a PVH domain's "
                     "console is its PV console)");
}
END_TEST

START_TEST(test_finish_cmdline_and_extra)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\ncmdline='x'\nextra='y'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:4: both 'cmdline' and 'extra' are set; use cmdline alone, "
                     "or root and extra");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nextra='app=idle'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(config_cmdline(&cfg), "app=idle");
}
END_TEST

START_TEST(test_finish_devices_not_yet)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\n\ndisk=['x']\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:4: disk 'x': no vdev (e.g. vdev=xvda)");
}
END_TEST

START_TEST(test_overrides)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmemory=64\n"), 0);
    ck_assert_int_eq(config_apply_override(&cfg, "memory=128", err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.memory_mib, 128);
    ck_assert_int_eq(cfg.origin[KEY_MEMORY].line, 0);
    ck_assert_int_eq(config_apply_override(&cfg, "cmdline = \"app=idle\"", err, sizeof(err)), 0);
    ck_assert_str_eq(config_cmdline(&cfg), "app=idle");
    /* Overrides replace, even twice. */
    ck_assert_int_eq(config_apply_override(&cfg, "memory=32", err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.memory_mib, 32);
    ck_assert_int_eq(config_apply_override(&cfg, "memroy=1", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: 'memroy=1': unknown key 'memroy' (did you mean 'memory'?)");
    ck_assert_int_eq(config_apply_override(&cfg, "name=x", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: 'name=x': value of 'name' must be quoted, a number or a list");
    ck_assert_int_eq(config_apply_override(&cfg, "hello", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: 'hello' is not key=value");
    ck_assert_int_eq(config_apply_override(&cfg, "memory=1\nvcpus=2", err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_kernel_path_relative_to_file)
{
    config_free(&cfg);
    config_init(&cfg);
    char dir[] = "/tmp/dom0cfg.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/g.cfg", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("name = 'g'\nkernel = 'guest.elf'\n", f);
    fclose(f);
    ck_assert_int_eq(config_parse_file(&cfg, path, err, sizeof(err)), 0);
    char *k = config_file_path(&cfg, KEY_KERNEL);
    char want[300];
    snprintf(want, sizeof(want), "%s/guest.elf", dir);
    ck_assert_str_eq(k, want);
    free(k);
    /* An override is relative to the current directory, as typed. */
    ck_assert_int_eq(config_apply_override(&cfg, "kernel='other.elf'", err, sizeof(err)), 0);
    k = config_file_path(&cfg, KEY_KERNEL);
    ck_assert_str_eq(k, "other.elf");
    free(k);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_file_errors)
{
    ck_assert_int_eq(config_parse_file(&cfg, "/nonexistent/x.cfg", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/nonexistent/x.cfg: No such file or directory");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(config_parse_file(&cfg, "/tmp", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/tmp: not a regular file");
}
END_TEST

/* mem_path: guest memory in an unlinked file in that tmpfs directory. */
static int finish_mem_path(const char *dir)
{
    char text[512];
    config_free(&cfg);
    config_init(&cfg);
    snprintf(text, sizeof(text), "name='a'\nkernel='k'\nmem_path = \"%s\"\n", dir);
    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(cfg.mem_path, dir);
    return config_finish(&cfg, err, sizeof(err));
}

static int is_tmpfs(const char *dir)
{
    struct statfs sf;
    return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == TMPFS_MAGIC;
}

START_TEST(test_mem_path_default)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_ptr_null(cfg.mem_path);
}
END_TEST

START_TEST(test_mem_path_tmpfs)
{
    if (!is_tmpfs("/dev/shm")) {
        fprintf(stderr, "test_mem_path_tmpfs: /dev/shm is not a tmpfs here; not checked\n");
        return;
    }
    ck_assert_msg(finish_mem_path("/dev/shm") == 0, "refused: %s", err);
    ck_assert_str_eq(cfg.mem_path, "/dev/shm");
    ck_assert_int_eq(cfg.origin[KEY_MEM_PATH].line, 3);
    /* As an override too. */
    config_free(&cfg);
    config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\n"), 0);
    ck_assert_int_eq(config_apply_override(&cfg, "mem_path='/dev/shm'", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.mem_path, "/dev/shm");
}
END_TEST

START_TEST(test_mem_path_relative)
{
    PARSE_FAILS("name='a'\nmem_path = 'dev/shm'\n",
                "t.cfg:2: mem_path must be an absolute path (a tmpfs directory), not 'dev/shm'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name='a'\nmem_path = ''\n",
                "t.cfg:2: mem_path must be an absolute path (a tmpfs directory), not ''");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(config_apply_override(&cfg, "mem_path='.'", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "mem_path must be an absolute path"), "%s", err);
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("name='a'\nmem_path = 5\n", "t.cfg:2: 'mem_path' must be a quoted string");
}
END_TEST

START_TEST(test_mem_path_not_tmpfs)
{
    /* The current directory (the source tree) or /: a disk file system here. */
    char cwd[256];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    const char *dirs[] = { cwd, "/" };
    for (size_t i = 0; i < 2; i++) {
        if (is_tmpfs(dirs[i]))
            continue;
        ck_assert_int_eq(finish_mem_path(dirs[i]), -1);
        char want[512];
        snprintf(want, sizeof(want), "t.cfg:3: mem_path '%s' is not on a tmpfs", dirs[i]);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s', want '%s...'", err, want);
        ck_assert_msg(strstr(err, "huge=within_size"), "%s", err);
    }
}
END_TEST

START_TEST(test_mem_path_missing)
{
    ck_assert_int_eq(finish_mem_path("/nonexistent-tandem-dir"), -1);
    ck_assert_str_eq(err, "t.cfg:3: mem_path '/nonexistent-tandem-dir': No such file or directory");
}
END_TEST

START_TEST(test_mem_path_not_a_directory)
{
    char dir[] = "/tmp/dom0cfg.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/file", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    int r = finish_mem_path(path);
    unlink(path);
    rmdir(dir);
    ck_assert_int_eq(r, -1);
    char want[512];
    snprintf(want, sizeof(want), "t.cfg:3: mem_path '%s' is not a directory", path);
    ck_assert_str_eq(err, want);
    /* A file on a tmpfs as well: /dev/null's directory is fine, the file is not. */
    ck_assert_int_eq(finish_mem_path("/dev/null"), -1);
    ck_assert_str_eq(err, "t.cfg:3: mem_path '/dev/null' is not a directory");
}
END_TEST


START_TEST(test_new_keys)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nramdisk='/boot/initrd'\nmemory=64\n"
                           "maxmem=128\nvcpus=2\nmaxvcpus=4\nroot='/dev/xvda1 ro'\n"
                           "extra='console=hvc0'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.ramdisk, "/boot/initrd");
    ck_assert_int_eq(cfg.maxmem_mib, 128);
    ck_assert_int_eq(cfg.maxvcpus, 4);
    ck_assert_str_eq(config_cmdline(&cfg), "root=/dev/xvda1 ro console=hvc0");
}
END_TEST

START_TEST(test_limits_default_and_order)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmemory=96\nvcpus=3\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(cfg.maxmem_mib, 96);
    ck_assert_int_eq(cfg.maxvcpus, 3);
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmemory=96\nmaxmem=64\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:4: maxmem 64 MiB is less than memory 96 MiB");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmaxvcpus=1\nvcpus=2\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: maxvcpus 1 is less than vcpus 2");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("maxvcpus = 0\n", "t.cfg:1: maxvcpus must be between 1 and 1024, not 0");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(parse("name='a'\nkernel='k'\nmaxmem = 99999\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: maxmem 99999 MiB is above the limit of 3072 MiB");
}
END_TEST

START_TEST(test_root_with_cmdline)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\ncmdline='x'\nroot='/dev/xvda'\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:4: both 'cmdline' and 'root' are set; use cmdline alone, "
                     "or root and extra");
}
END_TEST

START_TEST(test_vif_kept_raw)
{
    ck_assert_int_eq(parse("name='a'\nkernel='k'\n"
                           "vif = [ 'mac=00:16:3e:01:02:03,bridge=br0', 'type=vif' ]\n"), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.vif.n, 2);
    ck_assert_str_eq(cfg.vif.items[0], "mac=00:16:3e:01:02:03,bridge=br0");
    ck_assert_str_eq(cfg.vif.items[1], "type=vif");
}
END_TEST

START_TEST(test_hex_escape)
{
    ck_assert_int_eq(parse("cmdline = 'a\\x1bb\\x7F'\n"), 0);
    ck_assert_str_eq(cfg.cmdline, "a\x1b" "b\x7f");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("cmdline = 'a\\x00'\n",
                "t.cfg:1: '\\x' in a string needs two hex digits, not 00 (e.g. '\\x1b')");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("cmdline = 'a\\xg1'\n",
                "t.cfg:1: '\\x' in a string needs two hex digits, not 00 (e.g. '\\x1b')");
}
END_TEST

/* A value with a newline or a control character never reaches the
 * terminal raw in an error. */
START_TEST(test_errors_show_control_characters_escaped)
{
    PARSE_FAILS("name = 'a\\nb'\n",
                "t.cfg:1: name 'a\\nb' may only contain letters, digits, '-', '_' and '.'");
    config_free(&cfg); config_init(&cfg);
    PARSE_FAILS("type = 'x\\x1b[2J'\n", "t.cfg:1: unknown type 'x\\x1b[2J' ('pvh' or 'hvm')");
    config_free(&cfg); config_init(&cfg);
    /* A raw control byte in the file, inside a string. */
    PARSE_FAILS("on_crash = 'a\x07'\n", "t.cfg:1: on_crash must be destroy, restart, "
                "preserve or rename-restart, not 'a\\x07'");
    config_free(&cfg); config_init(&cfg);
    ck_assert_int_eq(config_apply_override(&cfg, "memory=1\nvcpus=2", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: 'memory=1\\nvcpus=2' contains a newline");
    for (const char *p = err; *p; p++)
        ck_assert_int_ge((unsigned char)*p, 0x20);
}
END_TEST

START_TEST(test_escape_function)
{
    char buf[64];
    ck_assert_str_eq(cfg_escape("a\"b\\c\n\t\r\x01\x7f", true, buf, sizeof(buf)),
                     "a\\\"b\\\\c\\n\\t\\r\\x01\\x7f");
    ck_assert_str_eq(cfg_escape("a\"b\\c\n", false, buf, sizeof(buf)), "a\"b\\c\\n");
    /* Cut short, never in the middle of an escape. */
    ck_assert_str_eq(cfg_escape("ab\n", true, buf, 4), "ab");
    ck_assert_str_eq(cfg_escape("ab\n", true, buf, 5), "ab\\n");
}
END_TEST

static char *print_to_string(const struct tandem_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    config_print(f, c);
    fclose(f);
    return text;
}

#define ASSERT_SAME_STR(a, b) do {                                          \
        if ((a) || (b)) {                                                   \
            ck_assert_ptr_nonnull(a);                                       \
            ck_assert_ptr_nonnull(b);                                       \
            ck_assert_str_eq(a, b);                                         \
        }                                                                   \
    } while (0)

/* Two finished configurations hold the same values. */
static void assert_same_config(const struct tandem_config *a, const struct tandem_config *b)
{
    ASSERT_SAME_STR(a->name, b->name);
    ASSERT_SAME_STR(a->type, b->type);
    ASSERT_SAME_STR(a->kernel, b->kernel);
    ASSERT_SAME_STR(a->firmware, b->firmware);
    ASSERT_SAME_STR(a->serial, b->serial);
    ASSERT_SAME_STR(a->ramdisk, b->ramdisk);
    ASSERT_SAME_STR(a->mem_path, b->mem_path);
    ASSERT_SAME_STR(a->uuid, b->uuid);
    ck_assert_str_eq(config_cmdline(a), config_cmdline(b));
    ck_assert_int_eq(a->memory_mib, b->memory_mib);
    ck_assert_int_eq(a->maxmem_mib, b->maxmem_mib);
    ck_assert_int_eq(a->vcpus, b->vcpus);
    ck_assert_int_eq(a->maxvcpus, b->maxvcpus);
    ck_assert_int_eq(a->max_grant_frames, b->max_grant_frames);
    ck_assert_int_eq(a->cpu_mode, b->cpu_mode);
    ck_assert_int_eq(a->on_poweroff, b->on_poweroff);
    ck_assert_int_eq(a->on_reboot, b->on_reboot);
    ck_assert_int_eq(a->on_crash, b->on_crash);
    ck_assert_uint_eq(a->nvifs, b->nvifs);
    for (size_t i = 0; i < a->nvifs; i++) {
        ck_assert_str_eq(a->vifs[i].mac, b->vifs[i].mac);   /* a generated one too */
        ck_assert_str_eq(a->vifs[i].bridge, b->vifs[i].bridge);
        ck_assert_str_eq(a->vifs[i].ip, b->vifs[i].ip);
        ck_assert_str_eq(a->vifs[i].vifname, b->vifs[i].vifname);
        ck_assert_uint_eq(a->vifs[i].devid, b->vifs[i].devid);
    }
    ck_assert_uint_eq(a->ndisks, b->ndisks);
    for (size_t i = 0; i < a->ndisks; i++) {
        ck_assert_str_eq(a->disks[i].target, b->disks[i].target);
        ck_assert_str_eq(a->disks[i].vdev, b->disks[i].vdev);
        ck_assert_uint_eq(a->disks[i].devid, b->disks[i].devid);
        ck_assert_int_eq(a->disks[i].readonly, b->disks[i].readonly);
    }
}

/* Parses text, prints it, parses the print: the same configuration, and
 * printing that again gives the same text (a fixed point). Returns the
 * first print (caller frees). */
static char *round_trip(const char *text)
{
    struct tandem_config again;
    ck_assert_msg(parse(text) == 0, "first parse: %s", err);
    ck_assert_msg(config_finish(&cfg, err, sizeof(err)) == 0, "first finish: %s", err);
    char *printed = print_to_string(&cfg);
    config_init(&again);
    ck_assert_msg(config_parse_text(&again, printed, strlen(printed), "printed", err,
                                    sizeof(err)) == 0, "reparse: %s\n%s", err, printed);
    ck_assert_msg(config_finish(&again, err, sizeof(err)) == 0, "refinish: %s", err);
    assert_same_config(&cfg, &again);
    char *reprinted = print_to_string(&again);
    ck_assert_str_eq(printed, reprinted);
    free(reprinted);
    config_free(&again);
    return printed;
}

START_TEST(test_print_round_trip)
{
    char *p = round_trip(
        "name = 'rt'\nkernel = '/k \"quoted\" \\\\ dir/guest.elf'\nramdisk = '/boot/i'\n"
        "memory = 0x80 ; maxmem = 256\nvcpus = 2\nmaxvcpus = '4'\n"
        "cmdline = 'app=hello msg=\"a\\tb\"\\nsecond\\x01line \\x1b[0m'\n"
        "uuid = '12345678-9abc-def0-1234-56789abcdef0'\ncpu_mode = 'plain'\n"
        "on_poweroff = 'preserve'\non_reboot = 'rename-restart'\non_crash = 'restart'\n"
        "max_grant_frames = 8\n"
        "disk = [ '/srv/a.img,raw,xvda,r', 'target=/srv/b,c.img, vdev=xvdb',\n"
        "         'file:/srv/c.img,xvdc,w', 'tap:phy:/srv/p.img,xvdd,r' ]\n"
        "vif = [ 'mac=00:16:3e:00:00:01,bridge=br0', \"script='x'\",\n"
        "        'devid=5, ip=10.0.0.2/24, vifname=v5' ]\n");
    /* A list is one key; no raw control character in the print. */
    ck_assert_ptr_nonnull(strstr(p, "\ndisk = ["));
    ck_assert_ptr_null(strstr(strstr(p, "\ndisk =") + 1, "\ndisk ="));
    for (const char *q = p; *q; q++)
        ck_assert(*q == '\n' || (unsigned char)*q >= 0x20);
    /* Every vif with its MAC (a generated one too) and devid: a domain's
     * record brings back the same NIC. */
    ck_assert_ptr_nonnull(strstr(p, "\"mac=00:16:3e:00:00:01, bridge=br0, devid=0\""));
    ck_assert_ptr_nonnull(strstr(p, ", bridge=xenbr0, devid=1\""));
    ck_assert_ptr_nonnull(strstr(p, ", bridge=xenbr0, ip=10.0.0.2/24, vifname=v5, devid=5\""));
    free(p);
}
END_TEST

START_TEST(test_print_round_trip_root_extra_defaults)
{
    free(round_trip("name='d'\nkernel='/k'\nroot='/dev/xvda1'\nextra='quiet'\n"));
    config_free(&cfg); config_init(&cfg);
    char *p = round_trip("name='d'\nkernel='/k'\n");
    ck_assert_ptr_nonnull(strstr(p, "disk = []\n"));
    ck_assert_ptr_nonnull(strstr(p, "cmdline = \"\"\n"));
    free(p);
}
END_TEST

/* type = "hvm" through a domain's record: a kernel booted directly stays
 * a kernel booted directly (no firmware appears), the firmware's -kernel
 * keeps both, and serial = ... is kept. */
START_TEST(test_print_round_trip_hvm)
{
    char *p = round_trip("name='pc'\ntype='hvm'\nkernel='/boot/vmlinuz'\nramdisk='/boot/i'\n"
                         "extra='console=ttyS0'\nserial='stdio'\nmemory=256\n");
    ck_assert_ptr_nonnull(strstr(p, "kernel = \"/boot/vmlinuz\"\n"));
    ck_assert_ptr_null(strstr(p, "firmware"));
    ck_assert_ptr_nonnull(strstr(p, "serial = \"stdio\"\n"));
    free(p);
    config_free(&cfg); config_init(&cfg);
    p = round_trip("name='pc'\ntype='hvm'\nkernel='/boot/vmlinuz'\nfirmware='seabios'\n");
    ck_assert_ptr_nonnull(strstr(p, "kernel = \"/boot/vmlinuz\"\n"));
    ck_assert_ptr_nonnull(strstr(p, "firmware = \"seabios\"\n"));
    free(p);
    config_free(&cfg); config_init(&cfg);
    p = round_trip("name='pc'\ntype='hvm'\n");
    ck_assert_ptr_null(strstr(p, "kernel"));
    ck_assert_ptr_nonnull(strstr(p, "serial = \"pty\"\n"));
    free(p);
}
END_TEST

/* kernel and ramdisk are checked as files and become absolute paths. */
START_TEST(test_check_files)
{
    char dir[] = "/tmp/dom0cfg.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], kpath[300];
    snprintf(path, sizeof(path), "%s/g.cfg", dir);
    snprintf(kpath, sizeof(kpath), "%s/guest.elf", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("name = 'g'\nkernel = 'guest.elf'\nramdisk = 'missing.img'\n", f);
    fclose(f);
    f = fopen(kpath, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(config_parse_file(&cfg, path, err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(config_check_files(&cfg, err, sizeof(err)), -1);
    char want[800];
    snprintf(want, sizeof(want), "%s:3: ramdisk '%s/missing.img': No such file or directory",
             path, dir);
    ck_assert_str_eq(err, want);
    ck_assert_str_eq(cfg.kernel, kpath);
    ck_assert_int_eq(config_apply_override(&cfg, "ramdisk='/'", err, sizeof(err)), 0);
    ck_assert_int_eq(config_check_files(&cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "command line: ramdisk '/': not a regular file");
    unlink(kpath);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("dom0_config");
    TCase *syntax = tcase_create("syntax");
    tcase_add_checked_fixture(syntax, setup, teardown);
    tcase_add_test(syntax, test_full_example);
    tcase_add_test(syntax, test_defaults);
    tcase_add_test(syntax, test_max_grant_frames);
    tcase_add_test(syntax, test_max_grant_frames_range);
    tcase_add_test(syntax, test_whitespace_semicolons_no_final_newline);
    tcase_add_test(syntax, test_empty_and_comments_only);
    tcase_add_test(syntax, test_string_escapes);
    tcase_add_test(syntax, test_quotes_inside_other_quotes);
    tcase_add_test(syntax, test_integers);
    tcase_add_test(syntax, test_lists_multiline_trailing_comma);
    tcase_add_test(syntax, test_line_continuation);
    suite_add_tcase(s, syntax);

    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_unknown_key);
    tcase_add_test(errors, test_missing_equals);
    tcase_add_test(errors, test_missing_value);
    tcase_add_test(errors, test_bare_word);
    tcase_add_test(errors, test_unterminated_string);
    tcase_add_test(errors, test_bad_escape);
    tcase_add_test(errors, test_unterminated_list);
    tcase_add_test(errors, test_list_missing_comma);
    tcase_add_test(errors, test_nested_list);
    tcase_add_test(errors, test_list_item_not_string);
    tcase_add_test(errors, test_list_too_long);
    tcase_add_test(errors, test_string_too_long);
    tcase_add_test(errors, test_type_errors);
    tcase_add_test(errors, test_bad_numbers);
    tcase_add_test(errors, test_memory_range);
    tcase_add_test(errors, test_vcpus_range);
    tcase_add_test(errors, test_names);
    tcase_add_test(errors, test_enums);
    tcase_add_test(errors, test_uuid);
    tcase_add_test(errors, test_duplicate_key);
    tcase_add_test(errors, test_unexpected_characters);
    tcase_add_test(errors, test_file_errors);
    suite_add_tcase(s, errors);

    TCase *semantics = tcase_create("semantics");
    tcase_add_checked_fixture(semantics, setup, teardown);
    tcase_add_test(semantics, test_finish_required);
    tcase_add_test(semantics, test_finish_hvm);
    tcase_add_test(semantics, test_finish_cmdline_and_extra);
    tcase_add_test(semantics, test_finish_devices_not_yet);
    tcase_add_test(semantics, test_overrides);
    tcase_add_test(semantics, test_kernel_path_relative_to_file);
    tcase_add_test(semantics, test_mem_path_default);
    tcase_add_test(semantics, test_mem_path_tmpfs);
    tcase_add_test(semantics, test_mem_path_relative);
    tcase_add_test(semantics, test_mem_path_not_tmpfs);
    tcase_add_test(semantics, test_mem_path_missing);
    tcase_add_test(semantics, test_mem_path_not_a_directory);
    tcase_add_test(semantics, test_new_keys);
    tcase_add_test(semantics, test_limits_default_and_order);
    tcase_add_test(semantics, test_root_with_cmdline);
    tcase_add_test(semantics, test_vif_kept_raw);
    tcase_add_test(semantics, test_hex_escape);
    tcase_add_test(semantics, test_errors_show_control_characters_escaped);
    tcase_add_test(semantics, test_escape_function);
    tcase_add_test(semantics, test_print_round_trip);
    tcase_add_test(semantics, test_print_round_trip_root_extra_defaults);
    tcase_add_test(semantics, test_print_round_trip_hvm);
    tcase_add_test(semantics, test_check_files);
    suite_add_tcase(s, semantics);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Check suite for xl's disk syntax (dom0/disk.c): the key=value form in
 * any order (target= first or last), the positional and legacy forms,
 * Xen's device numbers, and every refusal with its message. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"

static struct disk_spec d;
static char err[256];

static int parse(const char *s)
{
    disk_spec_free(&d);
    err[0] = '\0';
    return disk_parse(s, &d, err, sizeof(err));
}

#define PARSES(spec, target_, vdev_, devid_, ro_)                            \
    do {                                                                      \
        ck_assert_msg(parse(spec) == 0, "%s: %s", spec, err);                 \
        ck_assert_str_eq(d.target, target_);                                  \
        ck_assert_str_eq(d.vdev, vdev_);                                      \
        ck_assert_uint_eq(d.devid, devid_);                                   \
        ck_assert_int_eq(d.readonly, ro_);                                    \
    } while (0)

#define FAILS(spec, msg)                                                      \
    do {                                                                      \
        ck_assert_int_eq(parse(spec), -1);                                    \
        ck_assert_str_eq(err, msg);                                           \
    } while (0)

START_TEST(test_key_value)
{
    PARSES("target=/a.img, vdev=xvda, access=rw, format=raw", "/a.img", "xvda", 51712, false);
    PARSES("format=raw, vdev=xvdb, access=ro, target=/b,c.img", "/b,c.img", "xvdb", 51728, true);
    PARSES("vdev=xvdc,target=/c.img", "/c.img", "xvdc", 51744, false);
    PARSES("target=/d.img,access=r,vdev=xvdd", "/d.img", "xvdd", 51760, true);
    PARSES("target=/e.img, vdev=xvde, devtype=disk, backendtype=phy", "/e.img", "xvde", 51776, false);
}
END_TEST

START_TEST(test_positional)
{
    PARSES("/a.img,raw,xvda,rw", "/a.img", "xvda", 51712, false);
    PARSES("/a.img,raw,xvda", "/a.img", "xvda", 51712, false);
    PARSES("/a.img,,xvdb,r", "/a.img", "xvdb", 51728, true);
    PARSES("file:/a.img,xvda,w", "/a.img", "xvda", 51712, false);
    PARSES("phy:/dev/vg/x,xvdb,r", "/dev/vg/x", "xvdb", 51728, true);
    PARSES("tap:aio:/a.img,xvda:disk,w", "/a.img", "xvda", 51712, false);
    PARSES("/a.img, raw, vdev=xvdf", "/a.img", "xvdf", 51792, false);
}
END_TEST

START_TEST(test_devids)
{
    ck_assert_int_eq(disk_vdev_devid("xvda"), 51712);
    ck_assert_int_eq(disk_vdev_devid("xvda1"), 51713);
    ck_assert_int_eq(disk_vdev_devid("xvdp"), 202 << 8 | 15 << 4);
    ck_assert_int_eq(disk_vdev_devid("xvdq"), 1 << 28 | 16 << 8);
    ck_assert_int_eq(disk_vdev_devid("xvdaa"), 1 << 28 | 26 << 8);
    ck_assert_int_eq(disk_vdev_devid("xvda16"), 1 << 28 | 16);
    ck_assert_int_eq(disk_vdev_devid("sda"), 2048);
    ck_assert_int_eq(disk_vdev_devid("sdb2"), 8 << 8 | 1 << 4 | 2);
    ck_assert_int_eq(disk_vdev_devid("hda"), 768);
    ck_assert_int_eq(disk_vdev_devid("hdb"), 3 << 8 | 64);
    ck_assert_int_eq(disk_vdev_devid("hdc"), 22 << 8);
    ck_assert_int_eq(disk_vdev_devid("d0"), 1 << 28);
    ck_assert_int_eq(disk_vdev_devid("d3p2"), 1 << 28 | 3 << 8 | 2);
    ck_assert_int_eq(disk_vdev_devid("51712"), 51712);
    ck_assert_int_eq(disk_vdev_devid("xvd"), -1);
    ck_assert_int_eq(disk_vdev_devid("xvdA"), -1);
    ck_assert_int_eq(disk_vdev_devid("xvda01"), -1);
    ck_assert_int_eq(disk_vdev_devid("sdq"), -1);
    ck_assert_int_eq(disk_vdev_devid("hde"), -1);
    ck_assert_int_eq(disk_vdev_devid("d01"), -1);
    ck_assert_int_eq(disk_vdev_devid("d1x"), -1);
    ck_assert_int_eq(disk_vdev_devid("007"), -1);
    ck_assert_int_eq(disk_vdev_devid("floppy"), -1);
}
END_TEST

START_TEST(test_errors)
{
    FAILS("x", "no vdev (e.g. vdev=xvda)");
    FAILS("vdev=xvda", "no target (the backing file or device)");
    FAILS("/a.img,qcow2,xvda", "format 'qcow2' is not supported (only raw)");
    FAILS("/a.img,raw,xvda,rx", "access 'rx' must be r, ro, w or rw");
    FAILS("/a.img,raw,floppy", "vdev 'floppy' is not a virtual device name (xvda, sdb, hdc, d5p1 ...)");
    FAILS("/a.img,raw,xvda:cdrom", "vdev 'xvda:cdrom': only ':disk' may follow the name");
    FAILS("target=/a.img, vdev=xvda, devtype=cdrom", "devtype 'cdrom' is not supported (only disk)");
    FAILS("target=/a.img, vdev=xvda, backendtype=qdisk", "backendtype 'qdisk' is not supported (only phy)");
    FAILS("target=/a.img, vdev=xvda, script=block", "unknown key 'script' (known: target, vdev, access, format, devtype, backendtype)");
    FAILS("target=/a, vdev=xvda, target=/b", "'target' given twice");
    FAILS("vdev=xvda, color=red, target=/a", "unknown key 'color' (known: target, vdev, access, format, devtype, backendtype)");
    FAILS("vdev=xvda, vdev=xvdb, target=/a", "'vdev' given twice");
    FAILS("/a,raw,xvda,rw,extra", "more than 4 positional fields (TARGET,FORMAT,VDEV,ACCESS)");
    FAILS("/a,raw,xvda,vdev=xvdb", "positional field 3 ('xvda') repeats a key given by name");
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("dom0_disk");
    TCase *t = tcase_create("disk");
    tcase_add_test(t, test_key_value);
    tcase_add_test(t, test_positional);
    tcase_add_test(t, test_devids);
    tcase_add_test(t, test_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(disk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    disk_spec_free(&d);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

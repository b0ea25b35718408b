/* vif[] items (dom0/vif.c): xl's key=value syntax, the generated MAC, and
 * every refusal naming the config line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "vif.h"

static struct vif_spec v;
static char err[512];

START_TEST(full_item)
{
    ck_assert_int_eq(vif_parse("mac=00:16:3E:01:02:03, bridge=br0, ip=10.0.0.2/24, vifname=v1",
                               2, &v, err, sizeof(err)), 0);
    ck_assert_str_eq(v.mac, "00:16:3e:01:02:03");
    ck_assert_str_eq(v.bridge, "br0");
    ck_assert_str_eq(v.ip, "10.0.0.2/24");
    ck_assert_str_eq(v.vifname, "v1");
    ck_assert_uint_eq(v.devid, 2);
}
END_TEST

START_TEST(defaults)
{
    struct vif_spec w;

    ck_assert_int_eq(vif_parse("", 0, &v, err, sizeof(err)), 0);
    ck_assert_str_eq(v.bridge, "xenbr0");
    ck_assert_int_eq(strncmp(v.mac, "00:16:3e:", 9), 0);
    ck_assert_uint_eq(strlen(v.mac), 17);
    ck_assert_int_eq(vif_parse("ip=10.0.0.9", 1, &w, err, sizeof(err)), 0);
    ck_assert_str_eq(w.ip, "10.0.0.9");
}
END_TEST

START_TEST(refusals)
{
    static const struct { const char *spec, *want; } c[] = {
        { "mac=00:16:3e:01:02", "not a unicast" },
        { "mac=01:16:3e:01:02:03", "not a unicast" },
        { "mac=00:16:3e:01:02:0g", "not a unicast" },
        { "bridge=a-very-long-bridge-name", "not an interface name" },
        { "bridge=br 0", "not an interface name" },
        { "bridge=", "not an interface name" },
        { "vifname=a/b", "not an interface name" },
        { "ip=10.0.0.300", "not A.B.C.D" },
        { "ip=10.0.0.1/33", "not A.B.C.D" },
        { "ip=10.0.0.1/", "not A.B.C.D" },
        { "rate=10Mb/s", "unknown vif key 'rate'" },
        { "type=ioemu", "only 'vif'" },
        { "backend=3", "always 0" },
        { "bridge", "is not key=value" },
    };

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        ck_assert_msg(vif_parse(c[i].spec, 0, &v, err, sizeof(err)) == -1, "%s accepted",
                      c[i].spec);
        ck_assert_msg(strstr(err, c[i].want), "%s: '%s'", c[i].spec, err);
    }
}
END_TEST

START_TEST(config_hook)
{
    static const char good[] = "name = 'g'\nkernel = 'k'\n"
                               "vif = [ 'bridge=br0', 'mac=00:16:3e:00:00:01' ]\n";
    static const char dup[] = "name = 'g'\nkernel = 'k'\n"
                              "vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:01' ]\n";
    static const char bad[] = "name = 'g'\nkernel = 'k'\n\nvif = [ 'brige=br0' ]\n";
    struct tandem_config c;

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, good, strlen(good), "t.cfg", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&c, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.nvifs, 2);
    ck_assert_str_eq(c.vifs[0].bridge, "br0");
    ck_assert_uint_eq(c.vifs[1].devid, 1);
    config_free(&c);

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, dup, strlen(dup), "t.cfg", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: vif 1: mac 00:16:3e:00:00:01 is already vif 0's");
    config_free(&c);

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, bad, strlen(bad), "t.cfg", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:4: vif 0: unknown vif key 'brige' (mac, bridge, ip, vifname, devid, "
                     "type, backend, script, model)");
    config_free(&c);
}
END_TEST

/* xl's devid=: the number a domain's record keeps for a vif attached
 * later; two vifs on one devid are refused. */
START_TEST(devid_key)
{
    static const char ok[] = "name = 'g'\nkernel = 'k'\n"
                             "vif = [ 'devid=3', 'mac=00:16:3e:00:00:01' ]\n";
    static const char dup[] = "name = 'g'\nkernel = 'k'\n"
                              "vif = [ 'bridge=br0', 'devid=0' ]\n";
    static const char *const bad[] = { "devid=", "devid=-1", "devid=65536", "devid=1x",
                                       "devid=99999999999999999999" };
    struct tandem_config c;

    ck_assert_int_eq(vif_parse("devid=7, bridge=br1", 0, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.devid, 7);
    ck_assert_int_eq(vif_parse("devid=65535", 0, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.devid, 65535);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(vif_parse(bad[i], 0, &v, err, sizeof(err)) == -1, "%s accepted", bad[i]);
        ck_assert_msg(strstr(err, "is not a number in 0..65535"), "%s: '%s'", bad[i], err);
    }

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, ok, strlen(ok), "t.cfg", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&c, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.vifs[0].devid, 3);
    ck_assert_uint_eq(c.vifs[1].devid, 1);   /* its index */
    config_free(&c);

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, dup, strlen(dup), "t.cfg", err, sizeof(err)), 0);
    ck_assert_int_eq(config_finish(&c, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "t.cfg:3: vif 1: devid 0 is already vif 0's");
    config_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dom0_vif");
    TCase *tc = tcase_create("vif");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, full_item);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, config_hook);
    tcase_add_test(tc, devid_key);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* xenstored: the wire parser, the shared xs_common helpers, and bad input
 * that must give XS_ERROR or a closed connection, never a crash. */
#include <errno.h>

#include "xenstored_test.h"

static struct conn *c0;

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
}

START_TEST(parse_framing)
{
    char buf[64];
    struct xsd_sockmsg h = { XS_READ, 7, 0, 3 };
    struct xsd_msg m;
    size_t used = 0;

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), "/a\0", 3);
    ck_assert_int_eq(wire_parse(buf, 10, &m, &used), 0);          /* partial header */
    ck_assert_int_eq(wire_parse(buf, sizeof(h) + 2, &m, &used), 0); /* partial body */
    ck_assert_int_eq(wire_parse(buf, sizeof(h) + 3, &m, &used), 1);
    ck_assert_uint_eq(used, sizeof(h) + 3);
    ck_assert_str_eq(wire_onearg(&m), "/a");
    h.len = XENSTORE_PAYLOAD_MAX + 1;
    memcpy(buf, &h, sizeof(h));
    ck_assert_int_eq(wire_parse(buf, sizeof(h), &m, &used), -1);
    h.len = 0xffffffffu;
    memcpy(buf, &h, sizeof(h));
    ck_assert_int_eq(wire_parse(buf, sizeof(h), &m, &used), -1);
}
END_TEST

START_TEST(strings_and_onearg)
{
    struct xsd_msg m = { { XS_WRITE, 0, 0, 7 }, "ab\0cd\0e" };
    const char *v[4];

    ck_assert_uint_eq(wire_strings(&m, v, 4), 2); /* "e" has no NUL */
    ck_assert_str_eq(v[0], "ab");
    ck_assert_str_eq(v[1], "cd");
    ck_assert_uint_eq(wire_strings(&m, v, 1), 1);
    ck_assert_ptr_null(wire_onearg(&m));
    m.hdr.len = 3;
    ck_assert_str_eq(wire_onearg(&m), "ab");
    m.hdr.len = 0;
    ck_assert_ptr_null(wire_onearg(&m));
}
END_TEST

START_TEST(common_errors)
{
    ck_assert_str_eq(xsc_error_name(ENOENT), "ENOENT");
    ck_assert_str_eq(xsc_error_name(EPERM), "EPERM");
    ck_assert_str_eq(xsc_error_name(ETIMEDOUT), "EINVAL");
    ck_assert_int_eq(xsc_error_from_name("EAGAIN"), EAGAIN);
    ck_assert_int_eq(xsc_error_from_name("E2BIG"), E2BIG);
    ck_assert_int_eq(xsc_error_from_name("EWHATEVER"), EINVAL);
    ck_assert(xsc_error_known(EISCONN));
    ck_assert(!xsc_error_known(ETIMEDOUT));
}
END_TEST

START_TEST(common_perms)
{
    struct xsc_perm p[3];
    char s[XSC_PERM_STRLEN];

    ck_assert(xsc_strings_to_perms(p, 3, "n0\0r5\0b0x10"));
    ck_assert_uint_eq(p[0].id, 0);
    ck_assert_uint_eq(p[0].perms, XSC_PERM_NONE);
    ck_assert_uint_eq(p[1].perms, XSC_PERM_READ);
    ck_assert_uint_eq(p[2].id, 16);
    ck_assert_uint_eq(p[2].perms, XSC_PERM_BOTH);
    ck_assert(!xsc_perm_parse("x1", p));
    ck_assert(!xsc_perm_parse("r", p));
    ck_assert(!xsc_perm_parse("r1z", p));
    p[0].id = 4294967295u;
    p[0].perms = XSC_PERM_WRITE;
    ck_assert_int_eq(xsc_perm_format(p, s, sizeof(s)), 3);
    ck_assert_str_eq(s, "w-1"); /* %i as libxenstore */
    p[0].perms = 7;
    ck_assert_int_eq(xsc_perm_format(p, s, sizeof(s)), -1);
}
END_TEST

START_TEST(common_paths)
{
    ck_assert_uint_eq(xsc_count_strings("a\0b\0c", 5), 2);
    ck_assert_uint_eq(xsc_count_strings("", 0), 0);
    ck_assert(xsc_valid_path("/", false));
    ck_assert(xsc_valid_path("/a-b_c@d/0", false));
    ck_assert(!xsc_valid_path("/a/", false));
    ck_assert(!xsc_valid_path("a", false));
    ck_assert(!xsc_valid_path("/a//b", false));
    ck_assert(!xsc_valid_path("/a.b", false));
    ck_assert(!xsc_valid_path("@rel", false));
    {
        char p[XENSTORE_ABS_PATH_MAX + 2];
        memset(p, 'a', sizeof(p) - 1);
        p[0] = '/';
        p[sizeof(p) - 1] = '\0';
        ck_assert(!xsc_valid_path(p, false));
        ck_assert(xsc_valid_name(p, false));
    }
    ck_assert(xsc_valid_path("@releaseDomain", true));
    ck_assert_uint_eq(xsc_path_rel_len("/local/domain/5/abc"), 3);
    ck_assert_uint_eq(xsc_path_rel_len("/local/domain/123456/abc"), strlen("/local/domain/123456/abc"));
    ck_assert_uint_eq(xsc_path_rel_len("/x/abc"), 6);
    ck_assert(xsc_path_is_subpath("/a", "/a/b"));
    ck_assert(xsc_path_is_subpath("/a", "/a"));
    ck_assert(!xsc_path_is_subpath("/a", "/ab"));
    ck_assert(xsc_is_child("/anything", "/"));
    {
        unsigned int d;
        char p[32];
        ck_assert(xsc_parse_domid("65535", &d) && d == 65535);
        ck_assert(!xsc_parse_domid("65536", &d));
        ck_assert(!xsc_parse_domid("1a", &d));
        ck_assert_int_eq(xsc_domain_path(3, p, sizeof(p)), 15);
        ck_assert_str_eq(p, "/local/domain/3");
    }
}
END_TEST

START_TEST(unknown_types)
{
    static const uint32_t types[] = { 20, XS_WATCH_EVENT, XS_ERROR, XS_TYPE_COUNT, 1000, XS_INVALID };

    for (size_t i = 0; i < XSD_ARRAY_SIZE(types); i++)
        xt_err(xt_call(c0, types[i], 0, "", 0), "ENOSYS");
}
END_TEST

START_TEST(missing_nul_and_bad_args)
{
    xt_err(xt_call(c0, XS_READ, 0, "/tool", 5), "EINVAL");
    xt_err(xt_call(c0, XS_READ, 0, "/tool\0/x", 9), "EINVAL");
    xt_err(xt_call(c0, XS_READ, 0, "", 0), "EINVAL");
    xt_err(xt_call(c0, XS_WRITE, 0, "/nonul", 6), "EINVAL");
    xt_err(xt_call(c0, XS_MKDIR, 0, "", 0), "EINVAL");
    xt_err(xt_call(c0, XS_INTRODUCE, 0, "1\0002\0", 4), "EINVAL");
    xt_err(xt_calls(c0, XS_INTRODUCE, 0, 3, "1", "2", "0"), "EINVAL"); /* port 0 */
    xt_err(xt_call(c0, XS_RELEASE, 0, "1", 1), "EINVAL");
    xt_err(xt_calls(c0, XS_RELEASE, 0, 1, "0"), "EINVAL");
    xt_err(xt_calls(c0, XS_RELEASE, 0, 1, "42"), "ENOENT");
    xt_err(xt_calls(c0, XS_RESUME, 0, 1, "42"), "ENOENT");
    xt_err(xt_calls(c0, XS_SET_TARGET, 0, 2, "42", "43"), "ENOENT");
    xt_err(xt_call(c0, XS_CONTROL, 0, "", 0), "EINVAL");
    xt_ok(xt_call(c0, XS_WRITE, 0, "/ok", 4)); /* still serving */
}
END_TEST

START_TEST(transaction_id_rules)
{
    /* Xen looks the transaction id up for every type but WATCH/UNWATCH. */
    xt_err(xt_calls(c0, XS_GET_DOMAIN_PATH, 77, 1, "1"), "ENOENT");
    xt_err(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 77, 1, "1"), "ENOENT");
    xt_err(xt_calls(c0, XS_INTRODUCE, 77, 3, "1", "2", "3"), "ENOENT");
    xt_err(xt_call(c0, XS_RESET_WATCHES, 77, "", 1), "ENOENT");
    xt_ok(xt_calls(c0, XS_WATCH, 77, 2, "/w", "t"));
    xt_ok(xt_calls(c0, XS_UNWATCH, 77, 2, "/w", "t"));
}
END_TEST

START_TEST(huge_header_closes)
{
    struct xsd_sockmsg h = { XS_READ, 1, 0, 0xffffffffu };
    struct conn *other = conn_new_mem(0);

    conn_mem_feed(c0, &h, sizeof(h));
    ck_assert(c0->dead);
    xt_ok(xt_write(other, 0, "/still", "alive"));
    conn_reap();
}
END_TEST

START_TEST(byte_at_a_time)
{
    char buf[64];
    struct xsd_sockmsg h = { XS_WRITE, 55, 0, 6 };
    struct xt_msg m;

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), "/b\0val", 6);
    for (size_t i = 0; i < sizeof(h) + 6; i++) {
        ck_assert_uint_eq(c0->caplen, 0);
        conn_mem_feed(c0, buf + i, 1);
    }
    ck_assert(xt_pop(c0, &m));
    ck_assert_uint_eq(m.hdr.type, XS_WRITE);
    ck_assert_uint_eq(m.hdr.req_id, 55);
    xt_read_eq(c0, 0, "/b", "val");
}
END_TEST

START_TEST(pipelined_requests)
{
    char buf[1024];
    size_t len = 0;
    struct xt_msg m;

    for (uint32_t i = 0; i < 10; i++) {
        struct xsd_sockmsg h = { XS_READ, 1000 + i, 0, 6 };
        memcpy(buf + len, &h, sizeof(h));
        memcpy(buf + len + sizeof(h), "/tool\0", 6);
        len += sizeof(h) + 6;
    }
    conn_mem_feed(c0, buf, len);
    for (uint32_t i = 0; i < 10; i++) {
        ck_assert(xt_pop(c0, &m));
        ck_assert_uint_eq(m.hdr.req_id, 1000 + i);
    }
}
END_TEST

START_TEST(max_payload)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    struct xt_msg *m;

    memcpy(buf, "/max", 5);
    memset(buf + 5, 'z', sizeof(buf) - 5);
    xt_ok(xt_call(c0, XS_WRITE, 0, buf, sizeof(buf)));
    m = xt_read(c0, 0, "/max");
    ck_assert_uint_eq(m->hdr.len, XENSTORE_PAYLOAD_MAX - 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_wire");
    TCase *tc = tcase_create("wire");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, parse_framing);
    tcase_add_test(tc, strings_and_onearg);
    tcase_add_test(tc, common_errors);
    tcase_add_test(tc, common_perms);
    tcase_add_test(tc, common_paths);
    tcase_add_test(tc, unknown_types);
    tcase_add_test(tc, missing_nul_and_bad_args);
    tcase_add_test(tc, transaction_id_rules);
    tcase_add_test(tc, huge_header_closes);
    tcase_add_test(tc, byte_at_a_time);
    tcase_add_test(tc, pipelined_requests);
    tcase_add_test(tc, max_payload);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

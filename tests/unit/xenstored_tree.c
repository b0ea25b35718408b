/* xenstored: the node tree through the wire operations. */
#include "xenstored_test.h"

static struct conn *c0;

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
}

START_TEST(initial_store)
{
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/tool")); /* exists: no-op */
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/")), "tool");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/tool")), "xenstored");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/")), "n0");
    xt_store_ok();
}
END_TEST

START_TEST(write_creates_parents)
{
    xt_ok(xt_write(c0, 0, "/a/b/c", "v"));
    xt_read_eq(c0, 0, "/a/b/c", "v");
    xt_read_eq(c0, 0, "/a/b", "");
    xt_read_eq(c0, 0, "/a", "");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/a")), "b");
    xt_ok(xt_write(c0, 0, "/a/b/c", "second"));
    xt_read_eq(c0, 0, "/a/b/c", "second");
    xt_store_ok();
}
END_TEST

START_TEST(binary_value)
{
    static const char payload[] = "/bin\0a\0b\0";
    struct xt_msg *m;

    xt_ok(xt_call(c0, XS_WRITE, 0, payload, sizeof(payload) - 1));
    m = xt_read(c0, 0, "/bin");
    ck_assert_uint_eq(m->hdr.len, 4);
    ck_assert_int_eq(memcmp(m->body, "a\0b\0", 4), 0);
    xt_ok(xt_call(c0, XS_WRITE, 0, "/empty", 7)); /* no value at all */
    ck_assert_uint_eq(xt_read(c0, 0, "/empty")->hdr.len, 0);
}
END_TEST

START_TEST(directory_order)
{
    xt_ok(xt_write(c0, 0, "/d/zz", "1"));
    xt_ok(xt_write(c0, 0, "/d/aa", "2"));
    xt_ok(xt_write(c0, 0, "/d/mm", "3"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/d")), "zz,aa,mm");
    xt_ok(xt_calls(c0, XS_RM, 0, 1, "/d/aa"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_DIRECTORY, 0, 1, "/d")), "zz,mm");
    ck_assert_uint_eq(xt_calls(c0, XS_DIRECTORY, 0, 1, "/d/zz")->hdr.len, 0);
}
END_TEST

START_TEST(rm_rules)
{
    xt_ok(xt_write(c0, 0, "/r/a/b", "1"));
    xt_ok(xt_write(c0, 0, "/r/a/c", "2"));
    xt_ok(xt_calls(c0, XS_RM, 0, 1, "/r/a"));
    xt_err(xt_read(c0, 0, "/r/a/b"), "ENOENT");
    xt_err(xt_read(c0, 0, "/r/a"), "ENOENT");
    xt_ok(xt_calls(c0, XS_RM, 0, 1, "/r/a"));      /* absent, parent there */
    xt_err(xt_calls(c0, XS_RM, 0, 1, "/r/x/y"), "ENOENT"); /* parent absent */
    xt_err(xt_calls(c0, XS_RM, 0, 1, "/"), "EINVAL");
    xt_store_ok();
    ck_assert_uint_eq(tree_count(), 6); /* /, /tool, /tool/xenstored, 2 specials, /r */
}
END_TEST

START_TEST(invalid_paths)
{
    static const char *bad[] = { "/a/", "/a//b", "/a b", "/a\xff", "@foo", "", "/a:b" };
    char longp[XENSTORE_ABS_PATH_MAX + 10];

    for (size_t i = 0; i < XSD_ARRAY_SIZE(bad); i++) {
        if (bad[i][0] == '\0' || bad[i][0] == '@')
            continue; /* relative: checked below */
        xt_err(xt_write(c0, 0, bad[i], "x"), "EINVAL");
        xt_err(xt_read(c0, 0, bad[i]), "EINVAL");
    }
    xt_err(xt_write(c0, 0, "", "x"), "EINVAL"); /* "/local/domain/0/" */
    /* dom0's paths are limited only by the payload size, as in Xen 4.17. */
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    xt_ok(xt_write(c0, 0, longp, "x"));
    xt_read_eq(c0, 0, longp, "x");
    xt_ok(xt_write(c0, 0, "/Aa0-_@", "x"));
}
END_TEST

START_TEST(relative_paths_socket)
{
    xt_ok(xt_write(c0, 0, "rel/x", "1"));
    xt_read_eq(c0, 0, "/local/domain/0/rel/x", "1");
    xt_read_eq(c0, 0, "rel/x", "1");
}
END_TEST

START_TEST(directory_part)
{
    char name[64], expect[8192] = "";
    size_t elen = 0;
    unsigned int off = 0;
    char got[8192] = "";
    size_t glen = 0;
    int rounds = 0;
    struct xt_msg *m;

    /* 300 children of 20 bytes: over 4096 bytes of names. */
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "/big/child-%013d", i);
        xt_ok(xt_write(c0, 0, name, ""));
        elen += (size_t)snprintf(expect + elen, sizeof(expect) - elen, "%schild-%013d",
                                 i ? "," : "", i);
    }
    xt_err(xt_calls(c0, XS_DIRECTORY, 0, 1, "/big"), "E2BIG");
    for (;;) {
        char offs[16];
        const char *p;
        snprintf(offs, sizeof(offs), "%u", off);
        m = xt_calls(c0, XS_DIRECTORY_PART, 0, 2, "/big", offs);
        ck_assert_uint_eq(m->hdr.type, XS_DIRECTORY_PART);
        ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
        p = m->body + strlen(m->body) + 1; /* skip the generation */
        rounds++;
        if (*p == '\0')
            break;
        while (p < m->body + m->hdr.len && *p) {
            glen += (size_t)snprintf(got + glen, sizeof(got) - glen, "%s%s", glen ? "," : "", p);
            off += (unsigned int)strlen(p) + 1;
            p += strlen(p) + 1;
        }
        if (p < m->body + m->hdr.len)
            break; /* ended with the empty string */
    }
    ck_assert_int_ge(rounds, 2);
    ck_assert_str_eq(got, expect);
    xt_err(xt_calls(c0, XS_DIRECTORY_PART, 0, 1, "/big"), "EINVAL");
}
END_TEST

START_TEST(generation_changes)
{
    char g1[32], g2[32];

    xt_ok(xt_write(c0, 0, "/g/a", ""));
    strcpy(g1, xt_calls(c0, XS_DIRECTORY_PART, 0, 2, "/g", "0")->body);
    xt_ok(xt_write(c0, 0, "/g/b", ""));
    strcpy(g2, xt_calls(c0, XS_DIRECTORY_PART, 0, 2, "/g", "0")->body);
    ck_assert_str_ne(g1, g2);
}
END_TEST

START_TEST(get_domain_path)
{
    ck_assert_str_eq(xt_calls(c0, XS_GET_DOMAIN_PATH, 0, 1, "7")->body, "/local/domain/7");
    xt_err(xt_call(c0, XS_GET_DOMAIN_PATH, 0, "7", 1), "EINVAL");
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "0")->body, "T");
    ck_assert_str_eq(xt_calls(c0, XS_IS_DOMAIN_INTRODUCED, 0, 1, "9")->body, "F");
}
END_TEST

START_TEST(control_commands)
{
    xt_ok(xt_calls(c0, XS_CONTROL, 0, 1, "check"));
    xt_ok(xt_calls(c0, XS_CONTROL, 0, 2, "log", "off"));
    xt_err(xt_calls(c0, XS_CONTROL, 0, 2, "log", "maybe"), "EINVAL");
    xt_err(xt_calls(c0, XS_CONTROL, 0, 1, "no-such-command"), "EINVAL");
    ck_assert_ptr_nonnull(strstr(xt_calls(c0, XS_CONTROL, 0, 1, "help")->body, "quota"));
    ck_assert_ptr_nonnull(strstr(xt_calls(c0, XS_CONTROL, 0, 1, "memreport")->body, "nodes: 5"));
}
END_TEST

START_TEST(many_nodes_check)
{
    char p[64];

    for (int i = 0; i < 2000; i++) {
        snprintf(p, sizeof(p), "/m/%d/%d", i % 37, i);
        xt_ok(xt_write(c0, 0, p, "v"));
    }
    xt_store_ok();
    xt_ok(xt_calls(c0, XS_RM, 0, 1, "/m"));
    xt_store_ok();
    ck_assert_uint_eq(tree_count(), 5);
    ck_assert_uint_eq(tree_owned(0), 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_tree");
    TCase *tc = tcase_create("tree");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, initial_store);
    tcase_add_test(tc, write_creates_parents);
    tcase_add_test(tc, binary_value);
    tcase_add_test(tc, directory_order);
    tcase_add_test(tc, rm_rules);
    tcase_add_test(tc, invalid_paths);
    tcase_add_test(tc, relative_paths_socket);
    tcase_add_test(tc, directory_part);
    tcase_add_test(tc, generation_changes);
    tcase_add_test(tc, get_domain_path);
    tcase_add_test(tc, control_commands);
    tcase_add_test(tc, many_nodes_check);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

/* xenstored: node permissions as Xen's (owner, per-domain r/w/b/n,
 * inheritance, privileged dom0, hidden ENOENT). */
#include "xenstored_test.h"

static struct conn *c0, *d5, *d6;

static void setup(void)
{
    xt_setup();
    c0 = conn_new_mem(0);
    d5 = conn_new_mem(5);
    d6 = conn_new_mem(6);
}

START_TEST(perm_for_conn_rules)
{
    struct xsc_perm p[3] = { { 5, XSC_PERM_NONE }, { 6, XSC_PERM_READ }, { 7, XSC_PERM_WRITE } };
    struct conn *d7 = conn_new_mem(7), *d8 = conn_new_mem(8);

    ck_assert_uint_eq(perm_for_conn(c0, p, 3), XSC_PERM_BOTH | XSD_PERM_OWNER);
    ck_assert_uint_eq(perm_for_conn(d5, p, 3), XSC_PERM_BOTH | XSD_PERM_OWNER);
    ck_assert_uint_eq(perm_for_conn(d6, p, 3), XSC_PERM_READ);
    ck_assert_uint_eq(perm_for_conn(d7, p, 3), XSC_PERM_WRITE);
    ck_assert_uint_eq(perm_for_conn(d8, p, 3), XSC_PERM_NONE);
    p[0].perms = XSC_PERM_READ; /* the owner's entry is everyone's default */
    ck_assert_uint_eq(perm_for_conn(d8, p, 3), XSC_PERM_READ);
    p[2].perms |= XSC_PERM_IGNORE;
    ck_assert_uint_eq(perm_for_conn(d7, p, 3), XSC_PERM_READ);
    d8->has_target = true; /* SET_TARGET 8 -> 5: 8 acts with 5's rights */
    d8->target = 5;
    ck_assert_uint_eq(perm_for_conn(d8, p, 3), XSC_PERM_BOTH | XSD_PERM_OWNER);
}
END_TEST

START_TEST(unprivileged_denied)
{
    xt_ok(xt_write(c0, 0, "/secret", "x"));
    xt_err(xt_read(d5, 0, "/secret"), "EACCES");
    xt_err(xt_write(d5, 0, "/secret", "y"), "EACCES");
    xt_err(xt_calls(d5, XS_DIRECTORY, 0, 1, "/secret"), "EACCES");
    xt_err(xt_calls(d5, XS_RM, 0, 1, "/secret"), "EACCES");
    /* Missing below an unreadable parent: EACCES hides existence. */
    xt_err(xt_read(d5, 0, "/secret/none"), "EACCES");
    xt_err(xt_write(d5, 0, "/secret/new", "v"), "EACCES");
    xt_read_eq(c0, 0, "/secret", "x");
}
END_TEST

START_TEST(grants)
{
    xt_ok(xt_write(c0, 0, "/g", "x"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "/g", "n0", "r5"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/g")), "n0,r5");
    xt_read_eq(d5, 0, "/g", "x");
    xt_err(xt_write(d5, 0, "/g", "y"), "EACCES");
    xt_err(xt_read(d6, 0, "/g"), "EACCES");
    /* ENOENT is revealed only with the asked-for access to the parent. */
    xt_err(xt_read(d5, 0, "/g/none"), "ENOENT");
    xt_err(xt_write(d5, 0, "/g/none", "v"), "EACCES");
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "/g", "n0", "b5"));
    xt_ok(xt_write(d5, 0, "/g", "by5"));
    xt_read_eq(c0, 0, "/g", "by5");
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/g", "r0"));
    xt_read_eq(d6, 0, "/g", "by5"); /* default r for everybody */
}
END_TEST

START_TEST(inheritance_and_ownership)
{
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/local/domain/5"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "/local/domain/5", "n5", "r6"));
    /* Relative paths of domain 5 resolve to its home. */
    xt_ok(xt_write(d5, 0, "data/a/b", "v"));
    xt_read_eq(c0, 0, "/local/domain/5/data/a/b", "v");
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/local/domain/5/data/a/b")), "n5,r6");
    xt_read_eq(d6, 0, "/local/domain/5/data/a/b", "v");
    /* dom0 creating below keeps the inherited owner. */
    xt_ok(xt_write(c0, 0, "/local/domain/5/fromdom0", "x"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/local/domain/5/fromdom0")), "n5,r6");
    /* A domain creating under a node it may write owns the new node. */
    xt_ok(xt_write(c0, 0, "/shared", ""));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "/shared", "n0", "b6"));
    xt_ok(xt_write(d6, 0, "/shared/mine", "x"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "/shared/mine")), "n6,b6");
    ck_assert_uint_eq(tree_owned(6), 1);
    xt_store_ok();
}
END_TEST

START_TEST(set_perms_rules)
{
    xt_ok(xt_calls(c0, XS_MKDIR, 0, 1, "/local/domain/5"));
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"));
    xt_ok(xt_calls(d5, XS_SET_PERMS, 0, 3, "/local/domain/5", "n5", "r6"));
    /* Only a privileged caller may give a node away. */
    xt_err(xt_calls(d5, XS_SET_PERMS, 0, 2, "/local/domain/5", "n6"), "EPERM");
    xt_err(xt_calls(d6, XS_SET_PERMS, 0, 2, "/local/domain/5", "b6"), "EACCES");
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n6"));
    ck_assert_uint_eq(tree_owned(5), 0);
    ck_assert_uint_eq(tree_owned(6), 1);
    xt_err(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "x5"), "EINVAL");
    xt_err(xt_calls(c0, XS_SET_PERMS, 0, 2, "/local/domain/5", "r"), "EINVAL");
    xt_err(xt_calls(c0, XS_SET_PERMS, 0, 1, "/local/domain/5"), "EINVAL");
    xt_err(xt_calls(c0, XS_SET_PERMS, 0, 2, "/nonexistent", "n0"), "ENOENT");
    xt_store_ok();
}
END_TEST

START_TEST(special_nodes)
{
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "@releaseDomain")), "n0");
    xt_ok(xt_calls(c0, XS_SET_PERMS, 0, 3, "@releaseDomain", "n0", "r5"));
    ck_assert_str_eq(xt_list(xt_calls(c0, XS_GET_PERMS, 0, 1, "@releaseDomain")), "n0,r5");
    xt_err(xt_calls(c0, XS_SET_PERMS, 0, 2, "@other", "n0"), "ENOENT");
    xt_err(xt_read(c0, 0, "@releaseDomain"), "ENOENT"); /* relative name */
}
END_TEST

START_TEST(privileged_ops)
{
    xt_err(xt_calls(d5, XS_CONTROL, 0, 1, "check"), "EACCES");
    xt_err(xt_calls(d5, XS_INTRODUCE, 0, 3, "9", "1", "1"), "EACCES");
    xt_err(xt_calls(d5, XS_RELEASE, 0, 1, "9"), "EACCES");
    xt_err(xt_calls(d5, XS_SET_TARGET, 0, 2, "9", "5"), "EACCES");
    xt_err(xt_calls(d5, XS_RESUME, 0, 1, "9"), "EACCES");
    xt_err(xt_calls(d5, XS_IS_DOMAIN_INTRODUCED, 0, 1, "0"), "EACCES");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenstored_perms");
    TCase *tc = tcase_create("perms");

    tcase_add_checked_fixture(tc, setup, xt_teardown);
    tcase_add_test(tc, perm_for_conn_rules);
    tcase_add_test(tc, unprivileged_denied);
    tcase_add_test(tc, grants);
    tcase_add_test(tc, inheritance_and_ownership);
    tcase_add_test(tc, set_perms_rules);
    tcase_add_test(tc, special_nodes);
    tcase_add_test(tc, privileged_ops);
    suite_add_tcase(s, tc);
    return s;
}

XT_RUN(suite)

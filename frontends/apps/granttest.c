/*
 * app=granttest: grants pages for a dom0 test program
 * (tests/integration/drivers/grant_check.c) and checks what dom0 did with
 * them; steps agreed through xenstore nodes under data/granttest/.
 *
 *   ref-w      page W granted read-write to dom0 (dom0 reads it, writes a mark)
 *   ref-r      page R granted read-only to dom0 (a writable map is refused)
 *   ref-other  a page granted to another domain (refused to dom0)
 *   ref-never  a reference allocated but never granted (refused)
 *   nr-entries the table size (that ref is out of range, refused)
 *
 * While dom0 holds W and R mapped our end_access fails (-EBUSY); after
 * dom0 unmapped them it succeeds.
 */
#include "apps.h"
#include "gnttab.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"
#include "xenbus.h"

#define DIR "data/granttest/"
#define STEP_NS (20 * NSEC_PER_SEC)
#define OTHER_DOMID 5
#define W_TEXT "granttest: page W from the guest"
#define R_TEXT "granttest: page R from the guest"
#define DOM0_MARK "written by dom0"
#define DOM0_MARK_OFF 100

static int fail(const char *what, long err)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "fail:%s", what);
    xenbus_write(XBT_NIL, DIR "state", buf);
    printk("granttest: FAIL %s (%ld)\n", what, err);
    return 1;
}

static int step(const char *state, const char *wait_cmd)
{
    int r = xenbus_write(XBT_NIL, DIR "state", state);
    if (r >= 0 && wait_cmd)
        r = xenbus_wait_for_value(DIR "cmd", wait_cmd, STEP_NS);
    return r;
}

struct grants {
    char *w, *r, *other;
    int ref_w, ref_r, ref_other, ref_never;
};

static int make_grants(struct grants *g)
{
    g->w = page_alloc_zeroed(1);
    g->r = page_alloc_zeroed(1);
    g->other = page_alloc_zeroed(1);
    if (!g->w || !g->r || !g->other)
        return fail("page_alloc", -ENOMEM);
    strlcpy(g->w, W_TEXT, PAGE_SIZE);
    strlcpy(g->r, R_TEXT, PAGE_SIZE);
    g->ref_w = gnttab_grant_page(0, g->w, false);
    g->ref_r = gnttab_grant_page(0, g->r, true);
    g->ref_other = gnttab_grant_page(OTHER_DOMID, g->other, false);
    g->ref_never = gnttab_alloc_ref();
    if (g->ref_w < 0 || g->ref_r < 0 || g->ref_other < 0 || g->ref_never < 0)
        return fail("grant", g->ref_w < 0 ? g->ref_w : g->ref_r < 0 ? g->ref_r : g->ref_never);
    int r;
    if ((r = xenbus_printf(XBT_NIL, "data/granttest", "ref-w", "%d", g->ref_w)) < 0 ||
        (r = xenbus_printf(XBT_NIL, "data/granttest", "ref-r", "%d", g->ref_r)) < 0 ||
        (r = xenbus_printf(XBT_NIL, "data/granttest", "ref-other", "%d", g->ref_other)) < 0 ||
        (r = xenbus_printf(XBT_NIL, "data/granttest", "ref-never", "%d", g->ref_never)) < 0 ||
        (r = xenbus_printf(XBT_NIL, "data/granttest", "nr-entries", "%u", gnttab_nr_entries())) < 0)
        return fail("publishing refs", r);
    return 0;
}

/* Dom0 holds W and R mapped: it wrote its mark into W; we cannot revoke. */
static int check_while_mapped(const struct grants *g)
{
    if (strcmp(g->w + DOM0_MARK_OFF, DOM0_MARK) != 0)
        return fail("dom0's write through the grant is not in page W", 0);
    if (strcmp(g->r, R_TEXT) != 0)
        return fail("read-only page R changed", 0);
    if (!gnttab_in_use((grant_ref_t)g->ref_w) || !gnttab_in_use((grant_ref_t)g->ref_r))
        return fail("mapped grants not marked in use", 0);
    int r;
    if ((r = gnttab_end_access((grant_ref_t)g->ref_w)) != -EBUSY)
        return fail("end_access of mapped W did not fail with EBUSY", r);
    if ((r = gnttab_end_access((grant_ref_t)g->ref_r)) != -EBUSY)
        return fail("end_access of mapped R did not fail with EBUSY", r);
    return 0;
}

static int check_after_unmap(const struct grants *g)
{
    int r;
    if ((r = gnttab_end_access_and_free((grant_ref_t)g->ref_w)) != 0)
        return fail("end_access of W after unmap", r);
    if ((r = gnttab_end_access_and_free((grant_ref_t)g->ref_r)) != 0)
        return fail("end_access of R after unmap", r);
    return 0;
}

int app_granttest(const struct cmdline *cl)
{
    (void)cl;
    struct grants g;
    int r;
    if (!gnttab_available() && (r = gnttab_init()) < 0)
        return fail("gnttab_init", r);
    if (make_grants(&g))
        return 1;
    if ((r = step("granted", "mapped")) < 0)
        return fail("waiting for dom0 to map", r);
    if (check_while_mapped(&g))
        return 1;
    if ((r = step("end-busy", "unmapped")) < 0)
        return fail("waiting for dom0 to unmap", r);
    if (check_after_unmap(&g))
        return 1;
    if ((r = step("ended", "done")) < 0)
        return fail("final step", r);
    printk("granttest: ok refs w=%d r=%d other=%d never=%d entries=%u\n", g.ref_w, g.ref_r,
           g.ref_other, g.ref_never, gnttab_nr_entries());
    return 0;
}

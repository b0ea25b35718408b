/*
 * Dom0 side of the grant test with the guest's app=granttest
 * (frontends/apps/granttest.c lists the refs it publishes), through
 * tdm_gnttab:
 *
 *   grant_check --domid N [--run-dir DIR]
 *
 * Prints one "PASS: grant_<check>" or "FAIL: grant_<check>: why" line per
 * check (tests/run.sh counts them); exit 1 if any failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tandem/tdm_gnttab.h>

#include "xs_step.h"

#define STEP_MS 30000
#define W_TEXT "granttest: page W from the guest"
#define R_TEXT "granttest: page R from the guest"
#define DOM0_MARK "written by dom0"
#define DOM0_MARK_OFF 100

static int failures;

static void check(bool ok, const char *name, const char *why)
{
    if (ok)
        printf("PASS: grant_%s\n", name);
    else
        printf("FAIL: grant_%s: %s\n", name, why);
    failures += !ok;
    fflush(stdout);
}

struct refs {
    uint64_t w, r, other, never, entries;
};

static bool read_refs(struct xs_step *xs, struct refs *f)
{
    return xs_step_get_u64(xs, "ref-w", &f->w) && xs_step_get_u64(xs, "ref-r", &f->r) &&
           xs_step_get_u64(xs, "ref-other", &f->other) &&
           xs_step_get_u64(xs, "ref-never", &f->never) &&
           xs_step_get_u64(xs, "nr-entries", &f->entries) && f->entries <= UINT32_MAX;
}

/* A map that must be refused with `want` (and must not leave a mapping). */
static void refused(struct tdm_gnttab *g, unsigned domid, uint64_t ref, bool ro, int want,
                    const char *name)
{
    struct tdm_grant_map m;
    int reason = TDM_GNT_OK;
    char why[256];
    int r = tdm_gnttab_map(g, domid, (uint32_t)ref, ro, &m, &reason);
    snprintf(why, sizeof(why), "ref %" PRIu64 ": got %s (%s), want %s", ref,
             r == 0 ? "a mapping" : tdm_gnttab_reason(reason), r == 0 ? "" : tdm_last_error(),
             tdm_gnttab_reason(want));
    check(r < 0 && reason == want, name, why);
    if (r == 0)
        tdm_gnttab_unmap(g, &m);
}

/* W read-write: dom0 reads the guest's text and writes its mark. */
static bool map_pages(struct tdm_gnttab *g, unsigned domid, const struct refs *f,
                      struct tdm_grant_map *w, struct tdm_grant_map *r)
{
    bool okw = tdm_gnttab_map(g, domid, (uint32_t)f->w, false, w, NULL) == 0;
    check(okw, "map_rw", tdm_last_error());
    bool okr = tdm_gnttab_map(g, domid, (uint32_t)f->r, true, r, NULL) == 0;
    check(okr, "map_ro", tdm_last_error());
    if (!okw || !okr)
        return false;
    check(!strcmp(w->addr, W_TEXT), "read_through_rw_map", "page W does not hold the guest's text");
    check(!strcmp(r->addr, R_TEXT), "read_through_ro_map", "page R does not hold the guest's text");
    memcpy((char *)w->addr + DOM0_MARK_OFF, DOM0_MARK, sizeof(DOM0_MARK));
    return true;
}

static void run(struct tdm_gnttab *g, struct xs_step *xs, unsigned domid)
{
    struct refs f;
    struct tdm_grant_map w, r;
    if (!xs_step_wait(xs, "state", "granted", STEP_MS) || !read_refs(xs, &f)) {
        check(false, "setup", "the guest did not publish its refs");
        return;
    }
    if (!map_pages(g, domid, &f, &w, &r))
        return;
    refused(g, domid, f.never, true, TDM_GNT_NOT_GRANTED, "refuse_never_granted");
    refused(g, domid, f.other, true, TDM_GNT_OTHER_DOMAIN, "refuse_other_domain");
    refused(g, domid, f.r, false, TDM_GNT_READ_ONLY, "refuse_write_to_readonly");
    refused(g, domid, f.entries, true, TDM_GNT_BAD_REF, "refuse_ref_out_of_range");
    refused(g, domid, UINT32_MAX, true, TDM_GNT_BAD_REF, "refuse_ref_max");
    bool busy = xs_step_put(xs, "cmd", "mapped") && xs_step_wait(xs, "state", "end-busy", STEP_MS);
    check(busy, "guest_end_access_fails_while_mapped", "guest reported otherwise (see its console)");
    bool un = tdm_gnttab_unmap(g, &w) == 0 && tdm_gnttab_unmap(g, &r) == 0;
    check(un, "unmap", tdm_last_error());
    bool ended = un && xs_step_put(xs, "cmd", "unmapped") && xs_step_wait(xs, "state", "ended", STEP_MS);
    check(ended, "guest_end_access_after_unmap", "guest reported otherwise (see its console)");
    if (ended)
        refused(g, domid, f.w, false, TDM_GNT_NOT_GRANTED, "refuse_after_end_access");
    xs_step_put(xs, "cmd", failures ? "fail:dom0" : "done");
}

int main(int argc, char **argv)
{
    const char *run_dir = NULL;
    unsigned long domid = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end;
        if (!strcmp(argv[i], "--run-dir")) {
            run_dir = argv[i + 1];
        } else if (!strcmp(argv[i], "--domid")) {
            errno = 0;
            domid = strtoul(argv[i + 1], &end, 10);
            if (errno || *end || domid == 0 || domid >= 0x7ff0)
                domid = 0;
        } else {
            domid = 0;
            break;
        }
    }
    if (!domid || argc % 2 == 0) {
        fprintf(stderr, "usage: grant_check --domid 1..32751 [--run-dir DIR]\n");
        return 2;
    }
    struct tdm_gnttab *g = tdm_gnttab_open(run_dir);
    struct xs_step *xs = xs_step_open((unsigned)domid, "granttest");
    if (!g || !xs)
        check(false, "setup", "cannot open the grant handle or xenstore");
    else
        run(g, xs, (unsigned)domid);
    xs_step_close(xs);
    tdm_gnttab_close(g);
    return failures ? 1 : 0;
}

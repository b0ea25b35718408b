/*
 * Dom0 side of the grant test with the guest's app=granttest
 * (frontends/apps/granttest.c lists the refs it publishes), through
 * tdm_gnttab:
 *
 *   grant_check --domid N [--run-dir DIR] [--bench N]
 *
 * --bench N also times N map+unmap pairs of one granted page (after the
 * checks, while the guest waits) next to the raw costs on the host in the
 * same run: the two compare-and-swaps alone, and mmap+munmap of one page
 * of a memfd (what mapping each grant afresh would cost); key=value lines.
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
#include <sys/mman.h>
#include <tandem/tdm_gnttab.h>
#include <unistd.h>

#include "stats_util.h"

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

static uint64_t bench_n;

/* The flag transitions alone: a CAS to mark, a CAS to clear. */
static double raw_cas_ns(uint64_t n)
{
    static uint32_t word;
    uint64_t t0 = stats_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint32_t v = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
        __atomic_compare_exchange_n(&word, &v, v | 0x18, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        v |= 0x18;
        __atomic_compare_exchange_n(&word, &v, v & ~0x18u, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    return (double)(stats_now_ns() - t0) / (double)n;
}

static double raw_mmap_ns(uint64_t n)
{
    int fd = memfd_create("grant-bench", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
        return -1;
    uint64_t t0 = stats_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)((i % 256) * 4096));
        if (p == MAP_FAILED)
            break;
        p[0] = 1; /* touch it, as a user of the grant would */
        munmap((void *)p, 4096);
    }
    double ns = (double)(stats_now_ns() - t0) / (double)n;
    close(fd);
    return ns;
}

static void bench(struct tdm_gnttab *g, unsigned domid, uint64_t ref)
{
    struct tdm_grant_map m;
    uint64_t t0 = stats_now_ns(), done = 0;
    for (; done < bench_n; done++) {
        if (tdm_gnttab_map(g, domid, (uint32_t)ref, false, &m, NULL) < 0)
            break;
        ((volatile char *)m.addr)[200] = 1;
        if (tdm_gnttab_unmap(g, &m) < 0)
            break;
    }
    double map_ns = (double)(stats_now_ns() - t0) / (double)(done ? done : 1);
    check(done == bench_n, "bench_map_unmap", tdm_last_error());
    double cas_ns = raw_cas_ns(bench_n), mmap_ns = raw_mmap_ns(bench_n);
    printf("grant_map_unmap_ns=%.0f\nraw_cas_pair_ns=%.0f\nraw_mmap_munmap_ns=%.0f\n", map_ns,
           cas_ns, mmap_ns);
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
    if (un && bench_n)
        bench(g, domid, f.w);
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
        } else if (!strcmp(argv[i], "--bench")) {
            errno = 0;
            bench_n = strtoull(argv[i + 1], &end, 10);
            if (errno || *end || bench_n == 0 || bench_n > 100000000) {
                domid = 0;
                break;
            }
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
        fprintf(stderr, "usage: grant_check --domid 1..32751 [--run-dir DIR] [--bench 1..1e8]\n");
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

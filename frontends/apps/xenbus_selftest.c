/*
 * app=xenbus-selftest: the guest's xenbus and grant-table layers against
 * the real xenstored, with tests/integration/xenbus_selftest.sh acting as
 * dom0.  The guest announces each step in data/xbst/step; the script
 * reacts (writes a node, conflicts with a transaction, plays a backend,
 * maps a grant) and answers in a node the guest waits for — no timing
 * assumptions on either side.  Prints one line:
 * `xenbus-selftest: ok ...` or `xenbus-selftest: FAIL <what> (<errno>)`.
 */
#include "apps.h"
#include "gnttab.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "mm.h"
#include "platform.h"
#include "thread.h"
#include "xenbus.h"

#define DIR        "data/xbst"
#define DOM0_WAIT  (30 * NSEC_PER_SEC) /* for the script's answers */
#define SHORT_WAIT (200 * NSEC_PER_MSEC)

static char failed[96];
static int failed_err;

static bool check(bool ok, const char *what, int err)
{
    if (!ok && !failed[0]) {
        strlcpy(failed, what, sizeof(failed));
        failed_err = err;
    }
    return ok;
}

/* Returns false from the caller unless expr gives 0. */
#define TRY(expr, what)                                                       \
    do {                                                                      \
        int r_ = (expr);                                                      \
        if (!check(r_ == 0, (what), r_))                                      \
            return false;                                                     \
    } while (0)

/* Tells the script which step we are at and waits for its answer node. */
static int dom0_step(const char *step, const char *answer)
{
    int r = xenbus_write(XBT_NIL, DIR "/step", step);
    if (r < 0)
        return r;
    return xenbus_wait_for_value(answer, "1", DOM0_WAIT);
}

static bool has_name(const char *buf, int n, const char *name)
{
    for (int i = 0; i < n; i++, buf += strlen(buf) + 1)
        if (strcmp(buf, name) == 0)
            return true;
    return false;
}

static bool test_ops(void)
{
    char buf[64];
    uint64_t v;
    int r;
    xenbus_rm(XBT_NIL, DIR); /* leftovers of an earlier run */
    TRY(xenbus_mkdir(XBT_NIL, DIR), "mkdir");
    TRY(xenbus_write(XBT_NIL, DIR "/a", "alpha"), "write");
    TRY(xenbus_printf(XBT_NIL, DIR, "n", "%u", 4242u), "printf");
    r = xenbus_read(XBT_NIL, DIR "/a", buf, sizeof(buf));
    if (!check(r == 5 && strcmp(buf, "alpha") == 0, "read back", r))
        return false;
    r = xenbus_read_u64(XBT_NIL, DIR, "n", 1000000, &v);
    if (!check(r == 0 && v == 4242, "read_u64", r) ||
        !check(xenbus_read_u64(XBT_NIL, DIR, "a", 1000, &v) == -EINVAL, "read_u64 of text", 0))
        return false;
    r = xenbus_directory(XBT_NIL, DIR, buf, sizeof(buf));
    if (!check(r == 2 && has_name(buf, r, "a") && has_name(buf, r, "n"), "directory", r))
        return false;
    TRY(xenbus_rm(XBT_NIL, DIR "/a"), "rm");
    r = xenbus_read(XBT_NIL, DIR "/a", buf, sizeof(buf));
    return check(r == -ENOENT, "read after rm", r) &&
           check(!xenbus_exists(XBT_NIL, DIR "/a") && xenbus_exists(XBT_NIL, DIR "/n"), "exists", 0);
}

/* ---- a watch callback fired by a dom0 write ---- */

struct ping {
    struct waitq wq;
    char value[16];
    int events;
};

static void ping_changed(struct xenbus_watch *w, const char *path, void *arg)
{
    struct ping *p = arg;
    (void)w;
    size_t n = strlen(path), want = strlen(DIR "/ping");
    if (n < want || strcmp(path + n - want, DIR "/ping") != 0)
        return; /* relative watches get relative paths; accept both */
    p->events++;
    if (xenbus_read(XBT_NIL, DIR "/ping", p->value, sizeof(p->value)) < 0)
        p->value[0] = '\0';
    waitq_wake_all(&p->wq);
}

static bool ping_is_hello(struct ping *p)
{
    return strcmp(p->value, "hello") == 0;
}

static bool test_watch(void)
{
    static struct ping p = { .wq = WAITQ_INIT };
    static struct xenbus_watch w;
    int r = xenbus_watch_path(&w, DIR "/ping", ping_changed, &p);
    if (!check(r == 0, "watch", r))
        return false;
    /* the registration event comes first (node absent: no value) */
    bool first = wait_event_until(&p.wq, p.events >= 1, monotonic_ns() + DOM0_WAIT);
    if (!check(first, "watch: no initial event", -ETIMEDOUT))
        return false;
    r = xenbus_write(XBT_NIL, DIR "/step", "watch");
    bool got = r == 0 && wait_event_until(&p.wq, ping_is_hello(&p), monotonic_ns() + DOM0_WAIT);
    r = xenbus_unwatch(&w);
    return check(got, "watch: callback never saw dom0's write", -ETIMEDOUT) &&
           check(r == 0, "unwatch", r);
}

/* ---- a transaction that conflicts with dom0 and is run again ---- */

static int bump_counter(xenbus_transaction_t t, void *arg)
{
    int *runs = arg;
    uint64_t v;
    int r = xenbus_read_u64(t, DIR, "counter", 1000000, &v);
    if (r < 0)
        return r;
    if (++*runs == 1) {
        /* dom0 changes the counter behind our back: the commit must fail */
        r = dom0_step("tx", DIR "/tx-done");
        if (r < 0)
            return r == -ETIMEDOUT ? -EIO : r; /* not -EAGAIN: no retry */
    }
    return xenbus_printf(t, DIR, "counter", "%llu", (unsigned long long)v + 1);
}

static bool test_transaction(void)
{
    int runs = 0;
    unsigned int tries;
    int r = xenbus_write(XBT_NIL, DIR "/counter", "1");
    if (!check(r == 0, "tx: write counter", r))
        return false;
    r = xenbus_transaction_run(bump_counter, &runs, 4, &tries);
    if (!check(r == 0, "tx: run", r) || !check(tries == 2 && runs == 2, "tx: not retried once", (int)tries))
        return false;
    char buf[16];
    r = xenbus_read(XBT_NIL, DIR "/counter", buf, sizeof(buf));
    return check(r > 0 && strcmp(buf, "101") == 0, "tx: counter is not dom0's 100 + 1", r);
}

/* ---- waiting ---- */

static bool test_wait(void)
{
    uint64_t t0 = monotonic_ns();
    int r = xenbus_wait_for_value(DIR "/never", "x", SHORT_WAIT);
    uint64_t took = monotonic_ns() - t0;
    if (!check(r == -ETIMEDOUT, "wait: no timeout", r) ||
        !check(took >= SHORT_WAIT && took < SHORT_WAIT + 2 * NSEC_PER_SEC, "wait: timeout length",
               (int)(took / NSEC_PER_MSEC)))
        return false;
    r = xenbus_write(XBT_NIL, DIR "/step", "wait");
    if (!check(r == 0, "wait: step", r))
        return false;
    r = xenbus_wait_for_value(DIR "/later", "yes", DOM0_WAIT);
    return check(r == 0, "wait: value dom0 wrote not seen", r);
}

/* ---- the state machine against a backend played by dom0 ---- */

static int be_states, be_last = -1;
static struct waitq be_wq = WAITQ_INIT;

static void be_changed(struct xenbus_device *dev, int state)
{
    (void)dev;
    be_states++;
    be_last = state;
    waitq_wake_all(&be_wq);
}

static bool test_device(void)
{
    struct xenbus_device dev;
    int r = dom0_step("device", DIR "/device-ready");
    if (!check(r == 0, "device: dom0 did not create it", r))
        return false;
    r = xenbus_device_init(&dev, "xbtest", "0");
    if (!check(r == 0 && dev.otherend_id == 0, "device: otherend", r))
        return false;
    TRY(xenbus_dev_switch_state(&dev, XenbusStateInitialising), "device: switch");
    r = xenbus_read_state(XBT_NIL, dev.nodename);
    if (!check(r == XenbusStateInitialising, "device: read_state", r))
        return false;
    TRY(xenbus_watch_otherend(&dev, be_changed), "device: watch otherend");
    r = xenbus_dev_wait_otherend(&dev, XENBUS_STATE_BIT(XenbusStateInitWait), DOM0_WAIT);
    if (!check(r == XenbusStateInitWait, "device: backend never InitWait", r))
        return false;
    xenbus_dev_switch_state(&dev, XenbusStateInitialised);
    /* the script connects the backend once it sees Initialised */
    r = xenbus_dev_wait_otherend(&dev, XENBUS_STATE_BIT(XenbusStateConnected) |
                                           XENBUS_STATE_BIT(XenbusStateClosed), DOM0_WAIT);
    if (!check(r == XenbusStateConnected, "device: backend never Connected", r))
        return false;
    xenbus_dev_switch_state(&dev, XenbusStateConnected);
    /* the device's own watch may be dispatched after the one that woke us */
    bool seen = wait_event_until(&be_wq, be_last == XenbusStateConnected, monotonic_ns() + DOM0_WAIT);
    xenbus_unwatch_otherend(&dev);
    return check(seen && be_states >= 2, "device: otherend callback", be_states);
}

static bool test_otherend_checks(void)
{
    char path[XENBUS_PATH_MAX];
    domid_t id;
    int r;
    xenbus_write(XBT_NIL, DIR "/fe/backend", "/local/domain/0/backend/vbd/9/51712");
    xenbus_write(XBT_NIL, DIR "/fe/backend-id", "1"); /* path says 0 */
    r = xenbus_read_otherend(XBT_NIL, DIR "/fe", "backend", path, sizeof(path), &id);
    if (!check(r == -EINVAL, "otherend: mismatched id accepted", r))
        return false;
    xenbus_write(XBT_NIL, DIR "/fe/backend-id", "0x0");
    r = xenbus_read_otherend(XBT_NIL, DIR "/fe", "backend", path, sizeof(path), &id);
    if (!check(r == -EINVAL, "otherend: hex id accepted", r))
        return false;
    xenbus_write(XBT_NIL, DIR "/fe/backend-id", "0");
    r = xenbus_read_otherend(XBT_NIL, DIR "/fe", "backend", path, sizeof(path), &id);
    return check(r == 0 && id == 0, "otherend: good one refused", r) &&
           check(xenbus_state_parse("4", 1) == 4 && xenbus_state_parse("9", 1) < 0 &&
                 xenbus_state_parse("04", 2) < 0, "state_parse", 0);
}

/* ---- grants ---- */

static bool test_grant_batch(void)
{
    grant_ref_t refs[4];
    uint64_t frames[4];
    unsigned int before = gnttab_free_count();
    void *pages = page_alloc_zeroed(4);
    if (!check(pages != NULL, "gnttab: no memory", -ENOMEM))
        return false;
    for (int i = 0; i < 4; i++)
        frames[i] = (virt_to_phys(pages) >> PAGE_SHIFT) + (uint64_t)i;
    int r = gnttab_grant_frames(0, frames, 4, true, refs);
    bool ok = check(r == 0 && refs[0] >= GNTTAB_NR_RESERVED_ENTRIES, "gnttab: batch grant", r) &&
              check(gnttab_free_count() == before - 4, "gnttab: free count", (int)gnttab_free_count()) &&
              check(gnttab_end_access_refs(refs, 4, true) == 0, "gnttab: batch end", 0) &&
              check(gnttab_free_count() == before, "gnttab: refs not freed", (int)gnttab_free_count());
    grant_ref_t too_many[1];
    ok = ok && check(gnttab_alloc_refs(gnttab_nr_entries(), too_many) == -ENOSPC &&
                         gnttab_free_count() == before, "gnttab: over-allocation", 0) &&
         check(gnttab_free_ref(GNTTAB_RESERVED_XENSTORE) == -EINVAL, "gnttab: freed a reserved ref", 0);
    page_free(pages, 1 * 4);
    return ok;
}

/* Grants a page to dom0; the script maps it (sets GTF_reading as a dom0
 * map does), end_access must fail; after the unmap it must succeed. */
static bool test_grant_dom0(void)
{
    uint8_t *page = page_alloc_zeroed(1);
    if (!check(page != NULL, "grant: no memory", -ENOMEM))
        return false;
    for (int i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i * 7 + 1);
    int ref = gnttab_grant_page(0, page, false);
    bool ok = check(ref >= GNTTAB_NR_RESERVED_ENTRIES, "grant: grant_page", ref);
    int r = 0;
    if (ok) {
        xenbus_printf(XBT_NIL, DIR, "gref", "%d", ref);
        xenbus_printf(XBT_NIL, DIR, "gframe", "%llu",
                      (unsigned long long)(virt_to_phys(page) >> PAGE_SHIFT));
        r = dom0_step("grant", DIR "/grant-mapped");
        ok = check(r == 0, "grant: dom0 did not map it", r);
    }
    if (ok) {
        r = gnttab_end_access((grant_ref_t)ref);
        ok = check(r == -EBUSY && gnttab_in_use((grant_ref_t)ref), "grant: end_access while mapped", r);
    }
    if (ok) {
        r = dom0_step("unmap", DIR "/grant-unmapped");
        ok = check(r == 0, "grant: dom0 did not unmap it", r);
    }
    if (ok) {
        r = gnttab_end_access_and_free((grant_ref_t)ref);
        ok = check(r == 0, "grant: end_access after unmap", r);
    }
    if (ok)
        page_free(page, 1); /* only now: dom0 can no longer reach it */
    return ok;
}

/* ---- costs (printed, not judged) ---- */

static uint64_t read_cost_ns(void)
{
    char buf[16];
    uint64_t t0 = monotonic_ns();
    for (int i = 0; i < 100; i++)
        if (xenbus_read(XBT_NIL, DIR "/n", buf, sizeof(buf)) < 0)
            return 0;
    return (monotonic_ns() - t0) / 100;
}

static uint64_t grant_cost_ns(void)
{
    uint64_t t0 = monotonic_ns();
    for (int i = 0; i < 1000; i++) {
        int ref = gnttab_grant_access(0, 0x100, true);
        if (ref < 0 || gnttab_end_access_and_free((grant_ref_t)ref) < 0)
            return 0;
    }
    return (monotonic_ns() - t0) / 1000;
}

int app_xenbus_selftest(const struct cmdline *cl)
{
    (void)cl;
    int r = gnttab_init();
    if (check(r == 0, "gnttab_init", r)) {
        r = xenbus_init();
        check(r == 0, "xenbus_init", r);
    }
    bool ok = !failed[0] && test_ops() && test_otherend_checks() && test_wait() &&
              test_watch() && test_transaction() && test_device() && test_grant_batch() &&
              test_grant_dom0();
    xenbus_write(XBT_NIL, DIR "/step", ok ? "done" : "failed");
    if (!ok) {
        printk("xenbus-selftest: FAIL %s (%d)\n", failed, failed_err);
        return 1;
    }
    uint64_t rd = read_cost_ns(), gr = grant_cost_ns();
    printk("xenbus-selftest: ok ops watch(%llu events) transaction(retried) wait(reached, timed out) "
           "device(InitWait, Connected) grants(%u frames, end_access refused while mapped); "
           "xenbus_read %llu us, grant+end+free %llu ns\n",
           (unsigned long long)xenbus_watch_events(), gnttab_nr_frames(),
           (unsigned long long)(rd / 1000), (unsigned long long)gr);
    return 0;
}

/*
 * app=xenstore: the xenstore client end to end against xenstored: write a
 * key under the domain's data/, read it back, list data/, watch it (the watch fires
 * once at once, then on a change), rewrite it in a transaction, remove it (read gives ENOENT), unwatch.
 * Prints `xenstore: ok ...` or `xenstore: FAIL <step> (<errno>)`.
 */
#include "apps.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "xenstore.h"

#define KEY "data/tandem-selftest"
#define EVENT_WAIT_NS (5 * NSEC_PER_SEC)

static int fail(const char *step, int err)
{
    printk("xenstore: FAIL %s (%d)\n", step, err);
    return 1;
}

/* Waits for a watch event on KEY with our token. */
static int expect_event(void)
{
    char path[64], token[16];
    uint64_t deadline = monotonic_ns() + EVENT_WAIT_NS;
    for (;;) {
        int r = xs_read_watch(path, sizeof(path), token, sizeof(token), deadline);
        if (r < 0)
            return r;
        if (strcmp(token, "selftest") == 0 && strcmp(path, KEY) == 0)
            return 0;
    }
}

/* Writes "three" inside a transaction, retrying on a conflict; inside it
 * the new value is visible before the commit. */
static int transaction_write(void)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        uint32_t tx;
        char buf[16];
        int r = xs_transaction_start(&tx);
        if (r < 0)
            return r;
        if ((r = xs_write_tx(tx, KEY, "three")) < 0 ||
            (r = xs_read_tx(tx, KEY, buf, sizeof(buf))) < 0) {
            xs_transaction_end(tx, false);
            return r;
        }
        if (strcmp(buf, "three") != 0) {
            xs_transaction_end(tx, false);
            return -EPROTO;
        }
        r = xs_transaction_end(tx, true);
        if (r != -EAGAIN)
            return r;
    }
    return -EAGAIN;
}

/* Whether the NUL-separated list of n names in buf contains name. */
static bool has_name(const char *buf, int n, const char *name)
{
    for (int i = 0; i < n; i++, buf += strlen(buf) + 1)
        if (strcmp(buf, name) == 0)
            return true;
    return false;
}

int app_xenstore(const struct cmdline *cl)
{
    (void)cl;
    char buf[64];
    int r;
    if (!xs_available())
        return fail("no xenstore ring", -EIO);
    if ((r = xs_write(KEY, "one")) < 0)
        return fail("write", r);
    if ((r = xs_read(KEY, buf, sizeof(buf))) != 3 || strcmp(buf, "one") != 0)
        return fail("read back", r);
    if ((r = xs_directory("data", buf, sizeof(buf))) < 1 || !has_name(buf, r, "tandem-selftest"))
        return fail("directory lists the key", r);
    if ((r = xs_watch(KEY, "selftest")) < 0)
        return fail("watch", r);
    if ((r = expect_event()) < 0)
        return fail("initial watch event", r);
    if ((r = xs_write(KEY, "two")) < 0)
        return fail("second write", r);
    if ((r = expect_event()) < 0)
        return fail("watch event on change", r);
    if ((r = transaction_write()) < 0)
        return fail("transaction", r);
    if ((r = expect_event()) < 0)
        return fail("watch event on commit", r);
    if ((r = xs_read(KEY, buf, sizeof(buf))) != 5 || strcmp(buf, "three") != 0)
        return fail("read after commit", r);
    if ((r = xs_rm(KEY)) < 0)
        return fail("rm", r);
    if ((r = xs_read(KEY, buf, sizeof(buf))) != -ENOENT)
        return fail("read after rm should be ENOENT", r);
    if ((r = xs_unwatch(KEY, "selftest")) < 0)
        return fail("unwatch", r);
    printk("xenstore: ok write read directory watch transaction rm unwatch\n");
    return 0;
}

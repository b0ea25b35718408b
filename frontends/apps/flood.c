/*
 * app=flood mode=xenstore|doorbell|spin: a misbehaving guest for
 * tests/integration/flood_dom0.sh. It waits for data/flood/cmd = "start",
 * reports state = "flooding", floods until cmd = "stop", then writes the
 * number of operations to data/flood/ops and state = "stopped", and ends
 * when cmd = "bye".
 *
 *   xenstore: writes data/flood/k<i % 4096> as fast as the ring allows
 *             (beyond the node quota the writes fail; we keep going);
 *   doorbell: rings the doorbell for the xenstore port (an ioeventfd that
 *             wakes xenstored) and for a port allocated for dom0 that no
 *             service bound (every write exits to the VMM), alternately;
 *   spin:     the baseline, a well-behaved but busy guest: it only spins
 *             (what any CPU-bound guest costs the host).
 *
 * It looks at cmd once per BATCH operations (one xenstore read).
 */
#include "apps.h"
#include "evtchn.h"
#include "kernel.h"
#include "kerrno.h"
#include "ktime.h"
#include "public/tandem.h"
#include "xenstore.h"

#define DIR "data/flood/"
#define START_WAIT_NS (60 * NSEC_PER_SEC)
#define XS_BATCH 64
#define DOORBELL_BATCH 4096
#define SPIN_BATCH 2000000

static int fail(const char *what, long err)
{
    char buf[96];
    snprintf(buf, sizeof(buf), "fail:%s", what);
    xs_write(DIR "state", buf);
    printk("flood: FAIL %s (%ld)\n", what, err);
    return 1;
}

static bool told_to_stop(void)
{
    char v[16];
    return xs_read(DIR "cmd", v, sizeof(v)) >= 0 && strcmp(v, "stop") == 0;
}

/* Waits until cmd reads `want`. */
static int wait_cmd(const char *want)
{
    char path[64], token[16], v[16];
    int r = xs_watch(DIR "cmd", "flood");
    uint64_t deadline = monotonic_ns() + START_WAIT_NS;
    while (r >= 0) {
        if (xs_read(DIR "cmd", v, sizeof(v)) >= 0 && strcmp(v, want) == 0)
            break;
        r = xs_read_watch(path, sizeof(path), token, sizeof(token), deadline);
    }
    xs_unwatch(DIR "cmd", "flood");
    return r < 0 ? r : 0;
}

static uint64_t flood_xenstore(uint64_t *errors)
{
    uint64_t ops = 0;
    char path[32], val[24];
    do {
        for (int i = 0; i < XS_BATCH; i++, ops++) {
            snprintf(path, sizeof(path), DIR "k%llu", (unsigned long long)(ops % 4096));
            snprintf(val, sizeof(val), "%llu", (unsigned long long)ops);
            if (xs_write(path, val) < 0)
                (*errors)++;
        }
    } while (!told_to_stop());
    return ops;
}

static uint64_t flood_doorbell(evtchn_port_t unbound)
{
    uint64_t ops = 0;
    do {
        for (int i = 0; i < DOORBELL_BATCH; i++, ops++)
            evtchn_notify(i & 1 ? unbound : TANDEM_XENSTORE_PORT);
    } while (!told_to_stop());
    return ops;
}

static uint64_t flood_spin(void)
{
    uint64_t ops = 0;
    do {
        for (int i = 0; i < SPIN_BATCH; i++, ops++)
            __asm__ __volatile__("" : : "r"(ops) : "memory");
    } while (!told_to_stop());
    return ops;
}

int app_flood(const struct cmdline *cl)
{
    const char *mode = cmdline_get(cl, "mode");
    bool xenstore = mode && strcmp(mode, "xenstore") == 0;
    bool spin = mode && strcmp(mode, "spin") == 0;
    if (!mode || (!xenstore && !spin && strcmp(mode, "doorbell") != 0)) {
        printk("flood: mode=xenstore, mode=doorbell or mode=spin\n");
        return 1;
    }
    if (!xs_available())
        return fail("no xenstore", -EIO);
    long port = evtchn_alloc_unbound(0, NULL, NULL);
    if (port < 0)
        return fail("alloc_unbound", port);
    int r;
    /* ops exists before the flood, so the quota cannot refuse the report */
    if ((r = xs_write(DIR "ops", "0")) < 0 || (r = xs_write(DIR "state", "ready")) < 0 || (r = wait_cmd("start")) < 0 ||
        (r = xs_write(DIR "state", "flooding")) < 0)
        return fail("waiting for cmd=start", r);
    uint64_t errors = 0;
    uint64_t ops = xenstore ? flood_xenstore(&errors)
                   : spin   ? flood_spin()
                            : flood_doorbell((evtchn_port_t)port);
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)ops);
    /* dom0 reads ops before it lets us go (our nodes go with the domain) */
    if ((r = xs_write(DIR "ops", v)) < 0 || (r = xs_write(DIR "state", "stopped")) < 0 ||
        (r = wait_cmd("bye")) < 0)
        return fail("reporting", r);
    printk("flood: %s ops=%llu errors=%llu\n", mode, (unsigned long long)ops,
           (unsigned long long)errors);
    return 0;
}

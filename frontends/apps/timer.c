/*
 * app=timer: sleeps of 10 ms, 100 ms and 1 s (and a 50 ms wait_event
 * timeout), each measured with the guest's monotonic clock and with the
 * raw TSC at the FDT's tsc-khz (the host's counter, independent of the
 * VMM's mul/shift).  A sleep passes when it did not end early and lasted
 * at most 10% longer, and both measurements agree within 10%. With
 * late=unchecked (the test machine, where a vCPU is emulated and wakes
 * when the emulator gets to it) lateness is reported, not failed.
 */
#include "apps.h"
#include "arch.h"
#include "kernel.h"
#include "ktime.h"
#include "platform.h"
#include "thread.h"

#define WALLCLOCK_2020_NS (1577836800ULL * NSEC_PER_SEC)

struct measure {
    uint64_t guest_ns, tsc_ns;
};

static bool within(uint64_t got, uint64_t want, uint64_t slack)
{
    return got >= want && got <= want + slack;
}

static bool agree(uint64_t a, uint64_t b, uint64_t slack)
{
    return (a > b ? a - b : b - a) <= slack;
}

static struct waitq never_woken = WAITQ_INIT;

static struct measure run_one(uint64_t ns, bool use_wait)
{
    uint64_t tsc0 = arch_rdtsc(), m0 = monotonic_ns();
    if (use_wait)
        (void)wait_event_until(&never_woken, false, m0 + ns);
    else
        thread_sleep_ns(ns);
    uint64_t m1 = monotonic_ns(), tsc1 = arch_rdtsc();
    return (struct measure){ m1 - m0, tsc_to_ns(tsc1 - tsc0) };
}

/*
 * A sleep that ends early, or a guest clock that disagrees with the TSC,
 * fails at once.  A late wakeup may be the host's doing (the vCPU thread
 * was not scheduled in time), so that alone is retried, up to TRIES times.
 */
#define TRIES 3

static bool late_checked = true;

static bool check(const char *what, uint64_t ns, bool use_wait)
{
    for (int i = 1; i <= TRIES; i++) {
        struct measure m = run_one(ns, use_wait);
        bool early = m.guest_ns < ns;
        bool clocks_agree = !platform.tsc_khz || agree(m.tsc_ns, m.guest_ns, ns / 10);
        bool on_time = within(m.guest_ns, ns, ns / 10);
        bool ok = (on_time || (!late_checked && !early)) && clocks_agree;
        const char *verdict = ok ? (on_time ? "ok" : "ok (late, unchecked)")
                            : early ? "FAIL early" : !clocks_agree ? "FAIL clocks differ"
                            : i < TRIES ? "late, retrying" : "FAIL late";
        printk("timer: %s %llu ms: guest=%llu ns tsc=%llu ns %s\n", what,
               (unsigned long long)(ns / NSEC_PER_MSEC), (unsigned long long)m.guest_ns,
               (unsigned long long)m.tsc_ns, verdict);
        if (ok || early || !clocks_agree)
            return ok;
    }
    return false;
}

int app_timer(const struct cmdline *cl)
{
    const char *late = cmdline_get(cl, "late");
    late_checked = !late || strcmp(late, "unchecked") != 0;
    uint64_t wall = wallclock_ns();
    bool wall_ok = wall == 0 || wall > WALLCLOCK_2020_NS;
    printk("timer: tsc-khz=%u wallclock=%llu.%09llu s\n", platform.tsc_khz,
           (unsigned long long)(wall / NSEC_PER_SEC), (unsigned long long)(wall % NSEC_PER_SEC));
    int failed = wall_ok ? 0 : 1;
    failed += !check("sleep", 10 * NSEC_PER_MSEC, false);
    failed += !check("sleep", 100 * NSEC_PER_MSEC, false);
    failed += !check("sleep", 1000 * NSEC_PER_MSEC, false);
    failed += !check("wait-timeout", 50 * NSEC_PER_MSEC, true);
    if (failed) {
        printk("timer: FAIL %d check(s) out of 10%%%s\n", failed,
               wall_ok ? "" : " (wallclock before 2020)");
        return 1;
    }
    printk("timer: ok sleeps 10ms 100ms 1s %s (tsc-khz=%u)\n",
           late_checked ? "within 10%" : "not early, lateness unchecked", platform.tsc_khz);
    return 0;
}

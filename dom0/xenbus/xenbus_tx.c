/* tdm_xenbus_transact: one transaction loop for every dom0 writer (see
 * tdm_xenbus.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tdm_xenbus.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int tdm_xenbus_transact(struct xs_handle *h, int (*body)(struct xs_handle *h, xs_transaction_t t,
                                                         void *ctx),
                        void *ctx)
{
    uint64_t now = mono_ns(), deadline = now + TDM_XENBUS_TX_DEADLINE_NS;
    unsigned backoff_us = 500, seed = (unsigned)now ^ (unsigned)(uintptr_t)ctx;

    for (;;) {
        xs_transaction_t t = xs_transaction_start(h);
        int rc, e;

        if (t == XBT_NULL)
            return -1;
        rc = body(h, t, ctx);
        if (rc < 0) {
            e = errno;
            xs_transaction_end(h, t, true);
            errno = e;
            return -1;
        }
        if (xs_transaction_end(h, t, false))
            return rc;
        if (errno != EAGAIN || mono_ns() >= deadline)
            return -1;
        /* Another writer touched what we read: wait a random while, longer
         * each time, so that many writers at once do not collide again. */
        unsigned us = backoff_us / 2 + (unsigned)rand_r(&seed) % (backoff_us / 2 + 1);
        struct timespec ts = { 0, (long)us * 1000 };
        nanosleep(&ts, NULL);
        if (backoff_us < TDM_XENBUS_TX_BACKOFF_MAX_US)
            backoff_us *= 2;
    }
}

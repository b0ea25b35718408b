/* Choosing a domid: the lowest unused one >= 1, race-free between concurrent
 * `tandem run`s. Under rundir/create.lock a run scans the per-domid lock
 * files (a held flock = a live domain; its file holds the domain's name, so
 * names are unique too), asks the caller whether a candidate is in use
 * elsewhere (xenstore, a control socket of a VMM not started by tandem), then
 * creates and flocks domN.lock, which it holds until the domain is gone. */
#ifndef TANDEM_DOM0_DOMID_H
#define TANDEM_DOM0_DOMID_H

#include <stdbool.h>
#include <stddef.h>

struct domid_lease {
    unsigned domid;
    int fd;          /* flock held on rundir/domN.lock; -1 when none */
};

typedef bool (*domid_in_use_fn)(unsigned domid, void *ctx);

/* Returns 0 with *lease filled; -1 with err set (e.g. the name is taken). */
int domid_acquire(const char *name, domid_in_use_fn in_use, void *ctx,
                  struct domid_lease *lease, char *err, size_t errlen);

/* `tandem rename`: under create.lock, refuses a name a live domain has
 * and writes the new one into domid's lock file (the supervising run reads
 * it back with domid_lease_name when it restarts the domain). */
int domid_rename(unsigned domid, const char *name, char *err, size_t errlen);

/* The name currently recorded in the lease's lock file. */
int domid_lease_name(const struct domid_lease *lease, char *buf, size_t len);

/* Whether a live `tandem run`/create supervisor holds domid's lock. */
bool domid_held(unsigned domid);

/* Removes the lock file and drops the lock. */
void domid_release(struct domid_lease *lease);

#endif

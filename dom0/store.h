/* What the toolstack reads and writes in xenstore, through libxenstore. */
#ifndef TANDEM_DOM0_STORE_H
#define TANDEM_DOM0_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct xs_handle;

/* Opens a connection to the daemon at XENSTORED_PATH (xsd_available() or
 * xsd_ensure() set it). NULL if none answers; quiet unless `loud`. */
struct xs_handle *store_open(bool loud);
void store_close(struct xs_handle *h);

/* NUL-terminated value or NULL; caller frees. */
char *store_read(struct xs_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool store_exists(struct xs_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool store_write(struct xs_handle *h, const char *path, const char *value);

/* The domids under /local/domain (sorted, 0 included if present). */
size_t store_domids(struct xs_handle *h, unsigned *out, size_t max);

/* Looks a name up under /local/domain/N/name. Returns 0 and *domid. */
int store_find_name(struct xs_handle *h, const char *name, unsigned *domid);

/* Removes what a domain left behind (/local/domain/N, /vm/UUID, the
 * daemon's connection). Harmless when the VMM already did it. */
void store_forget_domain(struct xs_handle *h, unsigned domid, const char *uuid);

/* Blocks until `path` is gone from xenstore (via a watch), or timeout.
 * Returns 0 when gone. */
int store_wait_gone(struct xs_handle *h, const char *path, int timeout_ms);

/* Blocks until `path` exists (exists=true) or is gone, or timeout. 0 when so. */
int store_wait_state(struct xs_handle *h, const char *path, bool exists, int timeout_ms);

#endif

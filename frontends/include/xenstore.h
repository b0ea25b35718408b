/*
 * Minimal xenstore client over the shared ring page (struct
 * xenstore_domain_interface, event channel 1).  One request is in flight
 * at a time; callers on any thread are serialised.  Paths without a
 * leading '/' are relative to the domain's home /local/domain/<domid>.
 * Functions return 0 / a length, or a negative errno (-ETIMEDOUT when
 * xenstored does not answer in time, -EIO once the ring is unusable).
 */
#ifndef TANDEM_GUEST_XENSTORE_H
#define TANDEM_GUEST_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_TIMEOUT_NS (5 * 1000000000ULL)

/* Attaches to the ring; false if the platform offers no xenstore. */
bool xs_init(uint64_t ring_gpa, uint32_t port);
bool xs_available(void);

/* Reads path's value into buf (NUL-terminated); returns its length. */
int xs_read(const char *path, char *buf, size_t len);
int xs_write(const char *path, const char *value);
int xs_rm(const char *path);
int xs_mkdir(const char *path);
/* Lists path's children into buf as NUL-separated names; returns how many
 * (-E2BIG if they do not fit in len). */
int xs_directory(const char *path, char *buf, size_t len);
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);

/* Transactions: start gives an id for the _tx calls; end commits (or
 * aborts) it, -EAGAIN meaning another writer interfered: start again. */
int xs_transaction_start(uint32_t *tx);
int xs_transaction_end(uint32_t tx, bool commit);
int xs_read_tx(uint32_t tx, const char *path, char *buf, size_t len);
int xs_write_tx(uint32_t tx, const char *path, const char *value);
int xs_rm_tx(uint32_t tx, const char *path);
int xs_mkdir_tx(uint32_t tx, const char *path);
int xs_directory_tx(uint32_t tx, const char *path, char *buf, size_t len);

/* Waits for the next watch event until deadline (system time, 0 = no
 * limit); copies its path and token.  0, or -ETIMEDOUT / -EIO. */
/* Suspend (suspend.c): takes the request slot, so that no request is in
 * flight while the domain is saved (0, or -ETIMEDOUT). xs_resume gives it
 * back; in a new domain it first starts the connection afresh and then
 * registers every watch again, as Xen's xenbus does after a resume. */
int xs_suspend(void);
void xs_resume(bool new_domain);
int xs_read_watch(char *path, size_t plen, char *token, size_t tlen, uint64_t deadline);

#endif

/*
 * libxenstore: client library for xenstored, source-compatible with Xen
 * 4.17's xenstore.h (same functions, types, flags and semantics; this file
 * is Tandem's own text).  Every function that can fail sets errno.
 *
 * A handle is safe to use from several threads at once: requests on one
 * handle are serialised, and once a watch exists a reader thread owned by
 * the handle sorts replies from watch events.
 */
#ifndef XENSTORE_H
#define XENSTORE_H

#include <xenstore_lib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XBT_NULL 0

/* Accepted for compatibility; Xen 4.17 ignores them too. */
#define XS_OPEN_READONLY   (1UL << 0)
#define XS_OPEN_SOCKETONLY (1UL << 1)

/*
 * With XS_UNWATCH_FILTER, once xs_unwatch(path, token) has returned no
 * queued or later event whose token equals token and whose path is path or
 * below it is handed out.  This relies on (token, path) being unique: do
 * not watch a path and one of its subpaths with the same token.  Without
 * the flag, events already queued for the removed watch may still arrive.
 */
#define XS_UNWATCH_FILTER (1UL << 2)

struct xs_handle;
typedef uint32_t xs_transaction_t;

/* Connects to $XENSTORED_PATH / the daemon socket, or failing that to the
 * xenbus device.  flags: XS_OPEN_* and XS_UNWATCH_FILTER.  A handle is
 * only usable in the process that opened it (see
 * xs_daemon_destroy_postfork). */
struct xs_handle *xs_open(unsigned long flags);
/* Closes the connection and frees the handle; NULL is ignored. */
void xs_close(struct xs_handle *xsh);

/* Deprecated synonyms of xs_open(0) and xs_close(). */
struct xs_handle *xs_daemon_open(void);
struct xs_handle *xs_domain_open(void);
struct xs_handle *xs_daemon_open_readonly(void);
void xs_daemon_close(struct xs_handle *);

/* In a child after fork(): drops the inherited handle without talking to
 * the daemon or touching the parent's reader thread. */
void xs_daemon_destroy_postfork(struct xs_handle *);

/* Names of the children of path, *num of them, in one malloc()ed block
 * (free() the result).  Directories too big for one reply are fetched in
 * parts with XS_DIRECTORY_PART.  NULL on failure. */
char **xs_directory(struct xs_handle *h, xs_transaction_t t,
                    const char *path, unsigned int *num);

/* Value of path, malloc()ed and NUL-terminated; *len (if len is not NULL)
 * excludes the terminator.  NULL on failure. */
void *xs_read(struct xs_handle *h, xs_transaction_t t,
              const char *path, unsigned int *len);

/* Sets the value of path (creating missing parents).  False on failure. */
bool xs_write(struct xs_handle *h, xs_transaction_t t,
              const char *path, const void *data, unsigned int len);

/* Creates path with an empty value; succeeds if it already exists. */
bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path);

/* Removes path and everything below it. */
bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);

/* Kept for ABI compatibility: always returns false. */
bool xs_restrict(struct xs_handle *h, unsigned domid);

/* Permissions of path (first entry: owner and default), malloc()ed. */
struct xs_permissions *xs_get_permissions(struct xs_handle *h,
                                          xs_transaction_t t,
                                          const char *path, unsigned int *num);

/* Replaces the permissions of path; perms[0] is the owner and default. */
bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                        const char *path, struct xs_permissions *perms,
                        unsigned int num_perms);

/* Registers a watch on path and everything below it; events carry token.
 * The daemon fires every new watch once at once. */
bool xs_watch(struct xs_handle *h, const char *path, const char *token);

/* A file descriptor that is readable while a watch event is queued. */
int xs_fileno(struct xs_handle *h);

/* Next queued event without blocking: ret[XS_WATCH_PATH] and
 * ret[XS_WATCH_TOKEN], one block to free().  NULL with errno EAGAIN when
 * none is queued.  Call it until EAGAIN after xs_fileno became readable. */
char **xs_check_watch(struct xs_handle *h);

/* Next event, blocking until one arrives; *num = number of strings. */
char **xs_read_watch(struct xs_handle *h, unsigned int *num);

/* Removes a watch.  See XS_UNWATCH_FILTER for queued events. */
bool xs_unwatch(struct xs_handle *h, const char *path, const char *token);

/* Starts a transaction; XBT_NULL on failure. */
xs_transaction_t xs_transaction_start(struct xs_handle *h);

/* Commits (abort false) or discards a transaction.  False with errno
 * EAGAIN means a conflict: run the whole transaction again. */
bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort);

/* Control-domain operations. */
bool xs_introduce_domain(struct xs_handle *h, unsigned int domid,
                         unsigned long mfn, unsigned int eventchn);
bool xs_set_target(struct xs_handle *h, unsigned int domid,
                   unsigned int target);
bool xs_resume_domain(struct xs_handle *h, unsigned int domid);
bool xs_release_domain(struct xs_handle *h, unsigned int domid);

/* "/local/domain/<domid>", malloc()ed. */
char *xs_get_domain_path(struct xs_handle *h, unsigned int domid);

/* True if child equals parent or lies below it (string comparison only). */
bool xs_path_is_subpath(const char *parent, const char *child);

/* True if the daemon knows domid; false also on failure. */
bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid);

/* Sends an XS_CONTROL command with len bytes of data; the reply text,
 * malloc()ed.  xs_debug_command is the old name. */
char *xs_control_command(struct xs_handle *h, const char *cmd,
                         void *data, unsigned int len);
char *xs_debug_command(struct xs_handle *h, const char *cmd,
                       void *data, unsigned int len);

/* Event channel of domid's suspend device
 * (/local/domain/<domid>/device/suspend/event-channel), or -1. */
int xs_suspend_evtchn_port(int domid);

#ifdef __cplusplus
}
#endif

#endif /* XENSTORE_H */

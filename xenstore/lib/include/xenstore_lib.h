/*
 * libxenstore helpers shared with xenstored: permission records, daemon
 * paths and string-list helpers.  Declarations follow Xen 4.17's public
 * xenstore_lib.h (names, types and values are Xen's API; this file is
 * Tandem's own).  xs_perm_to_string() and xs_count_strings() live in Xen's
 * internal xs_lib.h; Tandem exports them too (see docs/xenstore-clients.md).
 */
#ifndef XENSTORE_LIB_H
#define XENSTORE_LIB_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

/* One access-control entry of a node.  The first entry of a list names the
 * owner and, through its bits, the access of every domain not listed. */
struct xs_permissions {
    unsigned int id;    /* domain id */
    unsigned int perms; /* XS_PERM_* bits */
#define XS_PERM_NONE      0x00
#define XS_PERM_READ      0x01
#define XS_PERM_WRITE     0x02
    /* Used inside xenstored only. */
#define XS_PERM_ENOENT_OK 0x04
#define XS_PERM_OWNER     0x08
#define XS_PERM_IGNORE    0x10
};

/* Enough bytes for the decimal form of an object of type x and a NUL
 * (every 10 bits need at most 3 digits). */
#define MAX_STRLEN(x) ((sizeof(x) * CHAR_BIT + CHAR_BIT - 1) / 10 * 3 + 2)

/* Where the daemon lives: $XENSTORED_RUNDIR (default /var/run/xenstored)
 * and $XENSTORED_PATH (default <rundir>/socket).  The read-only socket is
 * the same path, as in Xen 4.17. */
const char *xs_daemon_rundir(void);
const char *xs_daemon_socket(void);
const char *xs_daemon_socket_ro(void);

/* write() until all len bytes are out; false (errno set) on failure. */
bool xs_write_all(int fd, const void *data, unsigned int len);

/* Parses num NUL-terminated permission strings ("r5", "b0", ...) that
 * follow each other in strings.  False with errno EINVAL on bad input. */
bool xs_strings_to_perms(struct xs_permissions *perms, unsigned int num,
                         const char *strings);

/* Formats one permission as "<letter><domid>" into buffer (a buffer of
 * MAX_STRLEN(unsigned int) + 1 bytes is always enough).  False with errno
 * EINVAL when the bits are not none/read/write/both. */
bool xs_perm_to_string(const struct xs_permissions *perm, char *buffer,
                       size_t buf_len);

/* Number of NUL-terminated strings in strings[0..len). */
unsigned int xs_count_strings(const char *strings, unsigned int len);

#endif /* XENSTORE_LIB_H */

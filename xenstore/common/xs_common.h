/*
 * Wire helpers shared by xenstored and libxenstore: error names, permission
 * strings, path checks and NUL-separated string lists.  Everything here is a
 * pure function of its arguments (no allocation, no global state), so both
 * sides can call it on untrusted input.
 *
 * Names carry the xsc_ prefix so that libxenstore can export Xen's public
 * names (xs_count_strings, xs_strings_to_perms, ...) as thin wrappers.
 */
#ifndef TANDEM_XS_COMMON_H
#define TANDEM_XS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <public/io/xs_wire.h>

/* Permission bits: the values of libxenstore's XS_PERM_*. */
#define XSC_PERM_NONE   0x00u
#define XSC_PERM_READ   0x01u
#define XSC_PERM_WRITE  0x02u
#define XSC_PERM_BOTH   (XSC_PERM_READ | XSC_PERM_WRITE)
#define XSC_PERM_IGNORE 0x10u /* entry kept but not applied (domain gone) */

/* Same layout as libxenstore's struct xs_permissions. */
struct xsc_perm {
    unsigned int id;    /* domain id */
    unsigned int perms; /* XSC_PERM_* */
};

/* Longest permission string: letter, "-2147483648", NUL. */
#define XSC_PERM_STRLEN 13

/* Number of xsd error names (EINVAL ... EPERM). */
#define XSC_NR_ERRORS 16

/* errno -> Xen's wire name ("ENOENT"); an errno Xen has no name for maps to
 * "EINVAL", as Xen's xenstored does. */
const char *xsc_error_name(int err);
/* Wire name -> errno; an unknown name gives EINVAL, as libxenstore does. */
int xsc_error_from_name(const char *name);
/* True if err has a wire name of its own. */
bool xsc_error_known(int err);

/* Number of NUL bytes in buf[0..len): the count of complete strings. */
unsigned int xsc_count_strings(const char *buf, size_t len);

/* Parses one permission string ("r5", "b0", "n12", "w3"); domid is decimal
 * or 0x-hex (strtol base 0, as libxenstore).  False on anything else. */
bool xsc_perm_parse(const char *s, struct xsc_perm *out);
/* Parses num consecutive NUL-terminated permission strings (Xen's
 * xs_strings_to_perms).  The caller guarantees num NULs in strings. */
bool xsc_strings_to_perms(struct xsc_perm *perms, unsigned int num, const char *strings);
/* Writes "<letter><domid>" and a NUL into buf (size >= XSC_PERM_STRLEN is
 * always enough); returns the length without the NUL, or -1 if the perms
 * bits (ignoring XSC_PERM_IGNORE) are not one of NONE/READ/WRITE/BOTH. */
int xsc_perm_format(const struct xsc_perm *perm, char *buf, size_t size);

/* Node name checks (Xen's is_valid_nodename without the quota):
 * - absolute ("/..."), or a special name ("@...") when allow_special;
 * - no trailing '/' except "/" itself, no "//";
 * - only [A-Za-z0-9_/@-];
 * - at most XENSTORE_ABS_PATH_MAX bytes. */
bool xsc_valid_chars(const char *s);
bool xsc_valid_path(const char *path, bool allow_special);
/* The same without the length limit (xenstored 4.17 limits only
 * unprivileged domains, by its path-length quota). */
bool xsc_valid_name(const char *path, bool allow_special);
/* Length of the part of an absolute path below /local/domain/<id>/, the
 * part that Xen's path-length quota (XENSTORE_REL_PATH_MAX) counts. */
size_t xsc_path_rel_len(const char *path);

/* Xen's xs_path_is_subpath: child == parent or child starts with parent/ */
bool xsc_path_is_subpath(const char *parent, const char *child);
/* xenstored's is_child: as above, but everything is a child of "/". */
bool xsc_is_child(const char *child, const char *parent);

/* Parses a decimal domain id 0..65535 with nothing after it. */
bool xsc_parse_domid(const char *s, unsigned int *domid);
/* Writes "/local/domain/<domid>"; returns its length or -1 if too small. */
int xsc_domain_path(unsigned int domid, char *buf, size_t size);

/* 0 if a header may be read further (len <= XENSTORE_PAYLOAD_MAX), else E2BIG
 * (xenstored drops such a connection). */
int xsc_check_header(const struct xsd_sockmsg *hdr);

#endif

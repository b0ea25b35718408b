/* Reading numbers that the other end wrote in xenstore, for every backend:
 * the one strict parser (no sign, spaces, leading zeros or values above
 * the limit) and a reader that names the key in its error. */
#ifndef TANDEM_BACKENDS_TDM_XSKEYS_H
#define TANDEM_BACKENDS_TDM_XSKEYS_H

#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

/* Strict unsigned decimal ("0", "17"). 0 ok, -1 not. */
int tdm_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

/* A daemon's numeric option: "<daemon>: --<name>: "x" is not a number in
 * min..max" on stderr if it is not one. 0 or -1. */
int tdm_opt_uint(const char *daemon, const char *name, const char *arg, unsigned min,
                 unsigned max, unsigned *out);

/* dir/key as a number up to max: 1 read, 0 absent (*out = dflt), -1 bad or
 * unreadable, with a message naming the path in err. */
int tdm_xs_read_uint(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                     uint64_t dflt, uint64_t *out, char *err, size_t errlen);

/* The same for a key that must be there: 0, or -1 (absent counts as bad). */
int tdm_xs_need_uint(struct xs_handle *xs, const char *dir, const char *key, uint64_t max,
                     uint64_t *out, char *err, size_t errlen);

#endif

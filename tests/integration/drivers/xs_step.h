/* Steps between a dom0 test driver and a guest app, agreed through
 * xenstore nodes under /local/domain/<domid>/data/<app>/ (never by
 * sleeping): write a node, wait until a node has a value. */
#ifndef TANDEM_TEST_XS_STEP_H
#define TANDEM_TEST_XS_STEP_H

#include <stdbool.h>
#include <stdint.h>

struct xs_step;

/* Opens a connection ($XENSTORED_PATH) for /local/domain/<domid>/data/<app>. */
struct xs_step *xs_step_open(unsigned domid, const char *app);
void xs_step_close(struct xs_step *s);
/* Writes <dir>/<node>; false (with a message on stderr) on failure. */
bool xs_step_put(struct xs_step *s, const char *node, const char *value);
bool xs_step_put_u64(struct xs_step *s, const char *node, uint64_t value);
/* Waits until <dir>/<node> == want, or timeout_ms passes, or the guest
 * reports "fail:..." there.  False (with a message) unless it matched. */
bool xs_step_wait(struct xs_step *s, const char *node, const char *want, int timeout_ms);
/* Reads <dir>/<node> as a decimal number; false if absent or not a number. */
bool xs_step_get_u64(struct xs_step *s, const char *node, uint64_t *out);

#endif

/* One-line error messages for the parts of tandem-vmm that report into a
 * caller's buffer (command line, ELF loader). */
#ifndef TANDEM_VMM_ERRMSG_H
#define TANDEM_VMM_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (errlen bytes) and returns -1. */
int vmm_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

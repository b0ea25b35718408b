/* Per-thread "why did the last call fail" message for the dom0 libraries.
 *
 * Library functions return -1 (or NULL) with errno set; the message says
 * what was refused and why, with the domain/port/ref it concerned, so a
 * service can print it with its own context. Nothing is printed by the
 * libraries themselves. */
#ifndef TANDEM_DOM0_TDM_ERROR_H
#define TANDEM_DOM0_TDM_ERROR_H

/* Records errno = err and a formatted message; always returns -1. */
int tdm_set_error(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the last message with formatted context ("dom3: " + old),
 * keeping errno; returns -1. */
int tdm_add_context(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The calling thread's last message ("" if none yet). */
const char *tdm_last_error(void);

#endif

/*
 * The guest's small C library: string functions (also the ones libfdt
 * needs), number parsing and printf-style formatting.  The string functions
 * keep their standard names; host-side unit tests rename them with -D
 * (see frontends/lib/build.mk) so they do not clash with the host libc.
 */
#ifndef TANDEM_GUEST_KLIB_H
#define TANDEM_GUEST_KLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a whole string as an unsigned decimal/hex (0x) number that must
 * fit in max; returns 0 on success, -1 on empty, junk or overflow. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif

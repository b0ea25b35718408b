/*
 * The guest command line: `app=NAME key=value flag ...`, words separated
 * by blanks, a value may be double-quoted to contain blanks.  Parsed once
 * at boot (cmdline_parse checks everything); the rest of the kernel reads
 * the parsed words.
 */
#ifndef TANDEM_GUEST_CMDLINE_H
#define TANDEM_GUEST_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX 4096 /* bytes, the size of the VMM's command-line page */
#define CMDLINE_MAX_ARGS 32
#define CMDLINE_KEY_MAX 32

struct cmdline_arg {
    const char *key;
    const char *value; /* "" for a bare flag */
};

struct cmdline {
    char buf[CMDLINE_MAX + 2 * CMDLINE_MAX_ARGS]; /* words plus two NULs each */
    struct cmdline_arg args[CMDLINE_MAX_ARGS];
    unsigned int nr;
};

/* Parses at most `max` bytes of s (need not be NUL-terminated within max).
 * Returns 0, or -1 with a message in err. */
int cmdline_parse(struct cmdline *cl, const char *s, size_t max, char *err, size_t errlen);

/* The value of the last occurrence of key, or NULL. */
const char *cmdline_get(const struct cmdline *cl, const char *key);

/* Reads key as a number in [0, max]; returns 1 if absent (*out = dflt),
 * 0 if valid, -1 with a message in err if malformed or out of range. */
int cmdline_get_u64(const struct cmdline *cl, const char *key, uint64_t dflt, uint64_t max,
                    uint64_t *out, char *err, size_t errlen);

#endif

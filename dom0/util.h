/* Small helpers shared by the tandem verbs: messages, paths of sibling
 * binaries, number parsing, waiting for a process with a timeout. */
#ifndef TANDEM_DOM0_UTIL_H
#define TANDEM_DOM0_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses of the CLI itself (the domain's own ones are docs/abi.md's). */
#define EXIT_RUNTIME 1
#define EXIT_BADINPUT 2

#define DOMID_MAX_GUEST 0x7fef   /* DOMID_FIRST_RESERVED - 1 */

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Full path of a helper binary: $ENV if set, else next to this executable,
 * else the bare name (found through PATH). Caller frees. */
char *helper_path(const char *env, const char *name);

/* Strict decimal domid (1..DOMID_MAX_GUEST, or 0 if allow_zero). */
bool parse_domid(const char *s, unsigned *out, bool allow_zero);

int64_t now_ms(void);

/* Waits until pid has exited (it need not be our child). Returns 0 when it
 * is gone, -1 on timeout. timeout_ms < 0 waits forever. */
int wait_pid_gone(pid_t pid, int timeout_ms);

/* A random version-4 UUID string (37 bytes with NUL). */
int make_uuid(char out[37]);

/* MemTotal of the host in MiB (0 if unknown). */
long host_memory_mib(void);

/* Starts argv[0] as a detached daemon (its own session, stdin/stdout on
 * /dev/null, stderr appended to stderr_path, signals unblocked) that is
 * not our child: a double fork whose middle process reports the daemon's
 * pid through a pipe. Returns that pid, or -1. */
pid_t spawn_detached(char *const argv[], const char *stderr_path);

#endif

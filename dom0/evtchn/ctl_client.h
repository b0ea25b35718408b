/* Client side of a tandem-vmm control socket (docs/control-socket.md).
 *
 * One text request line, one reply line "OK k=v ..." or "ERR ENAME msg",
 * file descriptors riding on the reply as SCM_RIGHTS. The reply is parsed
 * and checked here, in one place: callers get typed values and a fixed
 * number of fds or an error, never a half-parsed line. */
#ifndef TANDEM_DOM0_CTL_CLIENT_H
#define TANDEM_DOM0_CTL_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#define TDM_CTL_LINE_MAX   4096   /* longest reply line we accept */
#define TDM_CTL_MAX_KV     48     /* key=value pairs in one reply */
#define TDM_CTL_MAX_FDS    8      /* fds accepted with one reply */
#define TDM_CTL_TIMEOUT_MS 5000   /* a VMM that does not answer is broken */

/* want_fds for callers that need no fds but tolerate them (the tandem
 * CLI's verbs): whatever fds come with an OK reply are closed. */
#define TDM_CTL_ANY_FDS    (~0u)

/* Default run directory when none is given and $TANDEM_RUNDIR is unset. */
#define TDM_DEFAULT_RUN_DIR "/run/tandem"

struct tdm_ctl;

struct tdm_ctl_reply {
    char line[TDM_CTL_LINE_MAX];     /* keys and values point in here */
    unsigned nkv;
    const char *key[TDM_CTL_MAX_KV];
    const char *val[TDM_CTL_MAX_KV];
    unsigned nfds;
    int fds[TDM_CTL_MAX_FDS];
    int was_ok;      /* the VMM said OK (even if the reply was then refused) */
};

/* run_dir NULL: $TANDEM_RUNDIR, else TDM_DEFAULT_RUN_DIR. */
const char *tdm_run_dir(const char *run_dir);

/* Connects to <run_dir>/dom<domid>.ctl. NULL with errno + tdm_last_error. */
struct tdm_ctl *tdm_ctl_connect(const char *run_dir, unsigned domid);
void tdm_ctl_close(struct tdm_ctl *c);
unsigned tdm_ctl_domid(const struct tdm_ctl *c);

/* Bounds each later reply, send and reconnect to timeout_ms instead of
 * TDM_CTL_TIMEOUT_MS (a single-threaded daemon wants a short bound). */
void tdm_ctl_set_timeout(struct tdm_ctl *c, int timeout_ms);

/* pid of the process serving the connection (SO_PEERCRED), i.e. the VMM;
 * -1 if unknown. */
pid_t tdm_ctl_peer_pid(struct tdm_ctl *c);

/* Frees the handle and hands its connected socket to the caller, who may
 * keep it open to notice the VMM's exit (the socket hangs up). -1 with
 * errno + tdm_last_error if the connection had failed. */
int tdm_ctl_release_fd(struct tdm_ctl *c);

/* Sends `request` (no newline) and waits for the reply. After a transport
 * failure (hang-up, timeout, overlong reply) the next request reconnects
 * first, so a restarted VMM is reached again. Returns 0 for OK
 * with exactly `want_fds` fds in r->fds (the caller owns them; with
 * TDM_CTL_ANY_FDS none are left: they were closed); -1 for
 * ERR (errno from the reply's name), a transport failure or a malformed
 * reply. On -1 no fd is left open. Thread-safe per connection. */
int tdm_ctl_request(struct tdm_ctl *c, const char *request, unsigned want_fds,
                    struct tdm_ctl_reply *r);

/* Parses one reply line (no newline, NUL-terminated, modified in place).
 * Returns 0 for "OK ...", a positive errno for "ERR ...", -1 if malformed.
 * Exposed for the unit tests. */
int tdm_ctl_parse_reply(struct tdm_ctl_reply *r);

/* Value of `key` or NULL. */
const char *tdm_ctl_get(const struct tdm_ctl_reply *r, const char *key);

/* Strict unsigned parse (decimal or 0x hex, whole string, no sign, fits in
 * 64 bits, <= max). 0 on success, -1 with a message naming the key. */
int tdm_ctl_get_u64(const struct tdm_ctl_reply *r, const char *key,
                    uint64_t max, uint64_t *out);

/* Strict parse of one number, the same rules (used for lists too). */
int tdm_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Closes every fd still held by the reply. */
void tdm_ctl_reply_close_fds(struct tdm_ctl_reply *r);

/* errno value for a reply's error name ("ENOENT" -> ENOENT), EIO if unknown. */
int tdm_errno_from_name(const char *name);

#endif

/* One domain's console as tandem-consoled serves it: the guest's console
 * ring (mapped from the memfd its tandem-vmm hands out on the control
 * socket) and console event channel (bound through libtdmevtchn), a pty
 * whose slave path goes to /local/domain/N/console/tty, and a log file.
 *
 * Output: ring -> log (all of it) and -> pty master. While nobody reads
 * the pty, the kernel keeps what fits and we keep up to CONS_PENDING_MAX
 * more (the oldest is dropped beyond that, with a note in the log); the
 * guest never waits on a reader. Input: pty -> the ring's in[], when it
 * has room. */
#ifndef TANDEM_CONSOLED_CONS_DOM_H
#define TANDEM_CONSOLED_CONS_DOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "public/io/console.h"

#define CONS_PENDING_MAX (64 * 1024)
#define CONS_NAME_MAX 64

struct tdm_evtchn;

struct cons_dom {
    unsigned domid;
    bool quiet;                   /* set before cons_dom_open: errors not reported (a retry) */
    char name[CONS_NAME_MAX + 1];
    char vm[64];                  /* xenstore's /local/domain/N/vm (/vm/UUID): which domain this is */
    uint32_t guest_port;          /* the guest's console port (xenstore console/port) */
    uint64_t ring_gpa;
    int ctl_fd;                   /* held control connection: hangs up when the VMM exits */
    void *ring_page;
    struct xencons_interface *ring;
    int local_port;               /* libtdmevtchn binding, 0 until bound */
    int kick_fd;                  /* the binding's eventfd (owned by libtdmevtchn) */
    int pty_master, pty_slave;
    char tty[64];
    char tty_file[4096];          /* LOG_DIR/domN.tty: the pty's path while it is open */
    int log_fd;
    char *pending;                /* output the pty could not take yet */
    size_t npending;
    uint64_t dropped;             /* bytes dropped from pending (log has them) */
    bool input_stalled;           /* in[] was full: the pty is not read */
    bool ended;                   /* the VMM is gone: flushing, then closing */
    int idle_ticks;               /* ended: ticks in a row the pty had nothing queued */
    int drain_ticks;              /* ended: ticks waited for a slow reader */
    int64_t next_bind_ms;         /* retry time while the guest has no shared_info */
    int bind_delay_ms;
};

/* What the daemon gives each domain. */
struct cons_env {
    const char *run_dir;          /* VMM control sockets */
    const char *log_dir;          /* guest-NAME.log files */
    struct tdm_evtchn *evtchn;
};

/* Maps the ring and opens the pty and the log. vm (the domain's
 * /vm/UUID path, "" if none), ring_gpa and port come from xenstore (vm,
 * console/ring-ref, console/port; dom0-owned keys). 0, or -1 with a
 * message on stderr (nothing left open). */
int cons_dom_open(struct cons_dom *d, const struct cons_env *env, unsigned domid,
                  const char *name, const char *vm, uint64_t ring_gpa, uint32_t port);

/* Tries to bind the console event channel (the guest must have placed its
 * shared_info first). 1 bound, 0 not yet (retry at next_bind_ms), -1 failed. */
int cons_dom_try_bind(struct cons_dom *d, const struct cons_env *env, int64_t now_ms);

/* Moves output ring -> log/pty and input pty -> ring; notifies the guest
 * when it consumed or produced anything. */
void cons_dom_pump(struct cons_dom *d, const struct cons_env *env);

/* Writes what the pty can take now of the pending output. */
void cons_dom_flush(struct cons_dom *d);

/* The VMM exited: a last pump; the pty stays until its reader has taken
 * everything (cons_dom_drained). */
void cons_dom_end(struct cons_dom *d, const struct cons_env *env);

/* Ended and nothing left for the reader (checked on two ticks in a row,
 * as the kernel moves pty data in steps), or given up. */
bool cons_dom_drained(struct cons_dom *d);

void cons_dom_close(struct cons_dom *d, const struct cons_env *env);

#endif

/* Starting and stopping the real daemons in a unit test: children whose
 * output goes to a log in the test's temporary directory, that die with
 * the test (PR_SET_PDEATHSIG), stopped by pid; a xenstored listening on a
 * socket of that directory. Failures are Check assertions. */
#ifndef TANDEM_TESTS_DAEMON_HARNESS_H
#define TANDEM_TESTS_DAEMON_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

long th_now_ms(void);

/* $TANDEM_BIN, else build/bin. */
const char *th_bin_dir(void);

/* Starts argv (argv[0] a path) with stdout+stderr appended to dir/log. */
pid_t th_spawn(const char *dir, const char *log, char *const argv[]);

/* xenstored on `sock`, waited for until it accepts; XENSTORED_PATH set. */
pid_t th_start_xenstored(const char *dir, const char *sock, int timeout_ms);

/* Sends sig, reaps; returns the wait status (-1 if there was none). */
int th_stop(pid_t *pid, int sig);

#endif

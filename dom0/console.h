/* The toolstack's end of a domain console: the pty tandem-consoled
 * publishes in /local/domain/N/console/tty, relayed to a terminal (`tandem
 * console`, `create -c`) or to stdout (`tandem run`). */
#ifndef TANDEM_DOM0_CONSOLE_H
#define TANDEM_DOM0_CONSOLE_H

#include <stdbool.h>

struct xs_handle;

#define CONSOLE_ESCAPE 0x1d   /* Ctrl-], as xl console */

enum relay_end { RELAY_HANGUP, RELAY_DETACHED, RELAY_STOPPED, RELAY_ERROR };

struct console_relay {
    int pty;          /* the console's pty (slave side) */
    int in_fd;        /* typed input to the guest, -1 for none */
    int out_fd;       /* where the guest's output goes */
    int stop_fd;      /* readable: stop (and drain what is queued first); -1 none */
    bool escape;      /* CONSOLE_ESCAPE on in_fd detaches */
};

/* Waits (watch, timeout_ms) for the domain's console/tty (CONSOLE_PV),
 * serial/0/tty (CONSOLE_SERIAL: type = "hvm", COM1 of the PC), or the PV
 * one if the domain has a console/ directory, else the serial one
 * (CONSOLE_ANY), and opens it. Returns the fd or -1 (message printed). */
enum console_type { CONSOLE_ANY, CONSOLE_PV, CONSOLE_SERIAL };
int console_open(struct xs_handle *xs, unsigned domid, enum console_type type, int timeout_ms);

/* Copies until the pty hangs up (tandem-consoled closes it when the domain
 * is gone and its output was read), the escape, or stop_fd. */
enum relay_end console_relay_run(const struct console_relay *r);

/* `tandem console` / `create -c`: raw terminal, Ctrl-] detaches. 0, or 1
 * on failure. */
int console_attach(struct xs_handle *xs, unsigned domid, enum console_type type);

/* `tandem run`: a thread that waits for the domain's console and relays
 * it to stdout (stdin to the guest) for one VMM's life. */
struct console_follow;
/* uuid: the domain's; a pty consoled kept for an ended domain of the
 * same domid is not taken for it. */
struct console_follow *console_follow_start(unsigned domid, const char *uuid);

/* The VMM has exited: waits up to grace_ms for tandem-consoled to hand over
 * the last output and close the pty, then stops the relay. NULL is fine. */
void console_follow_stop(struct console_follow *f, int grace_ms);

#endif

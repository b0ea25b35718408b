/* Client side of tandem-vmm's control socket (docs/control-socket.md):
 * one request line, one reply line ("OK k=v ..." or "ERR NAME message"). */
#ifndef TANDEM_DOM0_CTL_H
#define TANDEM_DOM0_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTL_REPLY_MAX 1024
#define CTL_TIMEOUT_MS 5000

/* Connects to rundir/domN.ctl. Returns the fd or -1 (errno set). */
int ctl_connect(unsigned domid);

/* Sends `request` and reads the reply line into reply. Returns 0 for OK,
 * -1 for ERR or a transport failure (reply holds the reason). Any fds that
 * come with the reply are closed: no verb here needs them. */
int ctl_call(int fd, const char *request, char *reply, size_t len);

/* Connect + call + close. */
int ctl_request(unsigned domid, const char *request, char *reply, size_t len);

/* The value of `key` in an "OK k=v k=v" reply; false if absent. */
bool ctl_get(const char *reply, const char *key, char *out, size_t len);

/* The pid of the VMM behind a connected control socket (SO_PEERCRED). */
pid_t ctl_peer_pid(int fd);

#endif

/* The host's xenstored: found at rundir/xenstored/socket, started there if
 * none answers. Sets XENSTORED_PATH so that libxenstore talks to it. */
#ifndef TANDEM_DOM0_XSD_H
#define TANDEM_DOM0_XSD_H

#include <stdbool.h>

/* The socket path (caller frees). */
char *xsd_socket_path(void);

/* Points XENSTORED_PATH at our socket (unless the user set it) and says
 * whether a daemon answers there. Does not start one. */
bool xsd_available(void);

/* Makes sure a xenstored answers, starting one (detached, in its own
 * session) if needed. Returns 0 or -1 with a message printed. */
int xsd_ensure(void);

#endif

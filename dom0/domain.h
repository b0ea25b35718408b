/* Finding domains: by name or domid, from xenstore and from the VMMs'
 * control sockets (a domain is listed even if xenstored is down). */
#ifndef TANDEM_DOM0_DOMAIN_H
#define TANDEM_DOM0_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct xs_handle;

struct domain_info {
    unsigned domid;
    char name[CFG_NAME_MAX + 1];
    long mem_mib;
    long vcpus;
    char state[16];      /* running | paused | shutdown | crashed | ? */
    double cpu_seconds;  /* CPU time of the domain's VMM process */
    double uptime;       /* seconds since its VMM started (0 if unknown) */
    pid_t pid;           /* the VMM, 0 if unknown */
    char uuid[37];
    char preserved[16];  /* on_*=preserve: how it ended ("crash", ...), else "" */
};

/* DOM is a domid or a name. Returns 0 with *domid, or -1 (message printed). */
int domain_resolve(struct xs_handle *h, const char *dom, unsigned *domid);

/* Fills what is known about one domain; false if it does not exist. */
bool domain_query(struct xs_handle *h, unsigned domid, struct domain_info *out);

/* Every guest domain (domid >= 1), sorted by domid. */
size_t domain_list(struct xs_handle *h, struct domain_info *out, size_t max);

/* Whether a VMM answers on domN.ctl. */
bool domain_ctl_alive(unsigned domid);

#endif

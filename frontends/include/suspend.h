/*
 * The toolstack's requests through control/shutdown (Xen's protocol):
 * "poweroff"/"halt", "reboot" and "suspend". A suspend quiesces xenstore,
 * calls SCHEDOP_shutdown(SHUTDOWN_suspend) and, when that returns 0 (the
 * domain was saved and this is the restored one, under a new domid),
 * rebuilds what the new domain lacks — shared_info and vcpu_info, every
 * event channel, the grant frames, the xenstore connection and its
 * watches, the timer — and then calls every resume hook, in registration
 * order, on the xenbus thread: frontends reconnect there. A return of 1
 * means the save was cancelled and the old domain carries on.
 */
#ifndef TANDEM_GUEST_SUSPEND_H
#define TANDEM_GUEST_SUSPEND_H

#include <stdbool.h>
#include <stdint.h>

/* Caller-owned (static or in a driver's struct), zeroed before use. */
struct resume_hook {
    void (*fn)(void *arg);      /* runs in the new domain, thread context */
    void *arg;
    struct resume_hook *next;
};

void suspend_add_resume_hook(struct resume_hook *h, void (*fn)(void *arg), void *arg);
void suspend_remove_resume_hook(struct resume_hook *h);

/* Watches control/shutdown (needs xenbus). 0 or -errno. Advertises
 * control/feature-suspend once it works. */
int control_start(void);
/* True once the watch on control/shutdown is registered. */
bool control_ready(void);
/* Waits for that until deadline (system time, 0 = none): control_ready(). */
bool control_wait_ready(uint64_t deadline);

/* Times this guest resumed in a new domain (tests, apps). */
unsigned int suspend_resumes(void);
/* Sleeps until suspend_resumes() differs from seen; returns it. */
unsigned int suspend_wait_resume(unsigned int seen);

#endif

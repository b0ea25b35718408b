/*
 * Guest applications, picked with `app=NAME` on the command line.  An app
 * runs in the kernel's main thread; its return value decides how the
 * domain ends: 0 = poweroff, anything else = crash.  To add one: write
 * frontends/apps/NAME.c with `int app_NAME(const struct cmdline *)`,
 * declare it here and add it to the table in frontends/apps/apps.c.
 */
#ifndef TANDEM_GUEST_APPS_H
#define TANDEM_GUEST_APPS_H

#include <stdbool.h>

#include "cmdline.h"

struct app {
    const char *name;
    int (*main)(const struct cmdline *cl);
    const char *help;
    /* The app reads xenstore watch events itself (xs_read_watch): the
     * kernel then leaves control/shutdown alone (one reader of events). */
    bool own_watches;
};

const struct app *app_find(const char *name);
void app_list(void); /* prints the table */

int app_hello(const struct cmdline *cl);
int app_crash(const struct cmdline *cl);
int app_timer(const struct cmdline *cl);
int app_idle(const struct cmdline *cl);
int app_spin(const struct cmdline *cl);
int app_smp(const struct cmdline *cl);
int app_evtchn(const struct cmdline *cl);
int app_xenstore(const struct cmdline *cl);
int app_echo(const struct cmdline *cl);
int app_xenbus_selftest(const struct cmdline *cl);
int app_modules(const struct cmdline *cl);

#endif

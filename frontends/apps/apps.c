/* The table of apps selectable with `app=NAME` (see apps.h). */
#include "apps.h"
#include "kernel.h"

/* Issue 4 event-channel / grant test apps (declared here, not in apps.h). */
int app_pingpong(const struct cmdline *cl);
int app_granttest(const struct cmdline *cl);
int app_flood(const struct cmdline *cl);
/* Issue 5 block-device apps (frontends/apps/blk*.c). */
int app_blkverify(const struct cmdline *cl);
int app_blkbench(const struct cmdline *cl);
int app_blkhostile(const struct cmdline *cl);
/* Issue 11 network apps (frontends/apps/net*.c). */
int app_netecho(const struct cmdline *cl);
int app_netbench(const struct cmdline *cl);
int app_nethostile(const struct cmdline *cl);

static const struct app apps[] = {
    { "hello", app_hello, "print domain id, memory and vCPUs, power off", false },
    { "modules", app_modules, "list start_info's boot modules (FDT, ramdisk) with a checksum each", false },
    { "crash", app_crash, "fault on purpose: the domain ends as crashed", false },
    { "timer", app_timer, "check 10 ms / 100 ms / 1 s sleeps against the TSC", false },
    { "idle", app_idle, "wait for control/shutdown in xenstore (poweroff, reboot, suspend)", false },
    { "spin", app_spin, "spin n=N iterations and time them", false },
    { "smp", app_smp, "run a thread on every vCPU", false },
    { "xenstore", app_xenstore, "write, read, watch and remove a key under data/", true },
    { "echo", app_echo, "echo console input lines until 'quit'", false },
    { "evtchn", app_evtchn, "loopback event channel: send, notify, mask/unmask, close", false },
    { "xenbus-selftest", app_xenbus_selftest, "xenbus + grant tables against xenstored (tests/integration/xenbus_selftest.sh is dom0)", false },
    { "pingpong", app_pingpong, "event-channel ping-pong with a dom0 program (n=N)", true },
    { "granttest", app_granttest, "grant pages to dom0 for drivers/grant_check", false },
    { "flood", app_flood, "flood xenstore or doorbells on command (mode=xenstore|doorbell|spin)", true },
    { "blkverify", app_blkverify, "write/check self-verifying blocks on dev=xvda (mode=write|check; wait-ms=, hold=1 for hotplug)", false },
    { "blkbench", app_blkbench, "block benchmark: pattern=randread|randwrite|read|write bs= qd= seconds=", false },
    { "blkhostile", app_blkhostile, "malformed requests on the ring must each get an error", false },
    { "netecho", app_netecho, "answer ping and echo UDP on port 7 (seconds=S, else until destroyed; wait-ms= for hotplug)", false },
    { "nethostile", app_nethostile, "malformed TX requests: each answered or fatal as netback's rules say (mode=all|nonfatal|fatal)", false },
    { "netbench", app_netbench, "UDP benchmark: mode=udp-stream|udp-pingpong peer=IP size= seconds=", false },
};

const struct app *app_find(const char *name)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(apps); i++)
        if (strcmp(apps[i].name, name) == 0)
            return &apps[i];
    return NULL;
}

void app_list(void)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(apps); i++)
        printk("  app=%-6s %s\n", apps[i].name, apps[i].help);
}
